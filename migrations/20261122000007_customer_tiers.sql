-- Customer tiers follow from the data of a statistical period (spend and completed jobs), never
-- from someone's judgement; every period's result is kept (档案每年至少调整一次，调整目录也要保存).

alter table jobs add column payment_due_minor bigint;

create table tier_rules (
    organisation_id uuid primary key references organisations (id),
    key_min_spend_minor bigint not null default 1000000 check (key_min_spend_minor > 0),
    key_min_jobs integer not null default 10 check (key_min_jobs > 0),
    regular_min_jobs integer not null default 1 check (regular_min_jobs > 0)
);

create table customer_tiers (
    customer_id uuid not null references customers (id),
    organisation_id uuid not null references organisations (id),
    period text not null check (period ~ '^[0-9]{4}$'),
    tier text not null check (tier in ('key', 'regular', 'prospect')),
    spend_minor bigint not null,
    completed_jobs integer not null,
    computed_at timestamptz not null default now(),
    primary key (customer_id, period)
);
