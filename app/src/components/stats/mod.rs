//! The campaign stats view: KPI cards, daily chart, per-ad table, date range, sync figures, and
//! the share dialog of the private page.

mod ad_table;
mod daily_chart;
mod holdout_panel;
mod kpi_cards;
mod range_picker;
mod share_dialog;
mod stats_view;
mod sync_panel;
pub mod view_query;

pub use ad_table::AdTable;
pub use daily_chart::DailyChart;
pub use holdout_panel::HoldoutPanel;
pub use kpi_cards::KpiCards;
pub use range_picker::RangePicker;
pub use share_dialog::ShareDialog;
pub use stats_view::StatsView;
pub use sync_panel::SyncPanel;
