mod segments_page;

pub use segments_page::SegmentsPage;
