use leptos::prelude::*;
use leptos_meta::Title;

/// `/settings`: the Facebook connection and the instance's configuration.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <div class="page-header">
            <h1>"Settings"</h1>
        </div>
        <section class="card" aria-labelledby="facebook-connection">
            <h2 id="facebook-connection">"Facebook connection"</h2>
            <p>
                "This server talks to its built-in Graph API sandbox, so you can try every feature "
                "before connecting a real Facebook app."
            </p>
        </section>
    }
}
