-- When each published campaign's stats are next fetched by a `stats` job (issue 8). The
-- scheduler moves `next_at` on with a compare-and-set update in the transaction that queues the
-- job, so with several server processes on one database each period queues one job.
create table stats_schedules (
    campaign_id bigint primary key references campaigns (id) on delete cascade,
    -- Not before this instant (RFC 3339 text, as in 0002); null: no more periodic fetches.
    next_at     text,
    -- When the campaign was first seen completed or stopped: it is refreshed for 28 more days
    -- (Facebook revises the last 28 days), then no more.
    ended_at    text
);
create index stats_schedules_next_idx on stats_schedules (next_at);
