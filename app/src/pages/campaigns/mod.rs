mod campaign_edit_page;
mod campaigns_page;

pub use campaign_edit_page::CampaignEditPage;
pub use campaigns_page::CampaignsPage;
