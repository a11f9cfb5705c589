//! Saved segments.

mod segment_table;

pub use segment_table::SegmentTable;
