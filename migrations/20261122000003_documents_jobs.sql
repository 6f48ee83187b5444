-- Automerge documents (a snapshot plus incremental chunks), the jobs projected from them, and
-- what the sync server remembers per device.

create table documents (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    kind text not null check (kind in ('job', 'technician_index')),
    -- Automerge `save()` output; chunks after `snapshot_seq` are applied on top of it.
    snapshot bytea not null,
    snapshot_seq bigint not null default 0,
    last_seq bigint not null default 0,
    chunk_bytes bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table document_chunks (
    document_id uuid not null references documents (id) on delete cascade,
    seq bigint not null,
    data bytea not null,
    received_at timestamptz not null default now(),
    primary key (document_id, seq)
);

-- One row per Automerge change, with the person behind it and both clocks: the job's history.
create table document_changes (
    document_id uuid not null references documents (id) on delete cascade,
    hash bytea not null,
    actor text not null,
    staff_id uuid references staff (id),
    device_token_id uuid references device_tokens (id),
    device_time timestamptz,
    server_time timestamptz not null default now(),
    message text,
    primary key (document_id, hash)
);
create index document_changes_time on document_changes (document_id, server_time);

create table jobs (
    id uuid primary key references documents (id),
    organisation_id uuid not null references organisations (id),
    customer_id uuid references customers (id),
    kind text not null,
    technician_id uuid references staff (id),
    from_complaint boolean not null default false,
    status text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    confirmed boolean not null default false,
    complete boolean not null default false,
    review_flags jsonb not null default '[]',
    missing jsonb not null default '[]',
    evidence jsonb not null default '{}',
    cancelled_at timestamptz,
    archived_at timestamptz,
    device_updated_at timestamptz,
    server_updated_at timestamptz not null default now(),
    created_at timestamptz not null default now()
);
create index jobs_board on jobs (organisation_id, window_start);
create index jobs_technician on jobs (technician_id, window_start);

-- Everyone who was ever assigned a job: a technician keeps reading a job reassigned away from
-- them, so offline work they recorded still reaches the server.
create table job_assignments (
    job_id uuid not null references jobs (id),
    technician_id uuid not null references staff (id),
    assigned_at timestamptz not null default now(),
    unassigned_at timestamptz,
    primary key (job_id, technician_id)
);
create index job_assignments_technician on job_assignments (technician_id);

create table technician_indexes (
    technician_id uuid primary key references staff (id),
    document_id uuid not null unique references documents (id)
);

-- The server's Automerge sync state per device and document, so a reconnect that is already in
-- sync costs a couple of small messages.
create table sync_states (
    device_token_id uuid not null references device_tokens (id) on delete cascade,
    document_id uuid not null references documents (id) on delete cascade,
    state bytea not null,
    updated_at timestamptz not null default now(),
    primary key (device_token_id, document_id)
);

-- The fleet view: what each device last did.
create table device_activity (
    device_token_id uuid primary key references device_tokens (id) on delete cascade,
    peer_id text,
    protocol text,
    last_connected_at timestamptz,
    last_disconnected_at timestamptz,
    last_synced_at timestamptz,
    pending_changes integer,
    pending_uploads integer,
    reported_at timestamptz
);
