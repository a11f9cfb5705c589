pub mod editor_context;
pub mod session_context;
pub mod time_zones_context;
pub mod toast_context;
