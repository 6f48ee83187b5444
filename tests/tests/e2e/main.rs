//! End-to-end tests: the real server over real HTTP, on a real PostgreSQL and S3 endpoint.
//! One binary, so the whole run shares one throwaway PostgreSQL cluster.

mod auth;
mod cli;
mod dev_mode;
mod health;
mod support;
