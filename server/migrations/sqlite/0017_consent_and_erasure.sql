-- Ads consent (shared::consent): how many people of the segment a run held back because their
-- consent property was not true (NULL: consent filtering was off for that run).
alter table sync_runs add column consent_held integer;

-- Profiles erased (customer::erase), by row id only: no personal data. A sync run that was
-- planned before an erasure leaves the erased person out of the membership it confirms
-- (sync::erase removes them from Facebook).
create table profile_erasures (
    id         integer primary key autoincrement,
    profile_id integer not null,
    erased_at  text not null
);
create index profile_erasures_by_time on profile_erasures(erased_at);
