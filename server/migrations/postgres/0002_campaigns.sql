-- Campaigns and the labels that group them. Timestamps are RFC 3339 text in UTC with a fixed
-- microsecond precision (written by the server, never by SQL defaults), so the same queries run on
-- SQLite and PostgreSQL and text order is time order.

-- Labels are shared by every campaign. `name_key` is `shared::label::label_key(name)`: the unique
-- index makes "Promo" and " promo " one label even when two requests race past the server's check.
create table labels (
    id         bigint generated always as identity primary key,
    name       text not null,
    name_key   text not null,
    color      text,
    created_at text not null
);
create unique index labels_name_key_idx on labels (name_key);

create table campaigns (
    id              bigint generated always as identity primary key,
    name            text not null,
    -- The name lower-cased by the server for the `q` search (the same on both backends).
    name_lower      text not null,
    channel         text not null,
    status          text not null,
    -- The steps as JSON (shared::schedule::Schedule, shared::segment::Segment,
    -- shared::campaign::FacebookTarget, ConversionGoal); null while a draft leaves them out.
    -- Text rather than jsonb: the server only ever reads them whole.
    schedule        text,
    audience        text,
    target          text,
    conversion_goal text,
    created_at      text not null,
    updated_at      text not null,
    created_by      text not null,
    updated_by      text not null,
    published_at    text,
    next_run_at     text,
    -- Set by the scheduler when a run starts; tells Resume whether the campaign has run before.
    last_run_at     text,
    version         bigint not null
);
create index campaigns_status_idx on campaigns (status);
create index campaigns_updated_at_idx on campaigns (updated_at);

-- A campaign's labels in the order the user chose them.
create table campaign_labels (
    campaign_id bigint not null references campaigns (id) on delete cascade,
    label_id    bigint not null references labels (id) on delete restrict,
    position    integer not null,
    primary key (campaign_id, label_id)
);
create index campaign_labels_label_id_idx on campaign_labels (label_id);
