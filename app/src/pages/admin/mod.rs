//! Pages only admins see (the server refuses their API calls to everyone else).

mod api_keys_page;
mod audit_page;
mod users_page;

pub use api_keys_page::ApiKeysPage;
pub use audit_page::AuditPage;
pub use users_page::UsersPage;
