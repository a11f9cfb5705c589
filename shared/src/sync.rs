//! The audience sync runs as the API reports them: the run history of a campaign, the answer to
//! "Run now" and "Dry run", and the summary of the latest run shown in the campaign list. Both the
//! server (which serializes them) and the browser (which reads them) use these definitions.

use serde::{Deserialize, Serialize};

/// One run of a campaign's audience sync (`GET /api/campaigns/{id}/runs`, and the answer of
/// `POST /api/campaigns/{id}/runs`). Instants are RFC 3339 strings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RunRow {
    pub id: i64,
    pub campaign_id: i64,
    /// The schedule's run number; none for run-now and dry runs.
    pub slot: Option<i64>,
    /// `schedule`, `manual` or `dry_run`.
    pub trigger: String,
    /// The instant the segment is computed at (RFC 3339).
    pub run_at: String,
    /// Recorded well after its slot (the server was down): it ran once, late.
    pub late: bool,
    /// Earlier slots missed in the same outage, folded into this run.
    pub missed_slots: i64,
    /// `queued`, `running`, `retrying`, `succeeded`, `failed` or `skipped`.
    pub state: String,
    /// `waiting`, `computing`, `sending`, `attaching` or `done`.
    pub phase: String,
    /// `incremental` (add/remove sessions) or `replace` (`usersreplace`).
    pub mode: Option<String>,
    /// Rows to send in this run, and rows sent so far (the progress bar).
    pub rows_total: i64,
    pub rows_done: i64,
    /// People in the segment at the run instant who are in the audience: with a holdout, those
    /// sent to Facebook (the held-out rest is [`Self::held_out`]).
    pub members: Option<i64>,
    pub added: Option<i64>,
    pub removed: Option<i64>,
    /// Removals held back because the audience would fall under 100 people.
    pub held_removals: Option<i64>,
    /// People of the segment held out of the audience by the campaign's holdout
    /// ([`crate::holdout`]); none when the campaign had no holdout.
    #[serde(default)]
    pub held_out: Option<i64>,
    /// People of the segment held back because their ads consent property is not `true`
    /// ([`crate::consent`]); none when consent filtering was off.
    #[serde(default)]
    pub consent_held: Option<i64>,
    pub invalid_entries: Option<i64>,
    /// JSON array of Facebook's samples of invalid entries.
    pub invalid_samples: Option<String>,
    /// Dry runs: JSON `{"add":[identities…],"remove":[…]}`, up to 20 each.
    pub sample: Option<String>,
    pub approx_before_lower: Option<i64>,
    pub approx_before_upper: Option<i64>,
    pub approx_after_lower: Option<i64>,
    pub approx_after_upper: Option<i64>,
    pub audience_id: Option<String>,
    /// What went wrong, in Facebook's words or ours.
    pub error: Option<String>,
    /// What to do about it.
    pub advice: Option<String>,
    /// What the run noticed and did besides syncing, for the person reading the history (e.g.
    /// a duplicate audience on Facebook it deleted); one note per line.
    #[serde(default)]
    pub notes: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub created_at: String,
}

/// The identities a dry run would add and remove (its `sample` field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunSample {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    /// Removals that would be held back (the audience would fall under 100 people).
    #[serde(default)]
    pub held: Vec<String>,
}

impl RunRow {
    /// Queued or under way: the run history keeps polling while one is.
    pub fn in_flight(&self) -> bool {
        in_flight(&self.state)
    }

    /// Rows sent out of rows to send, 0–100; none before the run knows how many it will send.
    pub fn percent_done(&self) -> Option<u8> {
        (self.rows_total > 0).then(|| {
            let pct = self.rows_done.clamp(0, self.rows_total) * 100 / self.rows_total;
            u8::try_from(pct).unwrap_or(100)
        })
    }

    /// The dry run's sample, when there is one and it reads.
    pub fn dry_run_sample(&self) -> Option<DryRunSample> {
        self.sample
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }

    /// Facebook's samples of invalid entries, when it sent some. The server has always stored
    /// them as a JSON list of strings (the client reads them as such from Facebook's answer);
    /// reading them as strings keeps `serde_json::Value` out of the stats page's download.
    pub fn invalid_sample_list(&self) -> Vec<String> {
        self.invalid_samples
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// The state in words, for the run history.
    pub fn state_label(&self) -> &'static str {
        match self.state.as_str() {
            "queued" => "Queued",
            "running" => "Running",
            "retrying" => "Retrying",
            "succeeded" => "Succeeded",
            "failed" => "Failed",
            "skipped" => "Skipped",
            _ => "Unknown",
        }
    }

    /// How the run was started, in words.
    pub fn trigger_label(&self) -> String {
        match (self.trigger.as_str(), self.slot) {
            ("schedule", Some(slot)) => format!("Scheduled run #{slot}"),
            ("schedule", None) => "Scheduled run".into(),
            ("manual", _) => "Run now".into(),
            ("dry_run", _) => "Dry run".into(),
            (other, _) => other.to_owned(),
        }
    }
}

