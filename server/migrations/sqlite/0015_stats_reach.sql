-- Reach and frequency on the stats page (issue 20). Reach is people, not impressions: it does
-- not add up across days or ads, so besides each ad's daily reach the fetch stores Facebook's own
-- figures for the ad set per day and for whole ranges (the stats page's presets).

-- People who saw the ad that day (0 for rows fetched before this column existed; the next fetch
-- reads the last 28 days again, a "Lifetime" fetch after a change of ad set all of them).
alter table campaign_stats add column reach integer not null default 0;

-- Reach over `since_day`..`until_day` (both included, the ad account's days): of the whole ad set
-- when `ad_id` is '', else of that ad. A row per day of the ad set, and one per preset range.
create table campaign_stats_reach (
    campaign_id integer not null references campaigns (id) on delete cascade,
    ad_id       text not null,
    since_day   text not null,
    until_day   text not null,
    reach       integer not null,
    fetched_at  text not null,
    primary key (campaign_id, ad_id, since_day, until_day)
);
