//! The campaign list.

mod campaign_filters;
mod campaign_row;
mod campaign_table;
pub mod list_query;
mod new_campaign_button;
mod run_feedback;
mod run_menu;
mod run_menu_items;

pub use campaign_filters::CampaignFilters;
pub use campaign_row::CampaignRow;
pub use campaign_table::CampaignTable;
pub use new_campaign_button::NewCampaignButton;
pub use run_feedback::{RunFeedback, RunNotice};
pub use run_menu::RunMenu;
pub use run_menu_items::RunMenuItems;

use crate::api::StatusAction;

/// What a row's buttons ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Status(StatusAction),
    Stop,
    Duplicate,
    Delete,
}
