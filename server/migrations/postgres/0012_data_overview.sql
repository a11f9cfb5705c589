-- The Data page; see migrations/sqlite/0011_data_overview.sql.
create table ingest_sources (
    source  text primary key,
    stored  bigint not null default 0,
    refused bigint not null default 0,
    last_at bigint not null
);

create table rejected_records (
    id     bigserial primary key,
    at     bigint not null,
    source text not null,
    code   integer not null,
    error  text not null,
    record text not null
);

create index profiles_by_email on profiles(email) where email is not null;
create index profiles_by_phone on profiles(phone) where phone is not null;
