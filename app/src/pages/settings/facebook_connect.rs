use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_query_map;
use shared::settings::{ConnectOutcome, FacebookSettings, REFUSED_CONNECT_MESSAGE};

use super::connection_facts::ConnectionFacts;
use crate::api::settings as api;

/// "Connect with Facebook": who connected the token in use, when, what Facebook granted, the
/// outcome of the last attempt (after Facebook sends the browser back), and the button (admins).
#[component]
pub fn FacebookConnect(settings: FacebookSettings, is_admin: bool) -> impl IntoView {
    let FacebookSettings {
        connection,
        reconnect,
        login_problem,
        last_connect,
        ..
    } = settings;
    let query = use_query_map();
    let last = last_connect.map(|a| (a.outcome, a.message));
    // `?facebook=<outcome>` is set by the server's callback; its text comes from the server's
    // record of the attempt (or a fixed one), never from the address itself.
    let banner = move || {
        let outcome = query
            .with(|q| q.get("facebook"))
            .and_then(|o| ConnectOutcome::parse(&o))?;
        let message = match (outcome, &last) {
            (ConnectOutcome::Refused, _) => REFUSED_CONNECT_MESSAGE.to_owned(),
            (_, Some((o, m))) if *o == outcome => m.clone(),
            _ => return None,
        };
        let class = match outcome {
            ConnectOutcome::Connected => "notice notice--ok",
            ConnectOutcome::Cancelled => "notice",
            ConnectOutcome::Partial => "notice notice--warning",
            ConnectOutcome::Failed | ConnectOutcome::Refused => "notice notice--error",
        };
        Some(
            view! { <p class=class role="status" data-testid="fb-connect-outcome" data-outcome=outcome.as_str()>{message}</p> },
        )
    };
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let connect = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::connect_facebook().await {
                // A full navigation: Facebook's dialog is another site's page.
                Ok(start) => {
                    if let Some(w) = web_sys::window()
                        && w.location().set_href(&start.url).is_err()
                    {
                        error.set(Some("The browser did not open Facebook's dialog.".into()));
                        busy.set(false);
                    }
                }
                Err(err) => {
                    error.set(Some(err.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    let connected = connection.is_some();
    let label = if connected {
        "Reconnect with Facebook"
    } else {
        "Connect with Facebook"
    };
    let button = (is_admin && login_problem.is_none()).then(|| {
        view! {
            <button type="button" class="button" on:click=connect disabled=move || busy.get()
                aria-busy=move || busy.get().to_string()>{label}</button>
        }
    });
    view! {
        // Not a <section>: a second region named "…Facebook" inside the Facebook one.
        <div data-testid="fb-connect">
            <h3>"Connect with Facebook"</h3>
            {banner}
            {connection.map(|c| view! { <ConnectionFacts connection=c /> })}
            {reconnect.map(|r| view! { <p class="notice notice--warning" role="alert" data-testid="fb-reconnect">{r}</p> })}
            {if connected {
                None
            } else {
                Some(view! {
                    <p class="field__hint">"Sign in with a Facebook account that manages your ad accounts and allow "
                        <code>"ads_management"</code>", "<code>"ads_read"</code>" and "<code>"business_management"</code>
                        ". An agency or always-on server may paste a system user's token below instead."</p>
                })
            }}
            {is_admin.then_some(login_problem).flatten().map(|p| view! { <p class="notice notice--warning">{p}</p> })}
            {button}
            <p class="field-errors__message" role="alert" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}
