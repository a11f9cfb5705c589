use leptos::{prelude::*, task::spawn_local};
use shared::settings::{FacebookMode, FacebookSettingsInput, validate_facebook_settings};

use crate::api::settings as api;

/// The admin's form: mode, the app id, and write-only token and app secret (blank keeps what is
/// saved). The pasted token is for system-user tokens; people connect with "Connect with
/// Facebook" instead.
#[component]
pub fn FacebookForm(
    /// The mode in use.
    mode: FacebookMode,
    /// "set, ends with …" of the saved token, shown as the empty input's placeholder.
    token_hint: String,
    /// The same for the app secret.
    secret_hint: String,
    /// The app id in use, shown as the empty input's placeholder.
    app_id_hint: String,
    on_saved: Callback<()>,
) -> impl IntoView {
    let mode = RwSignal::new(mode);
    let token = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let app_id = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let test_result = RwSignal::new(None::<(bool, String)>);
    // Save and Test show they are working, and cannot be sent twice meanwhile.
    let saving = RwSignal::new(false);
    let testing = RwSignal::new(false);
    let submit =
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // Blank inputs keep the saved secrets: the page never has them to show.
            let optional = |s: String| (!s.is_empty()).then_some(s);
            let input = FacebookSettingsInput {
                mode: mode.get_untracked(),
                access_token: optional(token.get_untracked()),
                app_secret: optional(secret.get_untracked()),
                app_id: optional(app_id.get_untracked().trim().to_owned()),
            };
            if let Some(e) = validate_facebook_settings(&input).into_iter().next() {
                error.set(Some(format!("{}: {}", e.path, e.message)));
                return;
            }
            saving.set(true);
            spawn_local(async move {
                let saved = api::put_facebook_settings(input).await;
                saving.try_set(false);
                match saved {
                    Ok(_) => {
                        error.set(None);
                        token.set(String::new());
                        secret.set(String::new());
                        app_id.set(String::new());
                        on_saved.run(());
                    }
                    Err(err) => error.set(Some(err.fields().into_iter().next().map_or_else(
                        || err.to_string(),
                        |f| format!("{}: {}", f.path, f.message),
                    ))),
                }
            });
        };
    let test = move |_| {
        test_result.set(None);
        testing.set(true);
        spawn_local(async move {
            let tested = api::test_facebook_connection().await;
            testing.try_set(false);
            test_result.try_set(Some(match tested {
                Ok(t) => (t.ok, t.message),
                Err(err) => (false, err.to_string()),
            }));
        });
    };
    let radio = move |value: FacebookMode, label: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="fb-mode" prop:checked=move || mode.get() == value
                    on:change=move |_| mode.set(value) />
                {label}
            </label>
        }
    };
    view! {
        <form class="stack-form" on:submit=submit aria-label="Facebook connection">
            <fieldset class="choice-group choice-group--row">
                <legend>"Mode"</legend>
                {radio(FacebookMode::Sandbox, "Sandbox")}
                {radio(FacebookMode::Live, "Live")}
            </fieldset>
            <div class="field">
                <label for="fb-token">"Access token (a system user's, from Business Manager)"</label>
                <input id="fb-token" type="password" autocomplete="off"
                    placeholder=token_hint
                    prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="fb-secret">"App secret"</label>
                <input id="fb-secret" type="password" autocomplete="off"
                    placeholder=secret_hint
                    prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="fb-app-id">"App ID (for Connect with Facebook)"</label>
                <input id="fb-app-id" type="text" inputmode="numeric" autocomplete="off"
                    placeholder=app_id_hint
                    prop:value=move || app_id.get() on:input=move |ev| app_id.set(event_target_value(&ev)) />
            </div>
            <p class="field__hint">"Leave a field blank to keep what is saved."</p>
            <div class="actions">
                <button type="submit" class="button button--primary" disabled=move || saving.get()
                    aria-busy=move || saving.get().to_string()>"Save"</button>
                <button type="button" class="button" on:click=test disabled=move || testing.get()
                    aria-busy=move || testing.get().to_string()>"Test connection"</button>
            </div>
            <p class="field-errors__message" role="alert" aria-live="polite">{move || error.get()}</p>
            {move || test_result.get().map(|(ok, message)| {
                let class = if ok { "notice notice--ok" } else { "notice notice--error" };
                view! { <p class=class role="status">{message}</p> }
            })}
        </form>
    }
}
