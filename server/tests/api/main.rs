//! Integration tests: the real server on a real database, over HTTP. One binary, one file per
//! feature; `helpers::spawn_app` starts a server on a fresh SQLite file and a free port, or on a
//! fresh PostgreSQL database when `TEST_POSTGRES_URL` is set (see `test_db`).

mod auth;
mod campaigns;
mod connect;
mod facebook;
mod foundation;
mod helpers;
mod labels;
mod scale_out;
mod schedules;
mod segments;
mod settings;
mod stats;
mod stats_jobs;
mod sync;
mod test_db;
mod upload;
