-- Staged events (docs/scaling.md, "The write path"): uploads append here, in arrival order,
-- and the writer moves them into `events` and `event_days` in batches of a few hundred
-- thousand, sorted by time. Inserted one upload at a time in random time order, each
-- event cost a random leaf page of every time-ordered tree (the unique `dedup_key`,
-- `events_by_name_ts`, `event_days`): a 4 KiB page in the WAL and again at the checkpoint once
-- the trees outgrow the cache. Sorted, a merge's inserts walk each tree from left to right.
--
-- Every reader of events merges the staged ones first (customer::writer::flush), so nobody sees
-- an event twice or misses one; the merge is one transaction, so an event is always either
-- here or in `events`, exactly once.
create table events_inbox (
    id         integer primary key,
    profile_id integer not null,
    name_id    integer not null,
    ts         integer not null,
    props      text not null,
    dedup_key  blob not null
);
-- No index: an index of the staged events takes its inserts in random order too, and every
-- upload then wrote most of its pages again (measured: 1.5 KB more per event for a unique
-- `dedup_key` index). A resend staged twice is dropped at the merge; an erasure or an identity
-- link reads the whole table, a few hundred thousand rows at most.