/// Body of `POST /api/campaigns/{id}/runs` ("Run now", "Dry run").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRequest {
    /// Compute who would be added and removed, and send nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What the app reads of the answer to "Run now" and "Dry run" (`POST /api/campaigns/{id}/runs`,
/// a [`RunRow`]): enough to say what happened, from the campaign list as from the stats page.
/// The list is the first download, so it does not read the whole run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunStarted {
    pub id: i64,
    /// `manual` (queued) or `dry_run` (done).
    pub trigger: String,
    pub members: Option<i64>,
    pub added: Option<i64>,
    pub removed: Option<i64>,
    pub held_removals: Option<i64>,
    /// Dry runs: [`DryRunSample`] as JSON.
    #[serde(default)]
    pub sample: Option<String>,
}

impl RunStarted {
    /// "Dry run: 120 in the segment; 5 would be added and 2 removed."
    pub fn dry_run_summary(&self) -> String {
        let n = |v: Option<i64>| v.unwrap_or(0);
        format!(
            "Dry run: {} in the segment; {} would be added and {} removed.",
            n(self.members),
            n(self.added),
            n(self.removed)
        )
    }

    /// Removals a dry run would hold back, in words; none when there are none.
    pub fn held_note(&self) -> Option<String> {
        self.held_removals.filter(|h| *h > 0).map(|h| {
            format!("{h} removal(s) would be held back: the audience would fall under 100 people.")
        })
    }
}

/// The latest run of a campaign, as the campaign list shows it (audience size, last sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastRun {
    /// `queued`, `running`, `retrying`, `succeeded`, `failed` or `skipped`.
    pub state: String,
    /// When it ended (RFC 3339); none while it runs.
    pub finished_at: Option<String>,
    /// People in the audience after the latest succeeded run.
    pub audience_size: Option<i64>,
    pub added: Option<i64>,
    pub removed: Option<i64>,
}

/// The list's "last sync" column in three parts: the state ("Succeeded"), when it ended (RFC
/// 3339; none while it runs) and the counts (" · +120 / −3", or empty). The browser shows the
/// instant in the viewer's zone between them ([`crate::time_text`]).
pub fn last_sync_parts(last: &LastRun) -> (&'static str, Option<&str>, String) {
    let state = match last.state.as_str() {
        "succeeded" => "Succeeded",
        "failed" => "Failed",
        "skipped" => "Skipped",
        "queued" => "Queued",
        "retrying" => "Retrying",
        _ => "Running",
    };
    let counts = match (last.added, last.removed) {
        (Some(a), Some(r)) => format!(" · +{a} / −{r}"),
        (Some(a), None) => format!(" · +{a}"),
        _ => String::new(),
    };
    (state, last.finished_at.as_deref(), counts)
}

impl LastRun {
    /// Queued or under way: "Run now" waits until it ends (the server would refuse it).
    pub fn in_flight(&self) -> bool {
        in_flight(&self.state)
    }
}

/// A run in `state` is queued or under way.
fn in_flight(state: &str) -> bool {
    matches!(state, "queued" | "running" | "retrying")
}

/// "Succeeded 2027-04-07 09:00 UTC · +120 / −3": the API's text of the list's "last sync"
/// column ([`last_sync_parts`], the instant in UTC).
pub fn last_sync_text(last: &LastRun) -> String {
    let (state, finished, counts) = last_sync_parts(last);
    let when = finished
        .map(|t| format!(" {}", short_instant(t)))
        .unwrap_or_default();
    format!("{state}{when}{counts}")
}

