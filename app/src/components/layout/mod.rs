//! The parts of the shell around every page.

mod local_time;
mod page_load_error;
mod server_footer;
mod side_nav;
mod top_bar;

pub use local_time::LocalTime;
pub use page_load_error::PageLoadError;
pub use server_footer::ServerFooter;
pub use side_nav::SideNav;
pub use top_bar::TopBar;
