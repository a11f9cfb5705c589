use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::contexts::session_context::use_session;

/// The main navigation, once someone is signed in; admins also get the account pages. `A` marks
/// the current page with `aria-current="page"`, which the stylesheet highlights and screen
/// readers announce. On narrow screens it is hidden behind the top bar's menu button (`open`),
/// and closes again when a page is chosen.
#[component]
pub fn SideNav(open: RwSignal<bool>) -> impl IntoView {
    let session = use_session();
    view! {
        <nav id="main-nav" class="side-nav" class:side-nav--open=move || open.get() aria-label="Main"
            hidden=move || session.user.with(Option::is_none)
            // Choosing a page closes the menu (one listener for every link).
            on:click=move |ev| {
                let on_link = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|el| el.closest("a").ok().flatten())
                    .is_some();
                if on_link {
                    open.set(false);
                }
            }
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    open.set(false);
                    focus_menu_button();
                }
            }>
            <ul>
                <li><A href="/campaigns">"Campaigns"</A></li>
                <li><A href="/segments">"Segments"</A></li>
                <li><A href="/data">"Data"</A></li>
                <li><A href="/settings">"Settings"</A></li>
            </ul>
            <Show when=move || session.is_admin()>
                <ul class="side-nav__admin" aria-label="Administration">
                    <li><A href="/users">"Users"</A></li>
                    <li><A href="/api-keys">"API keys"</A></li>
                    <li><A href="/audit">"Audit log"</A></li>
                </ul>
            </Show>
        </nav>
    }
}

/// Back to the button that opened the menu: focus must not fall to the page's start.
fn focus_menu_button() {
    let button = document()
        .query_selector(".top-bar__menu")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}
