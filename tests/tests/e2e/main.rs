//! End-to-end tests: the real server over real HTTP, on a real PostgreSQL and S3 endpoint.
//! One binary, so the whole run shares one throwaway PostgreSQL cluster.

// Tests fail by panicking; `unwrap` on what cannot go wrong in a working system is the point.
#![allow(clippy::unwrap_used)]

mod auth;
mod bad_input;
mod cli;
mod completion;
mod console;
mod dev_mode;
mod directory;
mod document_cache;
mod durability;
mod evidence;
mod field_sync;
mod group_commit;
mod health;
mod jobs;
mod openapi;
mod support;
mod sync_js;
mod sync_rules;
mod tablet_screen;
mod tiers;
mod uploads;
mod webhooks;
