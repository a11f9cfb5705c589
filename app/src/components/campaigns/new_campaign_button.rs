use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{contexts::session_context::use_session, lazy_pages::prefetch_wizard};

/// "+ Campaign": opens the wizard on a new, untitled campaign. Nothing is stored until the user
/// types a name or makes a choice there (its first save creates the campaign), so opening it
/// and turning back leaves no empty draft in the list. Viewers, who may not create, do not
/// see it.
#[component]
pub fn NewCampaignButton() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    view! {
        <div class="new-campaign" hidden=move || !session.can_edit()>
            <button type="button" class="button button--primary"
                on:pointerenter=|_| prefetch_wizard() on:focus=|_| prefetch_wizard()
                on:click=move |_| navigate("/campaigns/new/edit/when", Default::default())>
                "+ Campaign"
            </button>
        </div>
    }
}
