use leptos::{prelude::*, task::spawn_local};
use shared::{
    account::{NewUser, Role, validate_new_user},
    error::FieldError,
};

use crate::api;

/// Adds a user with an initial password the admin passes on to them.
#[component]
pub fn NewUserForm(
    /// Called after the user was created, to reload the list.
    on_created: Callback<()>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Marketer);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = NewUser {
            email: email.get_untracked(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        // The rules the server applies, checked here first.
        let problems = validate_new_user(&user);
        errors.set(problems.clone());
        if !problems.is_empty() {
            return;
        }
        spawn_local(async move {
            match api::create_user(user).await {
                Ok(_) => {
                    email.set(String::new());
                    password.set(String::new());
                    on_created.run(());
                }
                Err(err) => {
                    let mut fields = err.fields();
                    if fields.is_empty() {
                        fields.push(FieldError::new("", err.to_string()));
                    }
                    errors.set(fields);
                }
            }
        });
    };
    let messages = move || {
        errors.with(|e| {
            e.iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    view! {
        <section class="card" aria-labelledby="new-user-title">
            <h2 id="new-user-title">"Add a user"</h2>
            <form class="inline-form" on:submit=submit>
                <div class="field">
                    <label for="new-user-email">"E-mail address"</label>
                    <input id="new-user-email" type="email" maxlength="254" prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="new-user-password">"Initial password"</label>
                    <input id="new-user-password" type="password" autocomplete="new-password" maxlength="128"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" on:change=move |ev| {
                        if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r); }
                    }>
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Add user"</button>
            </form>
            <p class="field-errors__message" aria-live="polite">{messages}</p>
        </section>
    }
}
