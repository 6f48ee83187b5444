-- Customers and their current tier; the history of tiers per period comes with the revisit policy.
create table customers (
    id uuid primary key,
    organisation_id uuid not null references organisations (id),
    name text not null check (length(name) between 1 and 200),
    phone text check (length(phone) <= 50),
    address text not null check (length(address) between 1 and 500),
    tier text not null default 'regular' check (tier in ('key', 'regular', 'prospect')),
    created_at timestamptz not null default now()
);
create index customers_organisation on customers (organisation_id, name);
