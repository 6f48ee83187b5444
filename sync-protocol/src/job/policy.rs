//! Who may write where: the field ownership table of the job document.
//!
//! | root key | technician | dispatcher | revisit caller | server |
//! |---|---|---|---|---|
//! | `schema_version` | no | no | no | yes |
//! | `kind`, `customer`, `complaint_origin`, `appointment`, `assignment`, `status` | no | yes | no | yes |
//! | `visit` (all evidence) | yes | no | no | yes |
//! | `timeline` | append new events | append new events | no | yes |
//! | any other key | no | no | no | yes |
//!
//! The timeline is append-only: inserting a new event map (and filling it in) is allowed,
//! editing, deleting or replacing existing events or the list itself is not, for anyone but the
//! server. The server is trusted: it creates documents and runs the dispatcher's operations, and
//! its changes never arrive through sync.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::schema::root;

/// Who made the changes being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Technician,
    Dispatcher,
    /// Revisit callers read completed jobs and never write them.
    RevisitCaller,
    Server,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Technician => "technician",
            Role::Dispatcher => "dispatcher",
            Role::RevisitCaller => "revisit caller",
            Role::Server => "server",
        })
    }
}

/// What a change did at one path, as far as ownership is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// A value was set (including replacing an object, or creating a conflicting value).
    Put,
    /// A key or list element was removed.
    Delete,
    /// Elements were inserted into a list.
    Insert,
    /// A text was edited (spliced, marked).
    EditText,
}

/// One write as the policy sees it.
#[derive(Debug)]
pub(crate) struct Write<'a> {
    /// Path segments from the root, e.g. `["visit", "signature", "signer_name"]`.
    pub(crate) segments: &'a [String],
    pub(crate) kind: WriteKind,
    /// The write fills in an object created by the same changes (a new timeline event).
    pub(crate) inside_new_object: bool,
    /// For inserts: every inserted value is a map (the shape of a timeline event).
    pub(crate) inserts_only_maps: bool,
}

/// Root keys a dispatcher owns.
const DISPATCHER_KEYS: [&str; 7] = [
    root::KIND,
    root::NUMBER,
    root::CUSTOMER,
    root::COMPLAINT_ORIGIN,
    root::APPOINTMENT,
    root::ASSIGNMENT,
    root::STATUS,
];

/// `Ok` when `role` may make `write`, else the reason, worded for the person refused.
pub(crate) fn permit(role: Role, write: &Write<'_>) -> Result<(), &'static str> {
    let key = write
        .segments
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    match role {
        Role::Server => Ok(()),
        Role::RevisitCaller => Err("revisit callers have read-only access to jobs"),
        Role::Technician | Role::Dispatcher if key == root::TIMELINE => timeline(write),
        Role::Technician if key == root::VISIT => Ok(()),
        Role::Dispatcher if DISPATCHER_KEYS.contains(&key) => Ok(()),
        Role::Technician if DISPATCHER_KEYS.contains(&key) => {
            Err("customer, appointment, assignment and status are set by the dispatcher")
        }
        Role::Dispatcher if key == root::VISIT => {
            Err("visit evidence is recorded by the technician on site, not by dispatch")
        }
        _ if key == root::SCHEMA_VERSION => Err("the schema version is set by the server"),
        _ => Err("this field is not part of the job document (schema version 1)"),
    }
}

fn timeline(write: &Write<'_>) -> Result<(), &'static str> {
    if write.segments.len() == 1 {
        return Err("the timeline cannot be replaced or deleted");
    }
    let append =
        write.segments.len() == 2 && write.kind == WriteKind::Insert && write.inserts_only_maps;
    if append || write.inside_new_object {
        Ok(())
    } else {
        Err("timeline events are append-only: add a new event instead of changing one")
    }
}
