mod data_page;
mod profile_page;

pub use data_page::DataPage;
pub use profile_page::ProfilePage;
