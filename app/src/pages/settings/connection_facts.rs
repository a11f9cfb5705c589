use leptos::prelude::*;
use shared::settings::FacebookConnection;

/// Who connected, when, as whom, the permissions and the ad accounts.
#[component]
pub fn ConnectionFacts(connection: FacebookConnection) -> impl IntoView {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_owned();
    let declined = if connection.declined_scopes.is_empty() {
        "none".to_owned()
    } else {
        connection.declined_scopes.join(", ")
    };
    let accounts = if connection.ad_accounts.is_empty() {
        "none".to_owned()
    } else {
        connection
            .ad_accounts
            .iter()
            .map(|a| format!("{} ({})", a.name, a.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <dl class="facts" data-testid="fb-connection">
            <dt>"Connected by"</dt><dd data-testid="fb-connected-by">{connection.connected_by.clone()}</dd>
            <dt>"Connected on"</dt><dd>{day(&connection.connected_at)}</dd>
            <dt>"Facebook user"</dt><dd>{connection.facebook_user.clone()}</dd>
            <dt>"Permissions granted"</dt><dd data-testid="fb-granted">{connection.granted_scopes.join(", ")}</dd>
            <dt>"Permissions declined"</dt><dd data-testid="fb-declined">{declined}</dd>
            <dt>"Ad accounts granted"</dt><dd data-testid="fb-granted-accounts">{accounts}</dd>
            <dt>"Token expires"</dt><dd>{connection.expires_at.as_deref().map_or_else(|| "never".to_owned(), day)}</dd>
        </dl>
    }
}
