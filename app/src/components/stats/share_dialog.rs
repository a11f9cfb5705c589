use leptos::{prelude::*, task::spawn_local};
use shared::stats::{NewShareLink, ShareLink, ShareLinkStatus};

use crate::{
    api::{
        load::{Act, Load},
        stats as api,
    },
    components::layout::LocalTime,
};

/// "Share": creates read-only public links to this campaign's stats (optionally expiring), shows
/// the new link once to copy, and lists the campaign's links so each can be revoked. A native
/// modal `<dialog>`: the browser centres it inside the viewport, keeps focus in it, closes it with
/// Escape and gives focus back to "Share".
#[component]
pub fn ShareDialog(campaign_id: i64) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let open = RwSignal::new(false);
    let expires_on = RwSignal::new(String::new());
    // The new link (its id, and its address, shown once).
    let created_url = RwSignal::new(None::<(i64, String)>);
    let copy_note = RwSignal::new(String::new());
    let create = Act::new(move |expires_on: String| {
        let input = NewShareLink {
            expires_at: end_of_day(&expires_on),
        };
        async move { api::create_share_link(campaign_id, input).await }
    });
    let revoke = Act::new(move |link_id: i64| api::revoke_share_link(campaign_id, link_id));
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            let origin = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            created_url.set(Some((created.link.id, format!("{origin}{}", created.path))));
            copy_note.set(String::new());
        }
    });
    // A revoked link no longer works: its address must not stay beside "Copy it now".
    Effect::new(move |_| {
        if let Some(Ok(revoked)) = revoke.value().get()
            && created_url.with_untracked(|c| c.as_ref().is_some_and(|(id, _)| *id == revoked.id))
        {
            created_url.set(None);
            copy_note.set(String::new());
        }
    });
    let show = move |_| {
        if let Some(d) = dialog.get_untracked()
            && d.show_modal().is_ok()
        {
            open.set(true);
        }
    };
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let links = Load::new(move || {
        create.version().get();
        revoke.version().get();
        api::list_share_links(campaign_id)
    });
    let error = move || match (create.value().get(), revoke.value().get()) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(e.to_string()),
        _ => None,
    };
    let copy = move |_| {
        let Some((_, url)) = created_url.get_untracked() else {
            return;
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        let promise = window.navigator().clipboard().write_text(&url);
        spawn_local(async move {
            let note = match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(_) => "Copied.",
                Err(_) => "Your browser did not allow copying; select the link and copy it.",
            };
            copy_note.set(note.to_owned());
        });
    };

    view! {
        <button type="button" class="button" aria-haspopup="dialog" aria-expanded=move || open.get().to_string()
            on:click=show>"Share"</button>
        <dialog node_ref=dialog class="dialog share-dialog" aria-labelledby="share-heading"
            on:close=move |_| open.set(false)>
            <div class="dialog__head">
                <h2 id="share-heading">"Share these stats"</h2>
                <button type="button" class="button button--quiet button--small" on:click=close>"Close"</button>
            </div>
            <p class="muted">
                "Anyone with the link can see this campaign's stats, read-only, without signing in. "
                "They see nothing else of the app."
            </p>
            <form class="share-dialog__create" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(expires_on.get_untracked());
            }>
                <label>"Expires after (optional) " <input type="date" bind:value=expires_on /></label>
                <button type="submit" class="button button--primary" disabled=move || create.pending()>"Create link"</button>
            </form>
            <p class="notice notice--error" role="alert" hidden=move || error().is_none()>{error}</p>
            {move || created_url.get().map(|(_, url)| view! {
                <div class="share-dialog__new">
                    <label>"Share link " <input type="text" readonly=true value=url class="share-dialog__url" /></label>
                    <button type="button" class="button button--small" on:click=copy>"Copy"</button>
                    <span role="status">{move || copy_note.get()}</span>
                    <p class="muted">"Copy it now: the link is shown only once."</p>
                </div>
            })}
            <h3>"Links"</h3>
            {move || match links.get() {
                None => view! { <p class="loading">"Loading links…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--error">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No links yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="share-dialog__links" aria-label="Share links">
                        {list.iter().map(|l| link_item(l, revoke)).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </dialog>
    }
}

fn link_item(
    link: &ShareLink,
    revoke: Act<i64, Result<ShareLink, crate::api::ClientError>>,
) -> impl IntoView {
    let created = link.created_at.to_string();
    let expiry = link.expires_at.map_or_else(
        || "never expires".into_any(),
        |e| view! { "expires " <LocalTime at=e.to_string() /> }.into_any(),
    );
    let id = link.id;
    view! {
        <li>
            <span>{format!("Link #{id}, created ")} <LocalTime at=created /> ", " {expiry}</span>
            " "
            <span class=format!("status status--{}", link.status.label().to_lowercase())>{link.status.label()}</span>
            {(link.status == ShareLinkStatus::Active).then(|| view! {
                " "
                <button type="button" class="button button--small" aria-label=format!("Revoke link #{id}")
                    on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
            })}
        </li>
    }
}

/// The end of the chosen day in the browser's time zone, as the expiry instant. The browser's
/// `Date` reads the day on the viewer's clock: jiff has no zone database in the browser.
fn end_of_day(date: &str) -> Option<jiff::Timestamp> {
    let date: jiff::civil::Date = date.parse().ok()?;
    let end = js_sys::Date::new_with_year_month_day_hr_min_sec(
        u32::try_from(date.year()).ok()?,
        i32::from(date.month()) - 1,
        i32::from(date.day()),
        23,
        59,
        59,
    );
    jiff::Timestamp::from_millisecond(end.get_time() as i64).ok()
}
