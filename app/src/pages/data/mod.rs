mod data_page;

pub use data_page::DataPage;
