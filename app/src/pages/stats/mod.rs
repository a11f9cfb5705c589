mod campaign_stats_page;
mod share_page;

pub use campaign_stats_page::CampaignStatsPage;
pub use share_page::SharePage;
