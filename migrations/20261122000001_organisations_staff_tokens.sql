-- Tenants, their staff, and the staff's device tokens (kept only as SHA-256 hashes).
create table organisations (
    id uuid primary key,
    name text not null check (length(name) between 1 and 200),
    created_at timestamptz not null default now()
);

create table staff (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    name text not null check (length(name) between 1 and 200),
    role text not null check (role in ('admin', 'dispatcher', 'technician', 'revisit')),
    created_at timestamptz not null default now(),
    disabled_at timestamptz
);
create index staff_organisation on staff (organisation_id);

create table device_tokens (
    id uuid primary key,
    staff_id uuid not null references staff (id),
    device_name text not null check (length(device_name) between 1 and 200),
    token_hash bytea not null unique check (length(token_hash) = 32),
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
create index device_tokens_staff on device_tokens (staff_id);
