-- Office staff sign in to the console in a browser: an e-mail (or their name) and a password,
-- kept only as an argon2id hash. Tablets keep their device tokens.
alter table staff add column email text;
create unique index staff_email on staff (lower(email)) where email is not null;

create table staff_passwords (
    staff_id uuid primary key references staff (id),
    password_hash text not null,
    updated_at timestamptz not null default now()
);

-- Browser sessions: the cookie holds a random token, of which only the SHA-256 is stored, and
-- the session its CSRF token for state-changing forms. Ended on sign-out; idle and absolute
-- expiry are checked on every request; a disabled staff member's sessions stop working.
create table console_sessions (
    id uuid primary key,
    token_hash bytea not null unique check (length(token_hash) = 32),
    staff_id uuid not null references staff (id),
    csrf_token text not null,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    ended_at timestamptz
);
create index console_sessions_staff on console_sessions (staff_id) where ended_at is null;

-- One-time links that let a new office member set their password (and the first admin of an
-- organisation made by the operator command). Only the token's SHA-256 is kept.
create table staff_invitations (
    token_hash bytea primary key check (length(token_hash) = 32),
    staff_id uuid not null references staff (id),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
);
