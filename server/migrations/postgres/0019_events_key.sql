-- Ingestion that holds as the database grows (issue 22; docs/scaling.md).
--
-- Every event was inserted into two B-trees besides the table: the unique index of `dedup_key`
-- and `events_by_name_ts` (name, ts, profile). Both are ordered by time, so a backfill in
-- random time order puts each event on a random page of each. One unique index on
-- (name, ts, profile, dedup_key) does both jobs: the window scans read its prefix as before
-- (index-only), and it refuses a resent event as the key alone did (the key starts with `ts`
-- and hashes the identity and the name, so two events with one key have the same name, time
-- and profile). One random page per event instead of two.
alter table events drop constraint events_dedup_key_key;
drop index events_by_name_ts;
create unique index events_by_name_ts on events(name_id, ts, profile_id, dedup_key);
