use leptos::prelude::*;
use shared::settings::TokenHealth;

/// What Facebook says about the access token: valid or not, until when, a warning when it
/// expires within a week, and the permissions it lacks.
#[component]
pub fn TokenHealthNotice(health: Option<TokenHealth>) -> impl IntoView {
    let Some(health) = health else {
        return view! {
            <p class="notice" data-testid="fb-token-health">"Token health unknown: Facebook did not answer."</p>
        }
        .into_any();
    };
    // Invalid or lacking permissions: syncs fail; expiring soon: they will.
    let class = if !health.valid || !health.missing_scopes.is_empty() {
        "notice notice--error"
    } else if health.expires_soon {
        "notice notice--warning"
    } else {
        "notice notice--ok"
    };
    let role = (class != "notice notice--ok").then_some("alert");
    view! {
        <p class=class role=role data-testid="fb-token-health"
            data-valid=health.valid.to_string() data-expires-soon=health.expires_soon.to_string()>
            {health.summary(crate::local_time::instant)}
        </p>
    }
    .into_any()
}
