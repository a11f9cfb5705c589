use leptos::prelude::*;

/// Shown instead of a lazily loaded page whose code could not be downloaded (the connection
/// dropped, or the server was updated since this tab loaded). Nothing was lost: wizard work is
/// saved as the user goes, so reloading the same address is the whole remedy.
#[component]
pub fn PageLoadError() -> impl IntoView {
    view! {
        <div class="notice notice--error" role="alert">
            <p>
                "This page could not be downloaded. Check your connection, then reload: "
                "your saved work is kept."
            </p>
            <button type="button" class="button" on:click=|_| reload()>"Reload"</button>
        </div>
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
