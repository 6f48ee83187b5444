-- The transactional outbox: events written in the same transaction as the projection change
-- that caused them, delivered afterwards (webhooks, the live feed). And the revisit queue.

create table outbox (
    id bigserial primary key,
    event_id uuid not null unique,
    organisation_id uuid not null references organisations (id),
    event_type text not null,
    job_id uuid references jobs (id),
    -- Makes an event exactly-once however often its cause is replayed (e.g. one completion).
    dedupe_key text not null unique,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    -- Set once the webhook deliveries for this event exist.
    fanned_out_at timestamptz
);
create index outbox_pending_fan_out on outbox (id) where fanned_out_at is null;
create index outbox_feed on outbox (organisation_id, id);

alter table jobs add column completions integer not null default 0;
alter table jobs add column completed_at timestamptz;

-- Revisit policy per organisation (defaults from the service rules).
create table revisit_policies (
    organisation_id uuid primary key references organisations (id),
    complaint_due_hours integer not null default 24 check (complaint_due_hours > 0),
    regular_due_hours integer not null default 72 check (regular_due_hours > 0),
    key_customer_extra_days integer not null default 30 check (key_customer_extra_days > 0)
);

create table revisit_tasks (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    job_id uuid not null references jobs (id),
    customer_id uuid references customers (id),
    reason text not null check (reason in ('completed_job', 'complaint', 'key_customer_scheduled')),
    due_at timestamptz not null,
    claimed_by uuid references staff (id),
    claimed_at timestamptz,
    created_at timestamptz not null default now(),
    unique (job_id, reason)
);
create index revisit_tasks_queue on revisit_tasks (organisation_id, due_at);

-- Outcomes are the archive (回访信息必须记录整理归档): appended, never edited or deleted.
create table revisit_outcomes (
    id uuid primary key,
    task_id uuid not null references revisit_tasks (id),
    organisation_id uuid not null references organisations (id),
    recorded_by uuid not null references staff (id),
    reached boolean not null,
    problem_solved boolean,
    satisfaction integer check (satisfaction between 1 and 5),
    suggestions text check (length(suggestions) <= 4000),
    notes text check (length(notes) <= 4000),
    recorded_at timestamptz not null default now()
);
create index revisit_outcomes_task on revisit_outcomes (task_id, recorded_at);

create function refuse_revisit_outcome_change() returns trigger language plpgsql as $$
begin
    raise exception 'revisit outcomes are append-only: record a new outcome instead';
end;
$$;
create trigger revisit_outcomes_append_only before update or delete on revisit_outcomes
    for each row execute function refuse_revisit_outcome_change();
