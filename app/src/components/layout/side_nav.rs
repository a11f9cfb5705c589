use leptos::prelude::*;
use leptos_router::components::A;

use crate::contexts::session_context::use_session;

/// The main navigation, once someone is signed in; admins also get the account pages. `A` marks
/// the current page with `aria-current="page"`, which the stylesheet highlights and screen
/// readers announce.
#[component]
pub fn SideNav() -> impl IntoView {
    let session = use_session();
    view! {
        <nav class="side-nav" aria-label="Main">
            <Show when=move || session.user.with(Option::is_some)>
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
            </Show>
        </nav>
    }
}
