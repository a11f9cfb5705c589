mod campaigns_page;

pub use campaigns_page::CampaignsPage;
