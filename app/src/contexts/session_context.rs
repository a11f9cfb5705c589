//! Who is signed in, for every page: the top bar shows them, pages hide the actions their role
//! may not take (the server refuses them anyway), and any 401 sends the browser to the login
//! page, which brings the user back afterwards.

use std::cell::Cell;

use leptos::{prelude::*, task::spawn_local};
use shared::{
    account::{Role, User},
    settings::FacebookMode,
};

use crate::api;

/// `Copy`, so closures can hold it.
#[derive(Clone, Copy)]
pub struct Session {
    /// `None` while loading, and on the sign-in pages.
    pub user: RwSignal<Option<User>>,
    /// The Graph API the server talks to (`None` until known): the top bar marks the sandbox.
    pub facebook_mode: RwSignal<Option<FacebookMode>>,
}

impl Session {
    pub fn role(&self) -> Option<Role> {
        self.user.with(|u| u.as_ref().map(|u| u.role))
    }

    /// Whether to show create, edit, pause, delete… (marketers and admins).
    pub fn can_edit(&self) -> bool {
        self.role().is_some_and(Role::can_edit)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }
}

/// Loads the signed-in user (except on the sign-in pages, which need no one).
pub fn provide_session_context() {
    let session = Session {
        user: RwSignal::new(None),
        facebook_mode: RwSignal::new(None),
    };
    provide_context(session);
    if !on_sign_in_page() {
        spawn_local(async move {
            // A 401 has already sent the browser to the login page.
            if let Ok(me) = api::get_me().await {
                session.facebook_mode.set(Some(me.facebook_mode));
                session.user.set(Some(me.user));
            }
        });
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

fn pathname() -> String {
    location()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_default()
}

/// The login and first-run setup pages, which work without a session.
pub fn on_sign_in_page() -> bool {
    matches!(pathname().as_str(), "/login" | "/setup")
}

/// Sends the browser to the login page, remembering where it was. A full navigation: whatever
/// the page held belonged to the session that ended.
pub fn redirect_to_login() {
    thread_local! {
        static LEAVING: Cell<bool> = const { Cell::new(false) };
    }
    if on_sign_in_page() || LEAVING.with(|l| l.replace(true)) {
        return;
    }
    let Some(location) = location() else { return };
    let here = format!("{}{}", pathname(), location.search().unwrap_or_default());
    let _ = location.set_href(&format!("/login?next={}", encode(&here)));
}

/// Leaves the app for `path` with a full page load (so the session is read afresh).
pub fn go(path: &str) {
    if let Some(location) = location() {
        let _ = location.set_href(path);
    }
}

/// Where to go after signing in: `next` if it is a path on this site, else the campaigns.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/login"))
        .unwrap_or_else(|| "/campaigns".to_owned())
}

/// Percent-encodes everything but unreserved characters, for a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
