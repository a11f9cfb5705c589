use leptos::{prelude::*, task::spawn_local};

use leptos_router::{NavigateOptions, hooks::use_navigate};

use crate::api::profiles as api;

/// Admins only: erase the person, after a confirmation that says what it does. The profile,
/// its properties, events and match keys go, and every Facebook audience holding the person
/// loses them at once.
#[component]
pub fn EraseProfileButton(identity: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let heading = format!("Erase {identity}?");
    let who = identity;
    let navigate = use_navigate();
    let erase = move |_| {
        let navigate = navigate.clone();
        let identity = who.clone();
        busy.set(true);
        spawn_local(async move {
            match api::delete_profile(identity.clone()).await {
                // The Data page says what happened (the profile page no longer exists).
                Ok(done) => navigate(
                    &format!("/data?erased={}", done.audiences),
                    NavigateOptions::default(),
                ),
                Err(e) => {
                    busy.try_set(false);
                    error.try_set(Some(format!("The profile could not be erased: {e}")));
                }
            }
        });
    };
    view! {
        <button type="button" class="button button--danger" on:click=move |_| open.set(true)>
            "Delete this person"
        </button>
        <section
            class="confirm-dialog"
            role="alertdialog"
            aria-modal="true"
            aria-labelledby="erase-heading"
            aria-describedby="erase-what"
            hidden=move || !open.get()
        >
            <h2 id="erase-heading">{heading}</h2>
            <p id="erase-what">
                "Their profile, properties, events and Facebook match keys are deleted for good, and "
                "they are removed from every campaign's Facebook audience now, without waiting for the next run. "
                "The audit log records that a profile was erased, not who it was. "
                "If the same identity is sent again later, it becomes a new profile."
            </p>
            {move || error.get().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
            <div class="confirm-dialog__actions">
                <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="button button--danger" disabled=move || busy.get() on:click=erase>
                    "Erase for good"
                </button>
            </div>
        </section>
    }
}
