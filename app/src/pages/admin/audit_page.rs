use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{self, load::Load},
    components::layout::LocalTime,
};

/// `/audit` (admins): who changed what, when, newest first.
#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Load::new(api::list_audit);
    view! {
        <Title text="Audit log" />
        <div class="page-header"><h1>"Audit log"</h1></div>
        {move || match entries.get() {
            None => view! { <p class="loading">"Loading the audit log…"</p> }.into_any(),
            Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="empty-state">
                    "Nothing has changed yet. Every change to campaigns, labels, users, API keys and "
                    "the Facebook connection will be listed here: who, when, before and after."
                </p>
            }.into_any(),
            Some(Ok(list)) => view! {
                <table class="table">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|e| view! {
                            <tr>
                                <td><LocalTime at=e.at /></td>
                                <td>{e.actor}</td>
                                <td>{format!("{} {}", e.action, e.summary)}</td>
                                <td>{e.before.unwrap_or_default()}</td>
                                <td>{e.after.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
