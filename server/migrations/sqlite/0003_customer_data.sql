-- Customer data for the segment engine: profiles, their typed properties, events, and the
-- registries the segment builder's catalog reads.

-- One row per user. The columns are the Facebook match keys, normalised at upload (lower-case
-- e-mail, E.164 phone…), so the sync job reads them without touching `profile_props`. The
-- identity doubles as Facebook's EXTERN_ID.
create table profiles (
    id            integer primary key,
    identity      text not null unique,
    email         text,
    phone         text,
    first_name    text,
    last_name     text,
    gender        text,    -- 'm' | 'f'
    date_of_birth text,    -- YYYY-MM-DD
    city          text,
    state         text,
    zip           text,
    country       text,
    madid         text,    -- mobile advertiser id
    created_at    integer not null,  -- epoch seconds
    updated_at    integer not null
);

-- Every profile property as uploaded (standard ones such as `City` included), typed like
-- `shared::segment::eval::Value`. The segment engine reads only this table, so a user property
-- rule means the same whatever the property's name. `kind` is the value's own type, which may
-- differ from the registered type; a rule of another type then never matches, as in `shared`.
create table profile_props (
    profile_id integer not null references profiles(id) on delete cascade,
    key        text not null,
    kind       text not null,  -- text | number | boolean | date | list
    t          text,           -- text; list: JSON array of strings
    n          real,           -- number; boolean 0/1; date: epoch seconds
    primary key (profile_id, key)
) without rowid;
create index profile_props_by_text on profile_props(key, t, profile_id);
create index profile_props_by_number on profile_props(key, n, profile_id);

-- Event names as small integers: the events table stays narrow and its index short.
create table event_names (
    id         integer primary key,
    name       text not null unique,
    -- Maintained at upload from the rows actually inserted, so the catalog needs no full scan.
    count      integer not null default 0,
    first_seen integer not null,
    last_seen  integer
);

-- `props` is a JSON object: text → string, number → number, boolean → true/false,
-- list → array of strings, date → {"d": epoch seconds}.
create table events (
    id         integer primary key,
    profile_id integer not null references profiles(id) on delete cascade,
    name_id    integer not null references event_names(id),
    ts         integer not null,  -- epoch seconds
    props      text not null default '{}',
    -- First 16 bytes of SHA-256 over identity, name, ts and the canonical properties: resending
    -- a batch inserts nothing twice.
    dedup_key  blob not null unique
);
-- Window scans ("did X in the last 30 days") and first/last-time lookups per user.
create index events_by_name_ts on events(name_id, ts, profile_id);
create index events_by_name_profile on events(name_id, profile_id, ts);

-- The type of a property is the type it had when first seen, and never changes afterwards.
-- `event_name` is '' for profile properties.
create table property_types (
    scope      text not null,  -- 'profile' | 'event'
    event_name text not null,
    key        text not null,
    kind       text not null,
    first_seen integer not null,
    primary key (scope, event_name, key)
) without rowid;
