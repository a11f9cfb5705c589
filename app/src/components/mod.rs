//! Components, one per file, grouped by feature.

pub mod campaigns;
pub mod layout;
pub mod segments;
pub mod wizard;
