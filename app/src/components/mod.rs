//! Components, one per file, grouped by feature.

pub mod layout;
