mod login_page;
mod setup_page;

pub use login_page::LoginPage;
pub use setup_page::SetupPage;
