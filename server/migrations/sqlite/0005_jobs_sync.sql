-- Durable jobs, audience sync runs and what Facebook has confirmed. Timestamps are RFC 3339 text
-- in UTC with six fractional digits (as in 0002), so text order is time order on both backends.

-- The job queue (modelled on crates.io's worker). A job is claimed by setting `lease_owner` and
-- `lease_expires_at`; a worker that dies leaves its lease to expire, and another worker claims
-- the job again. Failed attempts move `run_at` forward (exponential backoff with jitter).
create table jobs (
    id               integer primary key autoincrement,
    kind             text not null,
    payload          text not null,
    state            text not null,   -- queued | running | done | failed
    attempts         integer not null default 0,
    max_attempts     integer not null,
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
    id                  integer primary key autoincrement,
    campaign_id         integer not null references campaigns (id) on delete cascade,
    slot                integer,
    trigger             text not null,   -- schedule | manual | dry_run
    run_at              text not null,   -- the instant R the segment is computed at
    late                integer not null default 0,
    missed_slots        integer not null default 0,
    state               text not null,   -- queued | running | retrying | succeeded | failed | skipped
    phase               text not null,   -- waiting | computing | sending | attaching | done
    mode                text,            -- incremental | replace
    rows_total          integer not null default 0,
    rows_done           integer not null default 0,
    members             integer,
    added               integer,
    removed             integer,
    held_removals       integer,
    invalid_entries     integer,
    invalid_samples     text,            -- JSON array of strings
    sample              text,            -- JSON: who would be added/removed (dry run)
    approx_before_lower integer,
    approx_before_upper integer,
    approx_after_lower  integer,
    approx_after_upper  integer,
    audience_id         text,
    error               text,
    advice              text,
    -- The membership Facebook will hold when every batch is sent (see sync::members).
    target_members      blob,
    started_at          text,
    finished_at         text,
    duration_ms         integer,
    created_at          text not null
);
create unique index sync_runs_slot_idx on sync_runs (campaign_id, slot);
create index sync_runs_campaign_idx on sync_runs (campaign_id, id);

-- Per campaign: its Facebook custom audience and the membership Facebook last confirmed.
create table sync_audiences (
    campaign_id     integer primary key references campaigns (id) on delete cascade,
    audience_id     text,
    ad_account_id   text not null,
    attached_ad_set text,
    members         blob,
    member_count    integer not null default 0,
    updated_at      text not null
);

-- Every batch of a run, recorded before it is sent (state planned → sending) and after
-- (sent, with Facebook's answer), so a run resumed after a crash sends each batch exactly once.
create table sync_batches (
    run_id        integer not null references sync_runs (id) on delete cascade,
    seq           integer not null,
    op            text not null,       -- remove | add | replace
    session_id    integer not null,
    batch_seq     integer not null,
    last_batch    integer not null,
    rows          integer not null,
    members       blob not null,
    state         text not null,       -- planned | sending | sent
    num_received  integer,
    num_invalid   integer,
    samples       text,
    sent_at       text,
    primary key (run_id, seq)
);
