use jiff::{Timestamp, ToSpan, civil::DateTime};
use leptos::{prelude::*, task::spawn_local};
use shared::schedule::{
    End, Repeat, Schedule, ScheduleKind,
    default_zone::{AccountZone, DefaultZone, default_time_zone},
};

use crate::{
    api::{
        facebook::{self, FbItem},
        load::Load,
    },
    components::wizard::{
        FieldErrors, FixedTimesFields, RecurringFields, SchedulePreview, StepHeading,
        TimeZoneSelect,
    },
    contexts::{editor_context::use_editor, time_zones_context::browser_time_zone},
};

/// The kinds of schedule, as the radio buttons offer them.
const KINDS: [(&str, &str); 4] = [
    ("now", "As soon as it is scheduled"),
    ("once", "Once, on a date"),
    ("multiple", "On several dates"),
    ("recurring", "Recurring"),
];

/// Step 1, When: the kind of schedule, its dates and times, the time zone, and a live preview
/// of the next runs computed in the browser by the shared schedule rules.
#[component]
pub fn WhenStep() -> impl IntoView {
    let editor = use_editor();
    let kind = Memo::new(move |_| {
        editor
            .draft
            .with(|d| d.schedule.as_ref().map(|s| kind_slug(&s.kind)))
    });
    // The ad accounts' time zones: a new schedule starts in the campaign's ad account's zone.
    let accounts = Load::new(facebook::list_ad_accounts);
    let default_zone = Memo::new(move |_| {
        let list = accounts.get().and_then(Result::ok).unwrap_or_default();
        editor.draft.with(|d| {
            let chosen = d.target.as_ref().map(|t| t.ad_account_id.as_str());
            default_time_zone(
                chosen.unwrap_or_default(),
                &zones_of(&list),
                &browser_time_zone(),
            )
        })
    });
    // The choice shows at once; it reaches the draft when its time zone is known, which may
    // wait for the ad accounts or the zone's rules. Only the latest choice is applied, so an
    // earlier one whose answer arrives late cannot undo it.
    let pending = RwSignal::new(None::<&'static str>);
    let shown_kind = move || pending.get().or_else(|| kind.get());
    let choose = move |slug: &'static str| {
        pending.set(Some(slug));
        let set = move |time_zone: String| {
            // The preview needs the zone's rules: usually loaded at start-up already.
            editor.zones.load_then(time_zone, move |time_zone| {
                if pending.try_get_untracked() != Some(Some(slug)) {
                    return;
                }
                pending.set(None);
                editor.choose(|d| {
                    d.schedule = Some(Schedule {
                        time_zone,
                        kind: default_kind(slug),
                    })
                })
            });
        };
        let current_zone = editor
            .draft
            .with_untracked(|d| d.schedule.as_ref().map(|s| s.time_zone.clone()));
        match (current_zone, accounts.get_untracked()) {
            (Some(time_zone), _) => set(time_zone),
            // The first choice starts in the default zone, known once the ad accounts are.
            (None, Some(_)) => set(default_zone.get_untracked().time_zone),
            (None, None) => spawn_local(async move {
                let list = facebook::list_ad_accounts().await.unwrap_or_default();
                let Some(chosen) = editor.draft.try_with_untracked(|d| {
                    d.target
                        .as_ref()
                        .map(|t| t.ad_account_id.clone())
                        .unwrap_or_default()
                }) else {
                    return;
                };
                let zone = default_time_zone(&chosen, &zones_of(&list), &browser_time_zone());
                set(zone.time_zone);
            }),
        }
    };
    // Said while the schedule is in the default zone, so the user knows why it is that one.
    let default_note = move || {
        let DefaultZone { time_zone, .. } = default_zone.get();
        let current = editor
            .draft
            .with(|d| d.schedule.as_ref().map(|s| s.time_zone.clone()));
        (current.as_deref() == Some(time_zone.as_str())).then(|| default_zone.get().explain())
    };
    view! {
        <StepHeading title="When" />
        <fieldset class="field choice-group">
            <legend>"When should the audience be sent to Facebook?"</legend>
            {KINDS
                .into_iter()
                .map(|(slug, text)| {
                    view! {
                        <label class="choice">
                            <input
                                type="radio"
                                name="schedule-kind"
                                value=slug
                                prop:checked=move || shown_kind() == Some(slug)
                                on:change=move |_| choose(slug)
                            />
                            {text}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <FieldErrors path="schedule" />
        <Show when=move || kind.get().is_some()>
            <TimeZoneSelect />
            <p class="field__hint" data-testid="time-zone-default" hidden=move || default_note().is_none()>
                {default_note}
            </p>
            {move || match kind.get() {
                Some("once") | Some("multiple") => view! { <FixedTimesFields /> }.into_any(),
                Some("recurring") => view! { <RecurringFields /> }.into_any(),
                _ => ().into_any(),
            }}
            <SchedulePreview />
        </Show>
    }
}

/// The ad accounts as `shared`'s default-zone rule reads them.
fn zones_of(accounts: &[FbItem]) -> Vec<AccountZone> {
    accounts
        .iter()
        .map(|a| AccountZone {
            id: a.id.clone(),
            name: a.name.clone(),
            time_zone: a.time_zone.clone(),
        })
        .collect()
}

fn kind_slug(kind: &ScheduleKind) -> &'static str {
    match kind {
        ScheduleKind::Now => "now",
        ScheduleKind::Once { .. } => "once",
        ScheduleKind::Multiple { .. } => "multiple",
        ScheduleKind::Recurring { .. } => "recurring",
    }
}

/// A sensible starting point for each kind: tomorrow at 09:00 (in UTC terms; the user picks).
fn default_kind(slug: &str) -> ScheduleKind {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let tomorrow_9 = DateTime::from_parts(
        today.tomorrow().unwrap_or(today),
        jiff::civil::time(9, 0, 0, 0),
    );
    match slug {
        "once" => ScheduleKind::Once { at: tomorrow_9 },
        "multiple" => ScheduleKind::Multiple {
            times: vec![
                tomorrow_9,
                tomorrow_9.checked_add(1.week()).unwrap_or(tomorrow_9),
            ],
        },
        "recurring" => ScheduleKind::Recurring {
            repeat: Repeat::Days { interval: 1 },
            time: jiff::civil::time(9, 0, 0, 0),
            start_date: today,
            end: End::Never,
        },
        _ => ScheduleKind::Now,
    }
}
