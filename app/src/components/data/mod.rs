//! The Data page's parts.

mod data_totals;
mod event_activity_table;
mod explanation_tree;
mod key_coverage_list;
mod person_finder;
mod property_table;
mod rejected_table;
mod source_list;

pub use data_totals::DataTotals;
pub use event_activity_table::EventActivityTable;
pub use explanation_tree::ExplanationTree;
pub use key_coverage_list::KeyCoverageList;
pub use person_finder::PersonFinder;
pub use property_table::PropertyTable;
pub use rejected_table::RejectedTable;
pub use source_list::SourceList;
