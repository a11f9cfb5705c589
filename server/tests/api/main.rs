//! Integration tests: the real server on a real database, over HTTP. One binary, one file per
//! feature; `helpers::spawn_app` starts a server on a fresh SQLite file and a free port, or on a
//! fresh PostgreSQL database when `TEST_POSTGRES_URL` is set (see `test_db`).

mod auth;
mod campaigns;
mod connect;
mod data;
mod facebook;
mod foundation;
mod helpers;
mod holdout;
mod labels;
mod lost_replies;
mod openapi;
mod ops;
mod person;
mod profiles;
mod scale_out;
mod schedules;
mod security;
mod segment_api;
mod segments;
mod settings;
mod stats;
mod stats_jobs;
mod sync;
mod test_db;
mod upload;
