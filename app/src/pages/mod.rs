//! One page component per route, grouped by feature.

pub mod campaigns;
pub mod not_found_page;
pub mod segments;
pub mod settings;
pub mod stats;
