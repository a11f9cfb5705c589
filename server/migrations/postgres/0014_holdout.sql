-- A campaign's holdout (shared::holdout): the percentage of the segment never sent to Facebook,
-- NULL for none.
alter table campaigns add column holdout_percent bigint;

-- How many people of the segment a run held out (NULL: the campaign had no holdout).
alter table sync_runs add column held_out bigint;

-- Who each run held out, so the stats' holdout group is reproducible after the fact: the
-- members packed as the sync packs them (src/sync/members.rs), written with the
-- plan. A run with no row held nobody out. Stored uncompressed, as the other membership blobs
-- (0011).
create table sync_holdouts (
    run_id  bigint primary key references sync_runs (id) on delete cascade,
    members bytea not null
);
alter table sync_holdouts alter column members set storage external;
