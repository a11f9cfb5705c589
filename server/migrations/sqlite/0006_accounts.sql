-- Accounts, sessions, upload API keys and the audit log. Timestamps are RFC 3339 text in UTC, as
-- in 0002, so the same queries run on SQLite and PostgreSQL.

-- `email` is stored trimmed and lower-cased (shared::account::normalize_email). Users are never
-- deleted, only disabled, so the audit log's actors stay meaningful.
create table users (
    id            integer primary key autoincrement,
    email         text not null,
    -- argon2id, PHC string format.
    password_hash text not null,
    role          text not null,
    created_at    text not null,
    created_by    text not null,
    disabled_at   text,
    last_login_at text
);
create unique index users_email_idx on users (email);

-- Only the SHA-256 of a session token is stored: a copy of the database cannot be used to sign in.
create table sessions (
    id           integer primary key autoincrement,
    token_hash   text not null,
    user_id      integer not null references users (id) on delete cascade,
    created_at   text not null,
    last_seen_at text not null,
    -- The absolute end, whatever the activity.
    expires_at   text not null
);
create unique index sessions_token_hash_idx on sessions (token_hash);
create index sessions_user_id_idx on sessions (user_id);

-- Upload API keys, stored as SHA-256 (the keys are random, so a fast hash is enough).
create table api_keys (
    id           integer primary key autoincrement,
    name         text not null,
    prefix       text not null,
    key_hash     text not null,
    created_at   text not null,
    created_by   text not null,
    last_used_at text,
    revoked_at   text
);
create unique index api_keys_key_hash_idx on api_keys (key_hash);

create table audit_log (
    id          integer primary key autoincrement,
    at          text not null,
    actor       text not null,
    action      text not null,
    entity_type text not null,
    entity_id   text not null,
    summary     text not null,
    before_summary text,
    after_summary  text
);
create index audit_log_at_idx on audit_log (at);
