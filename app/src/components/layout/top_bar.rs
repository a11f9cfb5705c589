use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use shared::settings::FacebookMode;

use crate::{
    api,
    contexts::session_context::{go, use_session},
};

/// The bar across the top: the menu button (narrow screens), the product's name, which leads
/// home, a badge while Facebook is the sandbox, and who is signed in with their role and a way to
/// sign out.
#[component]
pub fn TopBar(
    /// Whether the navigation menu is open (it is a menu below 64rem of width only).
    menu_open: RwSignal<bool>,
) -> impl IntoView {
    let session = use_session();
    let logout = move |_| {
        spawn_local(async move {
            // Signed out or not, the login page is where to go next.
            let _ = api::logout().await;
            go("/login");
        });
    };
    let signed_in = move || session.user.with(Option::is_some);
    let sandbox = move || signed_in() && session.facebook_mode.get() == Some(FacebookMode::Sandbox);
    view! {
        <header class="top-bar">
            <Show when=signed_in>
                <button type="button" class="button button--quiet top-bar__menu" aria-controls="main-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|open| *open = !*open)>
                    <svg aria-hidden="true" width="18" height="18" viewBox="0 0 18 18">
                        <path d="M2 4h14M2 9h14M2 14h14" stroke="currentColor" stroke-width="2" fill="none" />
                    </svg>
                    <span class="top-bar__label">"Menu"</span>
                </button>
            </Show>
            <A href="/campaigns" attr:class="top-bar__brand">
                <img src="/favicon.svg" alt="" width="28" height="28" />
                <span class="top-bar__label">"Facebook Audiences"</span>
            </A>
            // Every role sees it: the figures and audiences behind it are the emulation's.
            <Show when=sandbox>
                <A href="/settings" attr:class="sandbox-badge"
                    attr:title="Facebook is the built-in sandbox: nothing reaches real ad accounts">
                    "Sandbox"<span class="visually-hidden">" mode: nothing reaches real Facebook ad accounts"</span>
                </A>
            </Show>
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
