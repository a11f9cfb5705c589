//! Confirmations over the page (the state lives in `contexts::toast_context`).

mod toast_region;

pub use toast_region::ToastRegion;
