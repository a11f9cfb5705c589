-- Daily event counts and saved segments.

-- How many events of a name a profile did per UTC day (day = floor(ts / 86400)). The segment
-- engine answers count and "did" rules from here for the whole UTC days inside a window and reads
-- raw `events` only for the partial days at the edges, so any campaign time zone stays exact
-- while the rows scanned shrink to one per (event, day, profile). Maintained by the store in the
-- same transaction as the events it counts.
create table event_days (
    name_id    integer not null,
    day        integer not null,
    profile_id integer not null,
    n          integer not null,
    primary key (name_id, day, profile_id)
) without rowid;

insert into event_days (name_id, day, profile_id, n)
select name_id, (ts - (((ts % 86400) + 86400) % 86400)) / 86400, profile_id, count(*)
from events
group by 1, 2, 3;

-- The number of profiles, kept by the store in the transaction that adds them: an estimate
-- reports it every time, and count(*) reads every row (80 ms at a million profiles).
create table profile_count (
    id integer primary key check (id = 1),
    n  integer not null
);
insert into profile_count (id, n) select 1, count(*) from profiles;

-- User-property conditions test the stored type with the value (`kind = 'text' and t in (…)`):
-- with `kind` in the index they are answered from the index alone.
drop index profile_props_by_text;
drop index profile_props_by_number;
create index profile_props_by_text on profile_props(key, kind, t, profile_id);
create index profile_props_by_number on profile_props(key, kind, n, profile_id);

-- Segments saved by name, to reuse in campaigns and inside other segments. `definition` is
-- `shared::segment::Segment` as JSON; `last_size` is the reach computed when last estimated.
create table saved_segments (
    id              integer primary key autoincrement,
    name            text not null,
    description     text not null default '',
    definition      text not null,
    last_size       integer,
    last_computed_at text,
    created_at      text not null,
    updated_at      text not null
);
