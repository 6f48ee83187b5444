//! The local schema, versioned with SQLite's `user_version`. Each entry of [`MIGRATIONS`] runs
//! once, in order, in the transaction that bumps the version.

/// Migrations in order; the store's schema version is the number applied.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
create table tablet_profile (
    id integer primary key check (id = 1),
    -- Automerge actor of every change this tablet makes, so history names one device.
    device_actor blob not null,
    server_url text,
    logged_in_at integer,
    index_document_id text,
    last_sync_at integer
);

create table documents (
    id text primary key,              -- bs58check document id, as in automerge: URLs
    kind text not null check (kind in ('job', 'technician_index')),
    snapshot blob not null,           -- a full Automerge save
    -- JSON list of hex change hashes the server is known to hold: changes after them are pending.
    server_heads text not null default '[]',
    updated_at integer not null
);

-- Incremental saves appended after the snapshot; compacted into it once they pile up.
create table document_chunks (
    seq integer primary key autoincrement,
    document_id text not null references documents (id) on delete cascade,
    bytes blob not null
);
create index document_chunks_by_document on document_chunks (document_id, seq);

-- Automerge sync state per server and document (the sync engine's, opaque here).
create table sync_states (
    server_url text not null,
    document_id text not null references documents (id) on delete cascade,
    state blob not null,
    updated_at integer not null,
    primary key (server_url, document_id)
);

create table pending_uploads (
    id integer primary key,
    job_id text not null,
    kind text not null check (kind in ('signature', 'feedback_card', 'cleanup')),
    sha256 text not null,
    content_type text not null,
    size integer not null,
    file text not null,               -- relative to the home directory
    state text not null default 'queued' check (state in ('queued', 'uploading', 'uploaded')),
    upload_url text,                  -- the tus upload resource, once created
    upload_offset integer not null default 0,
    created_at integer not null,
    updated_at integer not null,
    unique (job_id, kind, sha256)
);

create table events (
    id integer primary key,
    at integer not null,
    job_id text,
    kind text not null,
    detail text
);
"#,
    // 2: an upload the server refused for good (unreadable image, wrong type) stops being retried;
    // it keeps the server's reason so the technician knows what to retake. SQLite cannot alter a
    // check constraint, so the table is rebuilt.
    r#"
create table pending_uploads_v2 (
    id integer primary key,
    job_id text not null,
    kind text not null check (kind in ('signature', 'feedback_card', 'cleanup')),
    sha256 text not null,
    content_type text not null,
    size integer not null,
    file text not null,               -- relative to the home directory
    state text not null default 'queued'
        check (state in ('queued', 'uploading', 'uploaded', 'refused')),
    upload_url text,                  -- the tus upload resource, once created
    upload_offset integer not null default 0,
    refusal text,                     -- the server's reason, when state = 'refused'
    created_at integer not null,
    updated_at integer not null,
    unique (job_id, kind, sha256)
);
insert into pending_uploads_v2
    (id, job_id, kind, sha256, content_type, size, file, state, upload_url, upload_offset,
     created_at, updated_at)
select id, job_id, kind, sha256, content_type, size, file, state, upload_url, upload_offset,
       created_at, updated_at
from pending_uploads;
drop table pending_uploads;
alter table pending_uploads_v2 rename to pending_uploads;
"#,
];
