//! Configuration from flags and environment. Secrets are accepted from the environment and
//! never appear in `Debug` output, `--help` or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

use crate::blob::ObjectStorageConfig;
use crate::embedded::S3Credentials;
use crate::telemetry::LogFormat;

/// A value that must not be shown: a password, a secret key, a URL carrying a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// `fieldsync-server`: the Fieldsync sync server.
#[derive(Debug, Parser)]
#[command(name = "fieldsync-server", version, about)]
pub struct Cli {
    /// How log lines are written (filter them with RUST_LOG).
    #[arg(
        long,
        env = "FIELDSYNC_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve against an external PostgreSQL and S3-compatible object store (production).
    Serve(ServeArgs),
    /// Run on the embedded default: a private PostgreSQL cluster and an in-process S3
    /// endpoint under the data directory, with demo data.
    Dev(DevArgs),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Operator tasks on the database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// What an operator does outside the console.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organisation and its first admin; prints the one-time link (valid 72 h) at
    /// which the admin sets their console password.
    CreateOrganisation(CreateOrganisationArgs),
}

#[derive(Debug, Args)]
pub struct CreateOrganisationArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The organisation's name.
    #[arg(long)]
    pub name: String,
    /// The first admin's name.
    #[arg(long)]
    pub admin: String,
    /// The first admin's e-mail, with which they sign in.
    #[arg(long)]
    pub email: String,
    /// The address staff reach the server at, for the link (e.g. https://fieldsync.example.com).
    #[arg(long = "public-url", env = "FIELDSYNC_PUBLIC_URL")]
    pub public_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FIELDSYNC_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory for local scratch files (upload staging).
    #[arg(long, env = "FIELDSYNC_DATA_DIR", default_value = ".fieldsync")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Allow webhook endpoints on private and loopback addresses (off in production: SSRF).
    #[arg(long, env = "FIELDSYNC_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,
    #[command(flatten)]
    pub rates: RateArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// A token `GET /metrics` must be called with (`Authorization: Bearer`); without it the
    /// metrics are open to whoever reaches the server.
    #[arg(long, env = "FIELDSYNC_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
}

/// Per-device request rates, for `serve` and `dev` alike.
#[derive(Debug, Clone, Copy, Args)]
pub struct RateArgs {
    /// Requests (and sync messages) per second one device may make, sustained; over it HTTP
    /// answers 429 with Retry-After and sync messages are read more slowly. Per instance.
    #[arg(long, env = "FIELDSYNC_RATE_PER_SECOND", default_value_t = 50.0,
          value_parser = positive_rate)]
    pub rate_per_second: f64,
    /// How many requests one device may make at once after a quiet spell.
    #[arg(long, env = "FIELDSYNC_RATE_BURST", default_value_t = 300.0, value_parser = positive_rate)]
    pub rate_burst: f64,
}

/// How many documents one instance keeps in memory, for `serve` and `dev` alike.
#[derive(Debug, Clone, Copy, Args)]
pub struct CacheArgs {
    /// Documents kept in memory at most (the jobs being synced, each with its last read:
    /// about 50 KiB per job at 50 edits, 260 KiB at 300; see docs/BENCHMARKS.md).
    #[arg(long, env = "FIELDSYNC_DOCUMENT_CACHE", default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub document_cache: u32,
    /// Seconds an unused document stays in memory.
    #[arg(long, env = "FIELDSYNC_DOCUMENT_CACHE_IDLE_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub document_cache_idle_seconds: u32,
}

impl CacheArgs {
    pub fn limits(self) -> crate::documents::CacheLimits {
        crate::documents::CacheLimits {
            capacity: self.document_cache as usize,
            idle: std::time::Duration::from_secs(self.document_cache_idle_seconds.into()),
        }
    }
}

impl RateArgs {
    pub fn settings(self) -> crate::auth::RateSettings {
        crate::auth::RateSettings {
            per_second: self.rate_per_second,
            burst: self.rate_burst,
        }
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 1.0 => Ok(value),
        _ => Err(format!("`{text}` is not a number of at least 1")),
    }
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL, e.g. postgres://user:password@host:5432/fieldsync.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub url: Secret,
    /// Upper bound of the connection pool.
    #[arg(
        long = "database-max-connections",
        env = "FIELDSYNC_DATABASE_MAX_CONNECTIONS",
        default_value_t = 20
    )]
    pub max_connections: u32,
}

#[derive(Debug, Args)]
pub struct StorageArgs {
    /// S3-compatible endpoint URL (MinIO, Garage, Ceph); omit for AWS S3.
    #[arg(long = "s3-endpoint", env = "FIELDSYNC_S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Bucket holding attachments.
    #[arg(
        long = "s3-bucket",
        env = "FIELDSYNC_S3_BUCKET",
        default_value = "fieldsync"
    )]
    pub bucket: String,
    /// Region of the bucket.
    #[arg(long = "s3-region", env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Access key id; with AWS_SECRET_ACCESS_KEY. Without both, the AWS default chain applies.
    #[arg(
        long = "s3-access-key-id",
        env = "AWS_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub access_key_id: Option<String>,
    #[arg(
        long = "s3-secret-access-key",
        env = "AWS_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub secret_access_key: Option<Secret>,
}

impl StorageArgs {
    /// The object-store settings, refusing half-given credentials.
    pub fn to_config(&self) -> anyhow::Result<ObjectStorageConfig> {
        let credentials = match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => Some(S3Credentials {
                access_key_id: id.clone(),
                secret_access_key: secret.expose().to_owned(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                anyhow::bail!("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both")
            }
            (None, Some(_)) => {
                anyhow::bail!("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both")
            }
        };
        Ok(ObjectStorageConfig {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            credentials,
        })
    }
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where the cluster, the objects, the secrets and demo.json live.
    #[arg(long, env = "FIELDSYNC_DATA_DIR", default_value = ".fieldsync")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "FIELDSYNC_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The unprivileged account PostgreSQL runs as when this runs as root.
    #[arg(long, env = "FIELDSYNC_PG_USER", default_value = "postgres")]
    pub pg_user: String,
    /// Directory of initdb and postgres; found under /usr/lib/postgresql when omitted.
    #[arg(long, env = "FIELDSYNC_PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,
    #[command(flatten)]
    pub rates: RateArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}
