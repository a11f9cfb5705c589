use leptos::prelude::*;
use shared::settings::{FacebookMode, SettingsSource};

use super::{
    facebook_connect::FacebookConnect, facebook_form::FacebookForm, token_health::TokenHealthNotice,
};
use crate::{
    api::{load::Load, settings as api},
    contexts::session_context::use_session,
};

/// Settings → Facebook: the connection's status for everyone, its form for admins.
#[component]
pub fn FacebookSection() -> impl IntoView {
    let session = use_session();
    let saved = RwSignal::new(0_u32);
    let settings = Load::new(move || {
        saved.get();
        api::get_facebook_settings()
    });
    view! {
        <section class="card" aria-labelledby="facebook-connection">
            <h2 id="facebook-connection">"Facebook"</h2>
            {move || match settings.get() {
                None => view! { <p class="loading">"Loading the Facebook connection…"</p> }.into_any(),
                Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(s)) => {
                    // The top bar's sandbox badge follows what was just saved.
                    session.facebook_mode.set(Some(s.mode));
                    // In the sandbox nothing saved is needed: it accepts a built-in token, and
                    // "Token health" below is that token's. Saying only "not set" above "Valid
                    // until …" read as a contradiction.
                    let sandbox_token = s.mode == FacebookMode::Sandbox && !s.access_token.set;
                    let token_text = if sandbox_token {
                        "none saved: the sandbox uses its built-in token".to_owned()
                    } else {
                        s.access_token.describe()
                    };
                    let health_heading = if sandbox_token {
                        "Health of the sandbox's built-in token"
                    } else {
                        "Health of the token in use"
                    };
                    let mode = match s.mode {
                        FacebookMode::Sandbox => "Sandbox (the built-in Graph API emulation)",
                        FacebookMode::Live => "Live (graph.facebook.com)",
                    };
                    let source = match s.source {
                        SettingsSource::Stored => "saved on this page",
                        SettingsSource::Environment => "from the server's environment",
                    };
                    let accounts = s.ad_accounts.clone();
                    let problem = s.problem.clone();
                    let health = s.token.clone();
                    let app_id_hint = s.app_id.clone().unwrap_or_else(|| "not set".to_owned());
                    let form = session.is_admin().then(|| view! {
                        <h3>"Access token and app"</h3>
                        <FacebookForm mode=s.mode token_hint=s.access_token.describe() secret_hint=s.app_secret.describe() app_id_hint=app_id_hint on_saved=Callback::new(move |()| saved.update(|n| *n += 1)) />
                    });
                    let connect = view! { <FacebookConnect settings=s.clone() is_admin=session.is_admin() /> };
                    view! {
                        <dl class="facts">
                            <dt>"Mode"</dt><dd data-testid="fb-mode">{mode}</dd>
                            <dt>"Settings"</dt><dd>{source}</dd>
                            <dt>"Access token"</dt><dd data-testid="fb-token">{token_text}</dd>
                            <dt>"App secret"</dt><dd data-testid="fb-secret">{s.app_secret.describe()}</dd>
                            <dt>"App ID"</dt><dd data-testid="fb-app-id">{s.app_id.unwrap_or_else(|| "not set".to_owned())}</dd>
                        </dl>
                        {connect}
                        <h3>{health_heading}</h3>
                        <TokenHealthNotice health=health />
                        {problem.map(|p| view! { <p class="notice notice--error" role="alert">{p}</p> })}
                        <h3>"Connected ad accounts"</h3>
                        {if accounts.is_empty() {
                            view! { <p class="empty-state">"No ad accounts reachable with this token."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="ad-accounts" aria-label="Connected ad accounts">
                                    {accounts.into_iter().map(|a| view! { <li>{a.name}" "<code>{a.id}</code></li> }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {form}
                    }.into_any()
                }
            }}
        </section>
    }
}
