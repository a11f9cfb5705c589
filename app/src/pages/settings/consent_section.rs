use leptos::prelude::*;
use shared::consent::ConsentSettings;

use super::consent_form::ConsentForm;
use crate::{
    api::{load::Load, settings as api},
    contexts::session_context::use_session,
};

/// Settings → Ads consent: the boolean profile property syncs filter on, for everyone to see;
/// admins set or clear it.
#[component]
pub fn ConsentSection() -> impl IntoView {
    let session = use_session();
    let saved = RwSignal::new(0_u32);
    let settings = Load::new(move || {
        saved.get();
        api::get_consent()
    });
    view! {
        <section class="card" aria-labelledby="consent-heading">
            <h2 id="consent-heading">"Ads consent"</h2>
            <p class="hint">
                "Name a boolean profile property (for example ads_consent) and every sync sends only the people "
                "whose property is true; anyone else is held back, and someone who withdraws consent leaves every "
                "campaign's Facebook audience at its next run. Leave it empty to send everyone in the segment."
            </p>
            {move || match settings.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(s)) => {
                    let status = describe(&s);
                    let form = session.is_admin().then(|| view! {
                        <ConsentForm current=s.property.clone().unwrap_or_default() on_saved=Callback::new(move |()| saved.update(|n| *n += 1)) />
                    });
                    view! {
                        <p data-testid="consent-status" role="status">{status}</p>
                        {form}
                    }.into_any()
                }
            }}
        </section>
    }
}

fn describe(s: &ConsentSettings) -> String {
    match &s.property {
        None => "Off: syncs send everyone in the segment.".to_owned(),
        Some(p) => format!(
            "On: syncs send only people whose \u{201c}{p}\u{201d} is true — {} of {} profiles now.",
            s.consenting, s.profiles
        ),
    }
}
