mod connection_facts;
mod facebook_connect;
mod facebook_form;
mod facebook_section;
mod settings_page;
mod token_health;

pub use settings_page::SettingsPage;
