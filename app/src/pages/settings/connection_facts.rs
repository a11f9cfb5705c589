use leptos::prelude::*;
use shared::settings::FacebookConnection;

use crate::components::layout::LocalTime;

/// Who connected, when, as whom, the permissions and the ad accounts.
#[component]
pub fn ConnectionFacts(connection: FacebookConnection) -> impl IntoView {
    let FacebookConnection {
        connected_by,
        connected_at,
        facebook_user,
        granted_scopes,
        declined_scopes,
        ad_accounts,
        expires_at,
    } = connection;
    let declined = if declined_scopes.is_empty() {
        "none".to_owned()
    } else {
        declined_scopes.join(", ")
    };
    let accounts = if ad_accounts.is_empty() {
        "none".to_owned()
    } else {
        ad_accounts
            .iter()
            .map(|a| format!("{} ({})", a.name, a.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <dl class="facts" data-testid="fb-connection">
            <dt>"Connected by"</dt><dd data-testid="fb-connected-by">{connected_by}</dd>
            <dt>"Connected on"</dt><dd><LocalTime at=connected_at /></dd>
            <dt>"Facebook user"</dt><dd>{facebook_user}</dd>
            <dt>"Permissions granted"</dt><dd data-testid="fb-granted">{granted_scopes.join(", ")}</dd>
            <dt>"Permissions declined"</dt><dd data-testid="fb-declined">{declined}</dd>
            <dt>"Ad accounts granted"</dt><dd data-testid="fb-granted-accounts">{accounts}</dd>
            <dt>"Token expires"</dt><dd>{expires_at.map_or_else(|| "never".into_any(), |at| view! { <LocalTime at=at /> }.into_any())}</dd>
        </dl>
    }
}
