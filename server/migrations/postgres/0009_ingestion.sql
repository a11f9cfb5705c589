-- Ingestion speed; see migrations/sqlite/0009_ingestion.sql.
drop index events_by_name_profile;
