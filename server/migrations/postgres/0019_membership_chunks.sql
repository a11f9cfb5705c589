-- The confirmed membership of a campaign's audience in chunks by profile id (see
-- src/sync/store.rs): chunk n holds the members whose profile id is in [n * 4096, (n + 1) * 4096),
-- packed as src/sync/members.rs encodes them, ascending by id. A run reads one chunk at a time
-- and rewrites only the chunks its changes touch, where one blob per audience (260 MB at 10M
-- members) was read, decoded and written whole. `sync_audiences.members` is no longer written;
-- a blob left there by an earlier version is split into chunks when the server starts
-- (`sync::store::convert_legacy`). Stored uncompressed, as the blobs were (0011).
create table sync_members (
    campaign_id bigint not null references campaigns (id) on delete cascade,
    chunk       bigint not null,
    members     bytea not null,
    primary key (campaign_id, chunk)
);
alter table sync_members alter column members set storage external;
