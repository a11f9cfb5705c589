use leptos::prelude::*;
use shared::{data_overview::KeyCoverage, stats::format_count};

/// Profiles per Facebook match key: the more keys, the more people Facebook can match.
#[component]
pub fn KeyCoverageList(keys: Vec<KeyCoverage>, profiles: u64) -> impl IntoView {
    view! {
        <table class="campaigns data-table">
            <caption>"Facebook match keys"</caption>
            <thead>
                <tr>
                    <th scope="col">"Key"</th>
                    <th scope="col" class="num">"Profiles"</th>
                    <th scope="col" class="num">"Share"</th>
                </tr>
            </thead>
            <tbody>
                {keys
                    .into_iter()
                    .map(|k| {
                        let share = (k.profiles * 100).checked_div(profiles).unwrap_or(0);
                        view! {
                            <tr>
                                <th scope="row">{key_label(&k.key)}</th>
                                <td class="num">{format_count(k.profiles)}</td>
                                <td class="num">{format!("{share}%")}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Facebook's names for its match keys, as the marketer knows them from Ads Manager.
fn key_label(key: &str) -> String {
    match key {
        "email" => "E-mail".into(),
        "phone" => "Phone".into(),
        "first_name" => "First name".into(),
        "last_name" => "Last name".into(),
        "gender" => "Gender".into(),
        "date_of_birth" => "Date of birth".into(),
        "city" => "City".into(),
        "state" => "State".into(),
        "zip" => "ZIP / postal code".into(),
        "country" => "Country".into(),
        "madid" => "Mobile advertiser ID".into(),
        other => other.to_owned(),
    }
}
