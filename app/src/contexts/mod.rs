pub mod editor_context;
