mod facebook_form;
mod facebook_section;
mod settings_page;

pub use settings_page::SettingsPage;
