use leptos::prelude::*;
use leptos_router::components::A;

/// The bar across the top: the product's name, which leads home.
#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="top-bar">
            <A href="/campaigns" attr:class="top-bar__brand">
                <img src="/favicon.svg" alt="" width="28" height="28" />
                <span>"Facebook Audiences"</span>
            </A>
        </header>
    }
}
