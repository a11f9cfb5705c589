use leptos::prelude::*;

use crate::api;

/// The footer: which server version and database this app is talking to, or why it cannot.
#[component]
pub fn ServerFooter() -> impl IntoView {
    let health = LocalResource::new(api::get_health);
    view! {
        <footer class="footer">
            <Suspense fallback=|| view! { <span class="footer__status">"Connecting to the server…"</span> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) => view! {
                            <span class="footer__status footer__status--ok">
                                {format!("Server {} · {}", h.version, h.database.label())}
                            </span>
                        }.into_any(),
                        Err(err) => view! {
                            <span class="footer__status footer__status--error" role="alert">
                                {format!("Server unreachable: {err}")}
                                " "
                                <button type="button" class="link-button" on:click=move |_| health.refetch()>
                                    "Retry"
                                </button>
                            </span>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </footer>
    }
}
