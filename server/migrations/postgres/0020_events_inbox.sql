-- Staged events, as on SQLite (sqlite/0018_events_inbox.sql, docs/scaling.md "The write path"):
-- an upload appends its events here, in arrival order, and the writer moves them into `events`
-- and `event_days` a few hundred thousand at a time, sorted by time. Inserted one upload at a
-- time in random time order, each event touched a random leaf page of the unique `dedup_key`
-- index (its keys start with the time), of `events_by_name_ts` and of `event_days`, and ran
-- the two foreign-key checks of `events` row by row.
--
-- Logged (not `unlogged`): an unlogged table is emptied by a crash, and an answered upload's
-- events must survive one. No index and no foreign key: appends only. The merge joins
-- `profiles` (an event of a profile erased after it was staged goes nowhere) and holds the
-- upload writers' advisory lock, so an event is always either here or in `events`, once.
-- `props` is parsed into `jsonb` as it is staged: a value PostgreSQL refuses (a `\u0000` in a
-- string) fails its own upload, as it did before staging, instead of every later merge.
create table events_inbox (
    id         bigint generated always as identity,
    profile_id bigint not null,
    name_id    bigint not null,
    ts         bigint not null,
    props      jsonb not null,
    dedup_key  bytea not null
);
