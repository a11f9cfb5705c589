use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_location};

/// Shown for any client route the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let location = use_location();
    view! {
        <Title text="Page not found" />
        <div class="page-header">
            <h1>"Page not found"</h1>
        </div>
        <p>
            "There is nothing at " <code>{move || location.pathname.get()}</code> ". "
            "The link may be out of date."
        </p>
        <p><A href="/campaigns">"Go to Campaigns"</A></p>
    }
}
