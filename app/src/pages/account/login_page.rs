use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use shared::account::{LoginRequest, validate_login};

use crate::{
    api,
    contexts::session_context::{go, safe_next},
};

/// `/login`: e-mail and password. Afterwards the user lands where the 401 found them (`?next=`).
/// While the instance has no users yet, it sends them to first-run setup instead.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        if api::get_setup().await.is_ok_and(|s| s.needed) {
            go("/setup");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        if let Some(e) = validate_login(&form).into_iter().next() {
            error.set(Some(e.message));
            return;
        }
        busy.set(true);
        let next = safe_next(query.with_untracked(|q| q.get("next")));
        spawn_local(async move {
            match api::login(form).await {
                Ok(_) => go(&next),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.to_string()));
                }
            }
        });
    };
    view! {
        <Title text="Sign in" />
        <section class="card sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <form on:submit=submit>
                <div class="field">
                    <label for="login-email">"E-mail address"</label>
                    <input id="login-email" type="email" autocomplete="username" required maxlength="254"
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" autocomplete="current-password" required maxlength="128"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <p class="notice notice--error" role="alert" hidden=move || error.get().is_none()>{move || error.get()}</p>
                <button type="submit" class="button button--primary" disabled=move || busy.get()>"Sign in"</button>
            </form>
        </section>
    }
}
