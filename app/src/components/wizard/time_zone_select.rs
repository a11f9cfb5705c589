use leptos::prelude::*;

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// Common IANA zones, offered until the server's full list arrives (or if it cannot be loaded);
/// the schedule's own zone is added when it is not one of them.
const ZONES: [&str; 24] = [
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Manila",
];

/// The schedule's time zone: every date and time in it is a wall-clock time there.
#[component]
pub fn TimeZoneSelect() -> impl IntoView {
    let editor = use_editor();
    let current = Memo::new(move |_| {
        editor.draft.with(|d| {
            d.schedule
                .as_ref()
                .map(|s| s.time_zone.clone())
                .unwrap_or_default()
        })
    });
    let options = move || {
        let current = current.get();
        let mut zones: Vec<String> = editor
            .zones
            .names()
            .unwrap_or_else(|| ZONES.iter().map(|z| (*z).to_owned()).collect());
        if !current.is_empty() && !zones.contains(&current) {
            zones.insert(0, current);
        }
        zones
    };
    let load_error = move || {
        editor
            .zones
            .failure(&current.get())
            .map(|e| format!("This time zone could not be loaded: {e}"))
    };
    view! {
        <div class="field">
            <label for="time-zone">"Time zone"</label>
            <select
                id="time-zone"
                aria-describedby=error_id("schedule.time_zone")
                on:change=move |ev| {
                    // Load the zone's rules first, so the preview never shows a half-known zone.
                    editor.zones.load_then(event_target_value(&ev), move |tz| {
                        editor.edit_schedule(|s| s.time_zone = tz)
                    });
                }
            >
                <For each=options key=|z| z.clone() let:zone>
                    {
                        let z = zone.clone();
                        let value = zone.clone();
                        view! {
                            <option value=value prop:selected=move || current.get() == z>
                                {zone}
                            </option>
                        }
                    }
                </For>
            </select>
            <FieldErrors path="schedule.time_zone" />
            <p class="field-errors__message" hidden=move || load_error().is_none()>{load_error}</p>
        </div>
    }
}
