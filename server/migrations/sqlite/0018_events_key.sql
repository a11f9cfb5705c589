-- Ingestion that holds as the database grows (issue 22; docs/scaling.md).
--
-- Every event was inserted into two B-trees besides the table: the unique index of `dedup_key`
-- and `events_by_name_ts` (name, ts, profile). Both are ordered by time, so a backfill in
-- random time order puts each event on a random page of each, and every page an upload touches
-- is read (when not cached) and written to the WAL, then again by the checkpoint. One unique
-- index on (name, ts, profile, dedup_key) does both jobs: the window scans read its prefix as
-- before, and it refuses a resent event as the key alone did (the key starts with `ts` and
-- hashes the identity and the name, so two events with one key have the same name, time and
-- profile). One random page per event instead of two.
--
-- SQLite cannot drop the index of a column's `unique`: the table is rebuilt without it.
create table events_rebuilt (
    id         integer primary key,
    profile_id integer not null references profiles(id) on delete cascade,
    name_id    integer not null references event_names(id),
    ts         integer not null,  -- epoch seconds
    props      text not null default '{}',
    -- ts (8 bytes, big-endian) then the first 8 bytes of SHA-256 over identity, name, ts and
    -- the canonical properties (older rows: 16 bytes of that SHA-256). Unique with
    -- (name_id, ts, profile_id): see the index below.
    dedup_key  blob not null
);
insert into events_rebuilt (id, profile_id, name_id, ts, props, dedup_key)
select id, profile_id, name_id, ts, props, dedup_key from events order by id;
drop table events;
alter table events_rebuilt rename to events;
-- Window scans ("did X in the last 30 days") read (name, ts, profile); resends conflict here.
create unique index events_by_name_ts on events(name_id, ts, profile_id, dedup_key);
