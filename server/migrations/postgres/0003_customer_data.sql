-- Customer data for the segment engine; see migrations/sqlite/0003_customer_data.sql for the
-- meaning of every column. The PostgreSQL engine is not written yet; the schema is kept in step.
create table profiles (
    id            bigserial primary key,
    identity      text not null unique,
    email         text,
    phone         text,
    first_name    text,
    last_name     text,
    gender        text,
    date_of_birth date,
    city          text,
    state         text,
    zip           text,
    country       text,
    madid         text,
    created_at    bigint not null,
    updated_at    bigint not null
);

create table profile_props (
    profile_id bigint not null references profiles(id) on delete cascade,
    key        text not null,
    kind       text not null,
    t          text,
    n          double precision,
    primary key (profile_id, key)
);
create index profile_props_by_text on profile_props(key, t, profile_id);
create index profile_props_by_number on profile_props(key, n, profile_id);

create table event_names (
    id         bigserial primary key,
    name       text not null unique,
    count      bigint not null default 0,
    first_seen bigint not null,
    last_seen  bigint
);

create table events (
    id         bigserial primary key,
    profile_id bigint not null references profiles(id) on delete cascade,
    name_id    bigint not null references event_names(id),
    ts         bigint not null,
    props      jsonb not null default '{}',
    dedup_key  bytea not null unique
);
create index events_by_name_ts on events(name_id, ts, profile_id);
create index events_by_name_profile on events(name_id, profile_id, ts);

create table property_types (
    scope      text not null,
    event_name text not null,
    key        text not null,
    kind       text not null,
    first_seen bigint not null,
    primary key (scope, event_name, key)
);
