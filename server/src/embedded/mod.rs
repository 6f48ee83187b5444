//! Services the server can run for itself: a private PostgreSQL cluster made with the machine's
//! PostgreSQL binaries, and an S3 endpoint in process. `fieldsync-server dev` and the test
//! harness use them, so every environment runs the same sqlx and aws-sdk-s3 code paths.

mod os_user;
pub mod postgres;
pub mod s3;

pub use os_user::OsUser;
pub use postgres::{ClusterError, ClusterOptions, Durability, PostgresCluster};
pub use s3::{ObjectStoreServer, S3Credentials};
