//! The Data page's parts, and the profile page's.

mod data_totals;
mod erase_profile_button;
mod event_activity_table;
mod event_timeline;
mod explanation_tree;
mod key_coverage_list;
mod membership_explainer;
mod person_finder;
mod profile_memberships;
mod profile_properties;
mod property_table;
mod rejected_table;
mod source_list;

pub use data_totals::DataTotals;
pub use erase_profile_button::EraseProfileButton;
pub use event_activity_table::EventActivityTable;
pub use event_timeline::EventTimeline;
pub use explanation_tree::ExplanationTree;
pub use key_coverage_list::KeyCoverageList;
pub use membership_explainer::MembershipExplainer;
pub use person_finder::PersonFinder;
pub use profile_memberships::ProfileMemberships;
pub use profile_properties::ProfileProperties;
pub use property_table::PropertyTable;
pub use rejected_table::RejectedTable;
pub use source_list::SourceList;
