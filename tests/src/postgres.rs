//! PostgreSQL for tests: one throwaway cluster per test process, a fresh database per test.
//!
//! The cluster is made with the server's own embedded-cluster code (tuned for speed: no fsync),
//! started on first use, and stops by itself when the test process exits, however it exits.
//! With `DATABASE_URL` set, that server is used instead (the role must be allowed to create
//! databases).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use fieldsync_server::embedded::{ClusterOptions, Durability, OsUser, PostgresCluster};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

const TEMPLATE: &str = "fieldsync_template";

struct Shared {
    admin_url: String,
    _cluster: Option<Mutex<PostgresCluster>>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// A database of its own for one test, migrated to the current schema.
#[derive(Debug)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

/// A cluster of the test's own (it may stop and start it) with a migrated database, for tests
/// of what happens while PostgreSQL is away; `name` marks its directory.
pub async fn own_cluster(name: &str) -> (PostgresCluster, TestDatabase) {
    let root = test_root().join(format!("{name}-{}", Uuid::new_v4().simple()));
    let cluster = tokio::task::spawn_blocking(move || private_cluster(&root))
        .await
        .expect("starting a private cluster");
    let url = cluster.url("postgres");
    let pool = connect(&url, 3).await;
    fieldsync_server::db::migrate(&pool)
        .await
        .expect("migrating the private cluster");
    let database = TestDatabase {
        name: "postgres".into(),
        url,
        pool,
    };
    (cluster, database)
}

/// Stops `cluster` (fast shutdown) off the async runtime, and hands it back.
pub async fn stop_cluster(mut cluster: PostgresCluster) -> PostgresCluster {
    tokio::task::spawn_blocking(move || {
        cluster.stop().expect("stopping PostgreSQL");
        cluster
    })
    .await
    .expect("stopping PostgreSQL")
}

/// Starts `cluster` again off the async runtime, and hands it back.
pub async fn start_cluster(mut cluster: PostgresCluster) -> PostgresCluster {
    tokio::task::spawn_blocking(move || {
        cluster.start().expect("starting PostgreSQL");
        cluster
    })
    .await
    .expect("starting PostgreSQL")
}

/// Makes a fresh database from the migrated template.
pub async fn fresh_database() -> TestDatabase {
    let admin_url = tokio::task::spawn_blocking(|| shared().admin_url.clone())
        .await
        .expect("the shared cluster failed to start; see the panic above");
    let name = format!("t_{}", Uuid::new_v4().simple());
    let admin = connect(&admin_url, 1).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {name} template {TEMPLATE}"
    )))
    .execute(&admin)
    .await
    .expect("creating a test database");
    admin.close().await;
    let url = with_database(&admin_url, &name);
    // As many connections as a production instance (two are held by LISTEN workers).
    let pool = connect(&url, 20).await;
    TestDatabase { name, url, pool }
}

/// A cluster of the test's own, for tests that stop and start PostgreSQL.
pub fn private_cluster(root: &Path) -> PostgresCluster {
    let mut cluster = PostgresCluster::init(root, cluster_options()).expect("initdb");
    cluster.start().expect("starting a private cluster");
    cluster
}

/// Replaces the database of a `postgres://` URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut result = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

pub async fn connect(url: &str, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect(url)
        .await
        .expect("connecting to the test PostgreSQL")
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        // Set-up needs its own runtime, and a test's runtime must not be blocked from inside.
        std::thread::spawn(start_shared)
            .join()
            .expect("starting the shared test cluster")
    })
}

fn start_shared() -> Shared {
    let (admin_url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let root = test_root();
            let cluster = private_cluster(&root.join("postgres"));
            (cluster.url("postgres"), Some(Mutex::new(cluster)))
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime for set-up");
    runtime.block_on(make_template(&admin_url));
    Shared {
        admin_url,
        _cluster: cluster,
    }
}

async fn make_template(admin_url: &str) {
    let admin = connect(admin_url, 1).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {TEMPLATE} with (force)"
    )))
    .execute(&admin)
    .await
    .expect("dropping an old template");
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {TEMPLATE}")))
        .execute(&admin)
        .await
        .expect("creating the template database");
    let template = connect(&with_database(admin_url, TEMPLATE), 1).await;
    fieldsync_server::db::migrate(&template)
        .await
        .expect("migrating the template database");
    // A template must have no connections while databases are copied from it.
    template.close().await;
    admin.close().await;
}

pub(crate) fn cluster_options() -> ClusterOptions {
    let run_as = if OsUser::running_as_root() {
        let user = std::env::var("FIELDSYNC_PG_USER").unwrap_or_else(|_| "postgres".to_owned());
        Some(
            OsUser::lookup(&user)
                .expect("reading /etc/passwd")
                .unwrap_or_else(|| {
                    panic!("running as root: PostgreSQL needs the `{user}` account")
                }),
        )
    } else {
        None
    };
    ClusterOptions {
        durability: Durability::Throwaway,
        password: fieldsync_server::auth::random_text(16),
        run_as,
        bin_dir: std::env::var_os("FIELDSYNC_PG_BIN_DIR").map(PathBuf::from),
    }
}

/// A directory for this test process, reachable by the PostgreSQL account; directories left by
/// earlier processes that have ended are removed first.
pub fn test_root() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::temp_dir().join("fieldsync-tests");
    std::fs::create_dir_all(&base).expect("creating the test directory");
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711))
        .expect("opening the test directory to PostgreSQL");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.filter_map(Result::ok) {
            let owner_alive = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !owner_alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let root = base.join(std::process::id().to_string());
    std::fs::create_dir_all(&root).expect("creating the test directory");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))
        .expect("opening the test directory to PostgreSQL");
    root
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "t_1"),
            "postgres://u:p@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=require", "x"),
            "postgres://u:p@h:1/x?sslmode=require"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
