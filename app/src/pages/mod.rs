//! One page component per route, grouped by feature.

pub mod account;
pub mod admin;
pub mod campaigns;
pub mod data;
pub mod not_found_page;
pub mod segments;
pub mod settings;
pub mod stats;
