-- The bytes of an upload not yet sent to object storage as a multipart part were kept in one
-- bytea column, rewritten whole by every PATCH: a file sent in 1 MiB PATCHes wrote 1 + 2 + ... +
-- 8 MiB per part. Each PATCH now appends its own bytes as one row; rows are deleted when their
-- bytes go out in a part or the upload ends.

create table upload_pending_chunks (
    upload_id uuid not null references uploads (id) on delete cascade,
    -- The offset in the file of the chunk's first byte.
    start_offset bigint not null check (start_offset >= 0),
    bytes bytea not null check (length(bytes) > 0),
    primary key (upload_id, start_offset)
);

insert into upload_pending_chunks (upload_id, start_offset, bytes)
select id, received - length(pending), pending from uploads where length(pending) > 0;

alter table uploads drop column pending;

-- Who holds the lease: a request writes its progress only while the lease is still its own, so
-- a request that overran its lease (or an upload ended meanwhile) writes nothing.
alter table uploads add column lease_id uuid;
