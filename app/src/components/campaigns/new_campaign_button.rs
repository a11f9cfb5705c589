use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{self, load::Act},
    contexts::session_context::use_session,
    lazy_pages::prefetch_wizard,
};

/// "+ Campaign": creates a draft on the server and opens the wizard at its first step, so the
/// work is saved from the first keystroke. Viewers, who may not create, do not see it.
#[component]
pub fn NewCampaignButton() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let create = Act::new(|()| api::create_campaign("Untitled campaign"));
    Effect::new(move |_| {
        if let Some(Ok(c)) = create.value().get() {
            navigate(
                &format!("/campaigns/{}/edit/when", c.id),
                Default::default(),
            );
        }
    });
    let error = move || match create.value().get() {
        Some(Err(err)) => Some(format!("The campaign could not be created: {err}")),
        _ => None,
    };
    view! {
        <div class="new-campaign" hidden=move || !session.can_edit()>
            <button type="button" class="button button--primary" disabled=move || create.pending()
                on:pointerenter=|_| prefetch_wizard() on:focus=|_| prefetch_wizard()
                on:click=move |_| { create.dispatch(()); }>
                "+ Campaign"
            </button>
            <p class="field-errors__message" role="alert" hidden=move || error().is_none()>{error}</p>
        </div>
    }
}
