use leptos::prelude::*;
use leptos_meta::Title;

use super::facebook_section::FacebookSection;

/// `/settings`: the Facebook connection and the instance's configuration.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <div class="page-header">
            <h1>"Settings"</h1>
        </div>
        <FacebookSection />
    }
}
