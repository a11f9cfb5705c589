use leptos::{prelude::*, task::spawn_local};
use shared::consent::{ConsentInput, validate_consent_input};

use crate::api::settings as api;

/// The admins' form of Settings → Ads consent: the property's name, checked by `shared`
/// before it is sent (the server checks it again, with the type the property has).
#[component]
pub fn ConsentForm(current: String, on_saved: Callback<()>) -> impl IntoView {
    let property = RwSignal::new(current);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ConsentInput {
            property: Some(property.get_untracked()),
        };
        if let Err(e) = validate_consent_input(&input) {
            error.set(Some(e.message));
            return;
        }
        spawn_local(async move {
            match api::put_consent(input).await {
                Ok(_) => {
                    error.try_set(None);
                    on_saved.run(());
                }
                Err(err) => {
                    error.try_set(Some(
                        err.fields()
                            .into_iter()
                            .next()
                            .map_or_else(|| err.to_string(), |f| f.message),
                    ));
                }
            }
        });
    };
    view! {
        <form class="stack-form" on:submit=submit aria-label="Ads consent">
            <div class="field">
                <label for="consent-property">"Consent property (boolean)"</label>
                <input id="consent-property" type="text" autocomplete="off" placeholder="ads_consent"
                    prop:value=move || property.get() on:input=move |ev| property.set(event_target_value(&ev)) />
            </div>
            <div class="actions">
                <button type="submit" class="button">"Save"</button>
            </div>
            <p class="field-errors__message" role="alert" aria-live="polite">{move || error.get()}</p>
        </form>
    }
}
