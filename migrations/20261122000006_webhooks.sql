-- Webhook endpoints per organisation and one delivery row per (endpoint, outbox event): the
-- delivery worker claims due rows with SKIP LOCKED plus a lease, so the HTTP call holds no
-- transaction and two instances never send the same attempt.

create table webhook_endpoints (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    url text not null check (length(url) <= 2048),
    description text check (length(description) <= 500),
    events text[] not null check (cardinality(events) > 0),
    -- `whsec_<base64>`: needed in clear to sign, so kept as is; never logged.
    secret text not null,
    enabled boolean not null default true,
    -- Why it was disabled (by an admin, or because the endpoint answered 410 Gone).
    disabled_reason text,
    disabled_at timestamptz,
    created_at timestamptz not null default now()
);
create index webhook_endpoints_organisation on webhook_endpoints (organisation_id, created_at);

create table webhook_deliveries (
    id bigserial primary key,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    outbox_id bigint not null references outbox (id),
    -- pending: waiting for its next attempt; delivered: a 2xx was received; dead: the last
    -- scheduled attempt failed or the endpoint answered 410 (replay makes it pending again).
    state text not null default 'pending' check (state in ('pending', 'delivered', 'dead')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    -- A worker holds the attempt until then; only the holder of `lease_id` records its outcome.
    leased_until timestamptz,
    lease_id uuid,
    last_status_code integer,
    last_error text,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    -- Fan-out may run twice for one event (a crash before commit): never two deliveries.
    unique (endpoint_id, outbox_id)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_log on webhook_deliveries (endpoint_id, id desc);
