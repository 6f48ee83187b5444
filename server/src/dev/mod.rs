//! `fieldsync-server dev`: the embedded default. A private PostgreSQL cluster and an in-process
//! S3 endpoint under the data directory, migrations, demo data seeded once, then the server.
//! Ctrl-C or SIGTERM stops the server, the endpoint and the cluster, in that order.

mod banner;
pub mod demo;
mod secrets;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::PgPool;

use crate::blob::{BlobStore, ObjectStorageConfig};
use crate::config::DevArgs;
use crate::embedded::{ClusterOptions, Durability, ObjectStoreServer, OsUser, PostgresCluster};
use crate::{AppState, api, db, shutdown_signal};

/// The database dev mode keeps its data in, beside the cluster's default `postgres` one.
const DATABASE: &str = "fieldsync";
const BUCKET: &str = "fieldsync";

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let dir = prepare_data_dir(&args.data_dir)?;
    let secrets = secrets::DevSecrets::load_or_create(&dir.join("secrets.json"))?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let base_url = format!("http://{}", listener.local_addr()?);

    let options = ClusterOptions {
        durability: Durability::Durable,
        password: secrets.postgres_password.clone(),
        run_as: postgres_account(&args.pg_user)?,
        bin_dir: args.pg_bin_dir.clone(),
    };
    let cluster_root = dir.join("postgres");
    let cluster = tokio::task::spawn_blocking(move || {
        let mut cluster = PostgresCluster::init(&cluster_root, options)?;
        cluster.start()?;
        Ok::<_, crate::embedded::ClusterError>(cluster)
    })
    .await??;
    tracing::info!(port = cluster.port(), "private PostgreSQL cluster started");

    let objects = ObjectStoreServer::start(
        &dir.join("objects"),
        ([127, 0, 0, 1], 0).into(),
        &secrets.object_storage,
    )
    .await
    .context("starting the in-process S3 endpoint")?;
    let blobs = BlobStore::connect(&ObjectStorageConfig {
        endpoint: Some(objects.endpoint()),
        bucket: BUCKET.to_owned(),
        region: "us-east-1".to_owned(),
        credentials: Some(secrets.object_storage.clone()),
    })
    .await?;
    blobs.create_bucket_if_missing().await?;

    let db = open_database(&cluster).await?;
    let mut state = AppState::new(db.clone(), blobs);
    // A developer's webhook receiver runs on this machine.
    state.webhooks.allow_private_targets = true;
    state.rates = crate::auth::RateLimiter::new(args.rates.settings());
    state.documents = crate::documents::Documents::new(db.clone(), args.cache.limits());
    let demo = demo::ensure(&state, &dir.join("demo.json"), &base_url).await?;
    banner::print(&demo, &dir, &objects.endpoint());

    api::serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    objects.shutdown().await;
    tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        cluster.stop()
    })
    .await??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Creates the directory; others may pass through it (PostgreSQL runs as another account when
/// we are root) but not list it.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
        .with_context(|| format!("setting permissions of {}", dir.display()))?;
    dir.canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))
}

fn postgres_account(name: &str) -> anyhow::Result<Option<OsUser>> {
    if !OsUser::running_as_root() {
        return Ok(None);
    }
    let user = OsUser::lookup(name).context("reading /etc/passwd")?;
    user.map(Some).with_context(|| {
        format!(
            "PostgreSQL refuses to run as root and there is no `{name}` account to run it as: install Debian's postgresql package or pass --pg-user"
        )
    })
}

async fn open_database(cluster: &PostgresCluster) -> anyhow::Result<PgPool> {
    let admin = db::connect(&cluster.url("postgres"), 1).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(DATABASE)
            .fetch_one(&admin)
            .await?;
    if !exists {
        sqlx::query("create database fieldsync")
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    let pool = db::connect(&cluster.url(DATABASE), 10).await?;
    db::migrate(&pool).await?;
    Ok(pool)
}
