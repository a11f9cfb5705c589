pub mod editor_context;
pub mod session_context;
