use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use shared::account::{NewApiKey, validate_new_api_key};

use crate::{
    api::{
        self,
        load::{Act, Load},
    },
    components::layout::LocalTime,
};

/// `/api-keys` (admins): keys for `POST /api/v1/upload`. A new key's secret is shown once.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<String>);
    let revoke = Act::new(api::revoke_api_key);
    let created = RwSignal::new(0_u32);
    let keys = Load::new(move || {
        revoke.version().get();
        created.get();
        api::list_api_keys()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = NewApiKey {
            name: name.get_untracked(),
        };
        if let Some(e) = validate_new_api_key(&key).into_iter().next() {
            error.set(Some(e.message));
            return;
        }
        spawn_local(async move {
            match api::create_api_key(key).await {
                Ok(done) => {
                    error.set(None);
                    name.set(String::new());
                    secret.set(Some(done.secret));
                    created.update(|n| *n += 1);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <Title text="API keys" />
        <div class="page-header"><h1>"API keys"</h1></div>
        <p>"Your backend sends one of these in the " <code>"X-Api-Key"</code> " header of " <code>"POST /api/v1/upload"</code> "."</p>
        <section class="notice notice--ok" role="status" hidden=move || secret.get().is_none()>
            <p>"Copy this key now: it will not be shown again."</p>
            <code class="secret">{move || secret.get()}</code>
        </section>
        {move || match keys.get() {
            None => view! { <p class="loading">"Loading keys…"</p> }.into_any(),
            Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="empty-state">
                    "No API keys yet. Create one below for each system that sends your users' events "
                    "and profiles to the upload API; the key is shown once."
                </p>
            }.into_any(),
            Some(Ok(list)) => view! {
                <table class="table">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|k| {
                            let id = k.id;
                            let aria = format!("Revoke {}", k.name);
                            view! {
                                <tr>
                                    <th scope="row">{k.name.clone()}</th>
                                    <td><code>{format!("{}…", k.prefix)}</code></td>
                                    <td><LocalTime at=k.created_at.clone() />{format!(" by {}", k.created_by)}</td>
                                    <td>{k.last_used_at.clone().map_or_else(|| "never".into_any(), |at| view! { <LocalTime at=at /> }.into_any())}</td>
                                    <td>{match k.revoked_at {
                                        Some(at) => view! { <span>"Revoked " <LocalTime at=at /></span> }.into_any(),
                                        None => view! {
                                            <button type="button" class="button button--small" aria-label=aria
                                                on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                        }.into_any(),
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
        <form class="inline-form" on:submit=submit>
            <div class="field">
                <label for="key-name">"New key name"</label>
                <input id="key-name" type="text" maxlength="80" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="button">"Create key"</button>
        </form>
        <p class="field-errors__message" aria-live="polite">{move || error.get()}</p>
    }
}
