//! `fieldsync-server`: see `fieldsync-server --help`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use fieldsync_server::blob::BlobStore;
use fieldsync_server::config::{
    AdminCommand, Cli, Command, CreateOrganisationArgs, DatabaseArgs, ServeArgs,
};
use fieldsync_server::{AppState, api, db, dev, shutdown_signal, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, "info,sqlx=warn,aws_config=warn");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fieldsync-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the whole cause chain: what an operator reads first.
            eprintln!("fieldsync-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Dev(args) => dev::run(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Admin(AdminCommand::CreateOrganisation(args)) => create_organisation(args).await,
    }
}

async fn create_organisation(args: CreateOrganisationArgs) -> anyhow::Result<()> {
    let db = db::connect(args.database.url.expose(), 2).await?;
    db::migrate(&db).await?;
    let made = fieldsync_server::directory::bootstrap::create_organisation(
        &db,
        &args.name,
        &args.admin,
        &args.email,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The link first, alone on its line: what the operator hands to the admin.
    println!(
        "{}/console/invitation/{}",
        args.public_url.trim_end_matches('/'),
        made.invitation
    );
    eprintln!(
        "organisation {} created with admin {} ({}); the link above sets their password once, \
         within {} hours",
        made.organisation_id,
        args.admin,
        args.email,
        fieldsync_server::auth::invitation::LIFETIME.as_secs() / 3600
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let blobs = BlobStore::connect(&args.storage.to_config()?).await?;
    let db = db::connect(args.database.url.expose(), args.database.max_connections).await?;
    db::migrate(&db).await?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(address = %listener.local_addr()?, "fieldsync-server listening");
    let mut state = AppState::new(db.clone(), blobs);
    state.documents = fieldsync_server::documents::Documents::new(db, args.cache.limits());
    state.webhooks.allow_private_targets = args.allow_private_webhooks;
    if let Some(token) = &args.metrics_token {
        state.metrics = fieldsync_server::metrics::Metrics::guarded(token.expose());
    }
    state.rates = fieldsync_server::auth::RateLimiter::new(args.rates.settings());
    if args.allow_private_webhooks {
        tracing::warn!(
            "webhooks may target private and loopback addresses (--allow-private-webhooks)"
        );
    }
    api::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = db::connect(args.url.expose(), 2).await?;
    db::migrate(&db).await?;
    tracing::info!("migrations applied");
    Ok(())
}
