//! Parts of the admin pages.

mod new_user_form;

pub use new_user_form::NewUserForm;
