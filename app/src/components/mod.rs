//! Components, one per file, grouped by feature.

pub mod admin;
pub mod campaigns;
pub mod data;
pub mod layout;
pub mod runs;
pub mod segments;
pub mod stats;
pub mod toast;
pub mod wizard;
