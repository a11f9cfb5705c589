-- The Data page: where records arrive from, and the records that were refused (the latest
-- 1000; see server/src/customer/activity.rs).
create table ingest_sources (
    source  text primary key,   -- upload_api | import
    stored  integer not null default 0,
    refused integer not null default 0,
    last_at integer not null    -- epoch seconds
);

create table rejected_records (
    id     integer primary key autoincrement,
    at     integer not null,
    source text not null,
    code   integer not null,
    error  text not null,
    record text not null
);

-- Finding a person by e-mail or phone (Data → search), as stored: normalised like match keys.
create index profiles_by_email on profiles(email) where email is not null;
create index profiles_by_phone on profiles(phone) where phone is not null;
