-- Membership blobs (see src/sync/members.rs) are stored uncompressed. PostgreSQL compresses a
-- large bytea with pglz by default: the 25 MB membership of a million-member audience shrank to
-- 15.5 MB but took 0.88 s to write instead of 0.10 s (and 71 ms instead of 36 ms to read), on
-- every run's finish, for data that is mostly hashes and ids. Rows written before keep their
-- compressed form until rewritten. (SQLite never compresses: no counterpart there.)
alter table sync_audiences alter column members set storage external;
alter table sync_batches alter column members set storage external;
