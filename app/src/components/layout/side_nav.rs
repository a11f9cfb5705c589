use leptos::prelude::*;
use leptos_router::components::A;

/// The main navigation. `A` marks the current page with `aria-current="page"`, which the
/// stylesheet highlights and screen readers announce.
#[component]
pub fn SideNav() -> impl IntoView {
    view! {
        <nav class="side-nav" aria-label="Main">
            <ul>
                <li><A href="/campaigns">"Campaigns"</A></li>
                <li><A href="/segments">"Segments"</A></li>
                <li><A href="/settings">"Settings"</A></li>
            </ul>
        </nav>
    }
}
