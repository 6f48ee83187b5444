-- Each running server instance and its heartbeat. A lease on an upload (a PATCH streaming, or
-- a finished upload being verified and stored) names the instance that holds it; a lease whose
-- instance stopped beating is free, so a crash costs seconds, not the lease's full length.
create table server_instances (
    id uuid primary key,
    started_at timestamptz not null default now(),
    heartbeat_at timestamptz not null default now()
);

alter table uploads add column lease_instance uuid;
