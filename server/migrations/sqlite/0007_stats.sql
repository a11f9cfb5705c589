-- Campaign stats fetched from Facebook (issue 8) and the public share links of the stats page.
-- Timestamps are RFC 3339 text in UTC (see 0002); days are `YYYY-MM-DD` in the ad account's time
-- zone, as Facebook reports them.

-- One ad on one day. Spend is an integer of the currency's minor units: money is never a float.
-- A re-fetch replaces the days it covers (Facebook revises the last 28 days).
create table campaign_stats (
    campaign_id integer not null references campaigns (id) on delete cascade,
    ad_id       text not null,
    day         text not null,
    ad_name     text not null,
    impressions integer not null,
    clicks      integer not null,
    spend_minor integer not null,
    currency    text not null,
    fetched_at  text not null,
    primary key (campaign_id, ad_id, day)
);
create index campaign_stats_day_idx on campaign_stats (campaign_id, day);

-- The last fetch of each campaign's stats: what it covered, and why it failed if it did.
create table campaign_stats_fetches (
    campaign_id     integer primary key references campaigns (id) on delete cascade,
    ad_set_id       text not null,
    currency        text,
    time_zone       text,
    since_day       text,
    until_day       text,
    last_success_at text,
    last_attempt_at text not null,
    last_error      text
);

-- Read-only public links to one campaign's stats. Only the SHA-256 of the token is stored, so a
-- leaked database does not leak working links.
create table share_links (
    id          integer primary key autoincrement,
    campaign_id integer not null references campaigns (id) on delete cascade,
    token_hash  text not null,
    created_at  text not null,
    created_by  text not null,
    expires_at  text,
    revoked_at  text
);
create unique index share_links_token_hash_idx on share_links (token_hash);
create index share_links_campaign_idx on share_links (campaign_id);
