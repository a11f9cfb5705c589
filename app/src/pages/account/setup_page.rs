use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use shared::{
    account::{LoginRequest, NewUser, Role, validate_new_user},
    error::FieldError,
};

use crate::{api, contexts::session_context::go};

/// `/setup`: creates the first admin. It only works while the instance has no users; afterwards
/// it sends visitors to the login page.
#[component]
pub fn SetupPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let busy = RwSignal::new(false);
    spawn_local(async move {
        if api::get_setup().await.is_ok_and(|s| !s.needed) {
            go("/login");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = NewUser {
            email: email.get_untracked(),
            password: password.get_untracked(),
            role: Role::Admin,
        };
        let problems = validate_new_user(&user);
        errors.set(problems.clone());
        if !problems.is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let form = LoginRequest {
                email: user.email,
                password: user.password,
            };
            match api::complete_setup(form).await {
                Ok(_) => go("/campaigns"),
                Err(err) => {
                    busy.set(false);
                    let mut fields = err.fields();
                    if fields.is_empty() {
                        fields.push(FieldError::new("", err.to_string()));
                    }
                    errors.set(fields);
                }
            }
        });
    };
    let error_for = move |path: &'static str| {
        move || {
            errors.with(|e| {
                e.iter()
                    .filter(|f| f.path == path)
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        }
    };
    view! {
        <Title text="Set up" />
        <section class="card sign-in" aria-labelledby="setup-title">
            <h1 id="setup-title">"Create the first admin"</h1>
            <p>"This server has no accounts yet. The admin you create here can add everyone else."</p>
            <form on:submit=submit>
                <div class="field">
                    <label for="setup-email">"E-mail address"</label>
                    <input id="setup-email" type="email" autocomplete="username" required maxlength="254"
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                    <p class="field-errors__message">{error_for("email")}</p>
                </div>
                <div class="field">
                    <label for="setup-password">"Password"</label>
                    <input id="setup-password" type="password" autocomplete="new-password" required maxlength="128"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                    <p class="field__hint">"At least 10 characters; a few words make a good password."</p>
                    <p class="field-errors__message">{error_for("password")}</p>
                </div>
                <p class="notice notice--error" role="alert" hidden=move || error_for("")().is_empty()>{error_for("")}</p>
                <button type="submit" class="button button--primary" disabled=move || busy.get()>"Create admin and sign in"</button>
            </form>
        </section>
    }
}
