-- Durable jobs, audience sync runs and what Facebook has confirmed. Timestamps are RFC 3339 text
-- in UTC with six fractional digits (as in 0002), so text order is time order on both backends.

-- The job queue (modelled on crates.io's worker). A job is claimed by setting `lease_owner` and
-- `lease_expires_at`; a worker that dies leaves its lease to expire, and another worker claims
-- the job again. Failed attempts move `run_at` forward (exponential backoff with jitter).
create table jobs (
    id               bigint generated always as identity primary key,
    kind             text not null,
    payload          text not null,
    state            text not null,   -- queued | running | done | failed
    attempts         bigint not null default 0,
    max_attempts     bigint not null,
    run_at           text not null,
    lease_owner      text,
    lease_expires_at text,
    last_error       text,
    created_at       text not null,
    updated_at       text not null
);
create index jobs_claim_idx on jobs (state, run_at);

-- One row per run of a campaign. `slot` is the schedule's run number (shared::schedule::Run);
-- the unique index makes two scheduler processes record a slot once. Run-now and dry runs have
-- no slot (nulls never collide).
create table sync_runs (
    id                  bigint generated always as identity primary key,
    campaign_id         bigint not null references campaigns (id) on delete cascade,
    slot                bigint,
    trigger             text not null,   -- schedule | manual | dry_run
    run_at              text not null,   -- the instant R the segment is computed at
    late                boolean not null default false,
    missed_slots        bigint not null default 0,
    state               text not null,   -- queued | running | retrying | succeeded | failed | skipped
    phase               text not null,   -- waiting | computing | sending | attaching | done
    mode                text,            -- incremental | replace
    rows_total          bigint not null default 0,
    rows_done           bigint not null default 0,
    members             bigint,
    added               bigint,
    removed             bigint,
    held_removals       bigint,
    invalid_entries     bigint,
    invalid_samples     text,            -- JSON array of strings
    sample              text,            -- JSON: who would be added/removed (dry run)
    approx_before_lower bigint,
    approx_before_upper bigint,
    approx_after_lower  bigint,
    approx_after_upper  bigint,
    audience_id         text,
    error               text,
    advice              text,
    -- The membership Facebook will hold when every batch is sent (see sync::members).
    target_members      bytea,
    started_at          text,
    finished_at         text,
    duration_ms         bigint,
    created_at          text not null
);
create unique index sync_runs_slot_idx on sync_runs (campaign_id, slot);
create index sync_runs_campaign_idx on sync_runs (campaign_id, id);

-- Per campaign: its Facebook custom audience and the membership Facebook last confirmed.
create table sync_audiences (
    campaign_id     bigint primary key references campaigns (id) on delete cascade,
    audience_id     text,
    ad_account_id   text not null,
    attached_ad_set text,
    members         bytea,
    member_count    bigint not null default 0,
    updated_at      text not null
);

-- Every batch of a run, recorded before it is sent (state planned → sending) and after
-- (sent, with Facebook's answer), so a run resumed after a crash sends each batch exactly once.
create table sync_batches (
    run_id        bigint not null references sync_runs (id) on delete cascade,
    seq           bigint not null,
    op            text not null,       -- remove | add | replace
    session_id    bigint not null,
    batch_seq     bigint not null,
    last_batch    boolean not null,
    rows          bigint not null,
    members       bytea not null,
    state         text not null,       -- planned | sending | sent
    num_received  bigint,
    num_invalid   bigint,
    samples       text,
    sent_at       text,
    primary key (run_id, seq)
);
