use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

use crate::{
    api,
    contexts::session_context::{go, use_session},
};

/// The bar across the top: the product's name, which leads home, and who is signed in with
/// their role and a way to sign out.
#[component]
pub fn TopBar() -> impl IntoView {
    let session = use_session();
    let logout = move |_| {
        spawn_local(async move {
            // Signed out or not, the login page is where to go next.
            let _ = api::logout().await;
            go("/login");
        });
    };
    view! {
        <header class="top-bar">
            <A href="/campaigns" attr:class="top-bar__brand">
                <img src="/favicon.svg" alt="" width="28" height="28" />
                <span>"Facebook Audiences"</span>
            </A>
            {move || session.user.get().map(|user| view! {
                <div class="top-bar__user">
                    <span class="top-bar__email">{user.email}</span>
                    <span class="role-badge" title="Your role">{user.role.label()}</span>
                    <button type="button" class="button button--small" on:click=logout>"Log out"</button>
                </div>
            })}
        </header>
    }
}
