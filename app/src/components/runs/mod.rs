//! The audience sync runs of a campaign: history with live progress, "Run now" and "Dry run".

mod dry_run_result;
mod run_buttons;
mod run_history;
mod run_item;

pub use dry_run_result::DryRunResult;
pub use run_buttons::{RunButtons, RunOutcome};
pub use run_history::RunHistory;
pub use run_item::RunItem;
