-- A campaign's holdout (shared::holdout): the percentage of the segment never sent to Facebook,
-- NULL for none.
alter table campaigns add column holdout_percent integer;

-- How many people of the segment a run held out (NULL: the campaign had no holdout).
alter table sync_runs add column held_out integer;

-- Who each run held out, so the stats' holdout group is reproducible after the fact: the
-- members packed as the sync packs them (src/sync/members.rs), written with the
-- plan. A run with no row held nobody out.
create table sync_holdouts (
    run_id  integer primary key references sync_runs (id) on delete cascade,
    members blob not null
);
