-- Resumable uploads (tus 1.0) and the attachments they become. Objects are content addressed:
-- one object per SHA-256 however many jobs or tablets reference it.

create table uploads (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    job_id uuid not null references jobs (id),
    uploaded_by uuid not null references staff (id),
    device_token_id uuid not null references device_tokens (id),
    kind text not null check (kind in ('signature', 'feedback_card', 'cleanup', 'other')),
    content_type text not null,
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    length bigint not null check (length > 0),
    received bigint not null default 0 check (received between 0 and length),
    -- Bytes received but not yet sent to object storage as a multipart part (< part size).
    pending bytea not null default ''::bytea,
    multipart_id text,
    parts jsonb not null default '[]',
    state text not null default 'receiving'
        check (state in ('receiving', 'complete', 'failed', 'terminated')),
    failure text,
    -- Only one PATCH at a time: a request holds the lease while it streams.
    lease_until timestamptz,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    completed_at timestamptz
);
create index uploads_expiry on uploads (expires_at) where state = 'receiving';

-- Verified objects in the bucket, keyed by content.
create table blobs (
    sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint not null,
    content_type text not null,
    width integer,
    height integer,
    has_derivatives boolean not null default false,
    stored_at timestamptz not null default now()
);

-- What a job references: evidence whose bytes are stored and verified.
create table attachments (
    job_id uuid not null references jobs (id),
    sha256 text not null references blobs (sha256),
    organisation_id uuid not null references organisations (id),
    kind text not null check (kind in ('signature', 'feedback_card', 'cleanup', 'other')),
    uploaded_by uuid not null references staff (id),
    created_at timestamptz not null default now(),
    primary key (job_id, sha256)
);
