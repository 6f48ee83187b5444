-- The office console's settings and numbers.

-- The organisation's clock for its screens (the board's day, the times shown), as an offset
-- from UTC such as +08:00. Null: the browser's offset, else China Standard Time.
alter table organisations add column utc_offset text
    check (utc_offset is null or utc_offset ~ '^[+-](0[0-9]|1[0-4]):[0-5][0-9]$');

-- A short job number for people (FS-2026-00042): per organisation and year of booking, in
-- booking order. The counter row is locked while a number is taken, so numbers are never
-- shared and have no gaps but for a booking that rolled back.
create table job_number_counters (
    organisation_id uuid not null references organisations (id),
    year integer not null,
    last integer not null,
    primary key (organisation_id, year)
);
alter table jobs add column number text;

-- Jobs booked before numbers existed get theirs in booking order.
with numbered as (
    select id, organisation_id, extract(year from created_at)::integer as year,
           row_number() over (partition by organisation_id, extract(year from created_at)
                              order by created_at, id) as n
    from jobs
)
update jobs j set number = 'FS-' || numbered.year || '-' || lpad(numbered.n::text, 5, '0')
from numbered where numbered.id = j.id;
insert into job_number_counters (organisation_id, year, last)
select organisation_id, extract(year from created_at)::integer, count(*)
from jobs group by 1, 2;
create unique index jobs_number on jobs (organisation_id, number);