/// "2027-04-07 09:00 UTC" from an RFC 3339 instant; the input as is when it does not read.
pub fn short_instant(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(crate::stats::format_minute_utc)
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// A run's duration for people: "850 ms" under a second, else tenths of seconds ("12.3 s").
/// Integer arithmetic: float precision formatting would add to the browser's WASM.
pub fn duration_label(ms: i64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let tenths = (ms + 50) / 100;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// The stats page's sync figures from the latest succeeded run (dry runs aside): the audience
/// holds the segment's members plus the removals held back; before the run it held that less
/// who was added, plus who was removed. All `None` until a run succeeded.
pub fn sync_figures(latest_succeeded: Option<&RunRow>) -> crate::stats::SyncFigures {
    let Some(run) = latest_succeeded else {
        return crate::stats::SyncFigures::default();
    };
    let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
    let now = run.members.map(|m| m + run.held_removals.unwrap_or(0));
    let before = now.map(|n| n - run.added.unwrap_or(0) + run.removed.unwrap_or(0));
    crate::stats::SyncFigures {
        audience_size_before: count(before),
        audience_size_now: count(now),
        users_added: count(run.added),
        users_removed: count(run.removed),
        users_invalid: count(run.invalid_entries),
        consent_held: count(run.consent_held),
        last_sync_at: run
            .finished_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_milliseconds_then_rounded_tenths_of_seconds() {
        assert_eq!(duration_label(850), "850 ms");
        assert_eq!(duration_label(1000), "1.0 s");
        assert_eq!(duration_label(12_349), "12.3 s");
        assert_eq!(duration_label(12_350), "12.4 s");
        assert_eq!(duration_label(59_990), "60.0 s");
    }

    #[test]
    fn instants_are_shown_to_the_minute_in_utc() {
        assert_eq!(
            short_instant("2027-04-07T09:00:59Z"),
            "2027-04-07 09:00 UTC"
        );
        assert_eq!(
            short_instant("2027-04-07T11:30:00+02:00"),
            "2027-04-07 09:30 UTC"
        );
        assert_eq!(short_instant("not a time"), "not a time");
    }

    fn run(state: &str) -> RunRow {
        RunRow {
            id: 1,
            campaign_id: 2,
            slot: None,
            trigger: "manual".into(),
            run_at: "2027-04-07T09:00:00Z".into(),
            late: false,
            missed_slots: 0,
            state: state.into(),
            phase: "sending".into(),
            mode: None,
            rows_total: 400,
            rows_done: 100,
            members: None,
            added: None,
            removed: None,
            held_removals: None,
            held_out: None,
            consent_held: None,
            invalid_entries: None,
            invalid_samples: Some(r#"["x@","12"]"#.into()),
            sample: Some(r#"{"add":["a"],"remove":[]}"#.into()),
            approx_before_lower: None,
            approx_before_upper: None,
            approx_after_lower: None,
            approx_after_upper: None,
            audience_id: None,
            error: None,
            advice: None,
            notes: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            created_at: "2027-04-07T09:00:00Z".into(),
        }
    }

    #[test]
    fn progress_and_flight() {
        let r = run("running");
        assert!(r.in_flight());
        assert_eq!(r.percent_done(), Some(25));
        assert!(!run("succeeded").in_flight());
        assert_eq!(r.dry_run_sample().unwrap().add, vec!["a".to_owned()]);
        assert_eq!(
            r.invalid_sample_list(),
            vec!["x@".to_owned(), "12".to_owned()]
        );
    }

    #[test]
    fn figures_of_the_latest_success() {
        let mut r = run("succeeded");
        r.members = Some(150);
        r.held_removals = Some(2);
        r.added = Some(40);
        r.removed = Some(5);
        r.invalid_entries = Some(1);
        r.finished_at = Some("2027-04-07T09:00:05Z".into());
        let f = sync_figures(Some(&r));
        assert_eq!(f.audience_size_now, Some(152));
        assert_eq!(f.audience_size_before, Some(117));
        assert_eq!(f.users_added, Some(40));
        assert_eq!(f.users_invalid, Some(1));
        assert!(f.last_sync_at.is_some());
        assert_eq!(sync_figures(None), crate::stats::SyncFigures::default());
    }

    #[test]
    fn last_sync_reads() {
        let last = LastRun {
            state: "succeeded".into(),
            finished_at: Some("2027-04-07T09:00:05Z".into()),
            audience_size: Some(120),
            added: Some(120),
            removed: Some(0),
        };
        assert_eq!(
            last_sync_text(&last),
            "Succeeded 2027-04-07 09:00 UTC · +120 / −0"
        );
        assert_eq!(
            last_sync_parts(&last),
            (
                "Succeeded",
                Some("2027-04-07T09:00:05Z"),
                " · +120 / −0".to_owned()
            )
        );
        assert!(!last.in_flight());
        let queued = LastRun {
            state: "queued".into(),
            finished_at: None,
            audience_size: None,
            added: None,
            removed: None,
        };
        assert_eq!(last_sync_parts(&queued), ("Queued", None, String::new()));
        assert!(queued.in_flight());
    }

    #[test]
    fn the_answer_to_a_dry_run_reads_as_words() {
        let mut row = run("succeeded");
        row.trigger = "dry_run".into();
        row.members = Some(120);
        row.added = Some(5);
        row.removed = Some(2);
        row.held_removals = Some(2);
        let started: RunStarted =
            serde_json::from_value(serde_json::to_value(&row).unwrap()).unwrap();
        assert_eq!(started.trigger, "dry_run");
        assert_eq!(
            started.dry_run_summary(),
            "Dry run: 120 in the segment; 5 would be added and 2 removed."
        );
        assert_eq!(
            started.held_note().as_deref(),
            Some("2 removal(s) would be held back: the audience would fall under 100 people.")
        );
        row.held_removals = Some(0);
        let started: RunStarted =
            serde_json::from_value(serde_json::to_value(&row).unwrap()).unwrap();
        assert_eq!(started.held_note(), None);
    }
}
