mod connection_facts;
mod consent_form;
mod consent_section;
mod facebook_connect;
mod facebook_form;
mod facebook_section;
mod settings_page;
mod token_health;

pub use settings_page::SettingsPage;
