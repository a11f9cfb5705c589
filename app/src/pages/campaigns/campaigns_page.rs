use leptos::prelude::*;
use leptos_meta::Title;

/// `/campaigns`: the marketer's home.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    view! {
        <Title text="Campaigns" />
        <div class="page-header">
            <h1>"Campaigns"</h1>
        </div>
        <section class="empty-state" aria-labelledby="no-campaigns">
            <h2 id="no-campaigns">"No campaigns yet"</h2>
            <p>
                "A Facebook Audiences campaign keeps a Custom Audience on Facebook in step with a "
                "segment of your users, on the schedule you choose, and brings the ad stats back here."
            </p>
        </section>
    }
}
