mod import_page;
mod segments_page;

pub use import_page::ImportPage;
pub use segments_page::SegmentsPage;
