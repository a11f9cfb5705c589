use leptos::prelude::*;

use crate::api::{self, load::Load};

/// The footer: which server version and database this app is talking to, or why it cannot.
#[component]
pub fn ServerFooter() -> impl IntoView {
    let health = Load::new(api::get_health);
    view! {
        <footer class="footer">
            {move || match health.get() {
                None => view! { <span class="footer__status">"Connecting to the server…"</span> }.into_any(),
                Some(Ok(h)) => view! {
                    <span class="footer__status footer__status--ok">
                        {format!("Server {} · {}", h.version, h.database.label())}
                    </span>
                }.into_any(),
                Some(Err(err)) => view! {
                    <span class="footer__status footer__status--error" role="alert">
                        {format!("Server unreachable: {err}")}
                        " "
                        <button type="button" class="link-button" on:click=move |_| health.refetch()>
                            "Retry"
                        </button>
                    </span>
                }.into_any(),
            }}
        </footer>
    }
}
