//! Saved segments.

mod segment_edit_form;
mod segment_table;

pub use segment_edit_form::SegmentEditForm;
pub use segment_table::SegmentTable;
