//! The domain of the Facebook Audiences campaign module.
//!
//! This crate is the contract between the browser and the server: both compile it (wasm32 and
//! native) and call the same functions, so a rule is written once. It does no I/O: the current
//! instant, the database and the network are always passed in by the caller.

pub mod account;
pub mod audience_data;
pub mod campaign;
pub mod campaign_list;
pub mod consent;
pub mod csv_import;
pub mod data_overview;
pub mod error;
pub mod health;
pub mod holdout;
pub mod label;
pub mod profile_view;
pub mod saved_segment;
pub mod schedule;
pub mod segment;
pub mod settings;
pub mod stats;
pub mod sync;
mod tagged;
pub mod text;
pub mod time_text;
pub mod tracking;
