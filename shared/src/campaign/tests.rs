use super::*;
use crate::schedule::{End, Repeat, ScheduleKind};
use crate::segment::{Combine, Condition, Group, PropertyFilter, TextCondition};
use jiff::civil::{date, datetime, time};
use serde_json::json;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

fn schedule() -> Schedule {
    Schedule {
        time_zone: "Asia/Kolkata".into(),
        kind: ScheduleKind::Recurring {
            repeat: Repeat::Months {
                interval: 1,
                days: vec![7],
            },
            time: time(9, 0, 0, 0),
            start_date: date(2027, 3, 3),
            end: End::AfterRuns { runs: 12 },
        },
    }
}

fn audience() -> Segment {
    Segment::Group(Group {
        combine: Combine::AllOf,
        rules: vec![Segment::UserProperty(PropertyFilter {
            property: "Plan".into(),
            condition: Condition::Text(TextCondition::Equals {
                value: "gold".into(),
            }),
        })],
    })
}

fn target() -> FacebookTarget {
    FacebookTarget {
        ad_account_id: "act_1234567890".into(),
        campaign_id: "23851234567890".into(),
        ad_set_id: "23851234567891".into(),
    }
}

fn complete() -> CampaignDraft {
    CampaignDraft {
        name: "Win back lapsed gold users".into(),
        channel: Channel::FacebookAudiences,
        schedule: Some(schedule()),
        audience: Some(audience()),
        target: Some(target()),
        labels: vec![1, 2],
        conversion_goal: Some(ConversionGoal {
            event: "Charged".into(),
        }),
        holdout_percent: Some(20.0),
        version: None,
    }
}

const NOW: &str = "2027-03-01T00:00:00Z";

#[test]
fn a_complete_campaign_can_be_published() {
    assert_eq!(validate_for_publish(&complete(), ts(NOW)), vec![]);
    assert_eq!(validate_draft(&complete()), vec![]);
}

#[test]
fn a_draft_needs_only_a_name() {
    let draft = CampaignDraft {
        name: "  Spring sale ".into(),
        ..Default::default()
    };
    assert_eq!(validate_draft(&draft), vec![]);
    assert_eq!(
        paths(&validate_for_publish(&draft, ts(NOW))),
        vec!["schedule", "audience", "target"]
    );
    let unnamed = CampaignDraft {
        name: "   ".into(),
        ..Default::default()
    };
    assert_eq!(
        validate_draft(&unnamed),
        vec![FieldError::new("name", "Give the campaign a name.")]
    );
    let long = CampaignDraft {
        name: "x".repeat(201),
        ..Default::default()
    };
    assert_eq!(paths(&validate_draft(&long)), vec!["name"]);
}

#[test]
fn a_draft_checks_the_bounds_of_what_is_present() {
    let mut draft = complete();
    draft.audience = Some(Segment::empty());
    draft.target = Some(FacebookTarget {
        ad_account_id: "1234".into(),
        campaign_id: "".into(),
        ad_set_id: "12a".into(),
    });
    draft.labels = vec![3, 3];
    draft.conversion_goal = Some(ConversionGoal { event: " ".into() });
    if let Some(Schedule {
        kind: ScheduleKind::Recurring { end, .. },
        ..
    }) = &mut draft.schedule
    {
        *end = End::OnDate {
            date: date(2027, 3, 1),
        };
    }
    assert_eq!(
        paths(&validate_draft(&draft)),
        vec![
            "schedule.end.date",
            "audience",
            "target.ad_account_id",
            "target.ad_set_id",
            "conversion_goal.event",
            "labels[1]",
        ]
    );
    // Publishing also wants the empty campaign id.
    assert!(paths(&validate_for_publish(&draft, ts(NOW))).contains(&"target.campaign_id"));
}

#[test]
fn publishing_rejects_schedule_times_in_the_past_but_a_draft_keeps_them() {
    let mut draft = complete();
    draft.schedule = Some(Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 2, 1, 9, 0, 0, 0),
        },
    });
    assert_eq!(validate_draft(&draft), vec![]);
    assert_eq!(
        paths(&validate_for_publish(&draft, ts(NOW))),
        vec!["schedule.at"]
    );
}

#[test]
fn facebook_id_formats() {
    assert!(is_ad_account_id("act_42"));
    assert!(!is_ad_account_id("act_"));
    assert!(!is_ad_account_id("42"));
    assert!(!is_ad_account_id("act_4x"));
}

#[test]
fn too_many_labels() {
    let mut draft = complete();
    draft.labels = (1..=21).collect();
    assert_eq!(paths(&validate_draft(&draft)), vec!["labels"]);
}

// ----- status -----

#[test]
fn actions_allowed_per_status() {
    use CampaignAction as A;
    use CampaignStatus as S;
    assert_eq!(
        S::Draft.allowed_actions(),
        vec![A::Edit, A::Publish, A::Duplicate, A::Delete]
    );
    assert_eq!(
        S::Scheduled.allowed_actions(),
        vec![
            A::Edit,
            A::Pause,
            A::Stop,
            A::Duplicate,
            A::ViewStats,
            A::RunNow,
            A::DryRun
        ]
    );
    assert_eq!(
        S::AwaitingNextRun.allowed_actions(),
        S::Scheduled.allowed_actions()
    );
    // A run is under way: another waits (the server refuses it); a dry run does not send.
    assert_eq!(
        S::Running.allowed_actions(),
        vec![A::Pause, A::Stop, A::Duplicate, A::ViewStats, A::DryRun]
    );
    assert_eq!(
        S::Paused.allowed_actions(),
        vec![
            A::Edit,
            A::Resume,
            A::Stop,
            A::Duplicate,
            A::ViewStats,
            A::DryRun
        ]
    );
    assert_eq!(
        S::NeedsAttention.allowed_actions(),
        vec![
            A::Edit,
            A::Pause,
            A::Resume,
            A::Stop,
            A::Duplicate,
            A::ViewStats,
            A::DryRun
        ]
    );
    for s in [S::Completed, S::Stopped] {
        assert_eq!(
            s.allowed_actions(),
            vec![A::Duplicate, A::ViewStats, A::DryRun]
        );
        assert!(s.is_final());
    }
    // Only drafts can be deleted.
    for s in [
        S::Scheduled,
        S::Running,
        S::AwaitingNextRun,
        S::Paused,
        S::Completed,
        S::Stopped,
        S::NeedsAttention,
    ] {
        assert!(!s.allows(A::Delete), "{s:?}");
    }
}

#[test]
fn the_life_of_a_recurring_campaign() {
    use CampaignStatus as S;
    use StatusEvent as E;
    let s = S::Draft.apply(E::Publish).unwrap();
    assert_eq!(s, S::Scheduled);
    let s = s.apply(E::RunStarted).unwrap();
    assert_eq!(s, S::Running);
    let s = s.apply(E::RunSucceeded { more_runs: true }).unwrap();
    assert_eq!(s, S::AwaitingNextRun);
    let s = s.apply(E::Pause).unwrap();
    assert_eq!(s, S::Paused);
    assert!(!s.may_run());
    let s = s.apply(E::Resume { has_run: true }).unwrap();
    assert_eq!(s, S::AwaitingNextRun);
    let s = s.apply(E::RunStarted).unwrap();
    let s = s.apply(E::RunFailed).unwrap();
    assert_eq!(s, S::NeedsAttention);
    let s = s.apply(E::Resume { has_run: true }).unwrap();
    let s = s.apply(E::RunStarted).unwrap();
    let s = s.apply(E::RunSucceeded { more_runs: false }).unwrap();
    assert_eq!(s, S::Completed);
}

#[test]
fn illegal_transitions_are_errors() {
    use CampaignStatus as S;
    use StatusEvent as E;
    let err = S::Completed.apply(E::Pause).unwrap_err();
    assert_eq!(
        err.to_string(),
        "A campaign that is completed cannot be paused."
    );
    assert!(S::Stopped.apply(E::Resume { has_run: true }).is_err());
    assert!(S::Stopped.apply(E::Stop).is_err());
    assert!(S::Draft.apply(E::Stop).is_err());
    assert!(S::Draft.apply(E::RunStarted).is_err());
    assert!(S::Scheduled.apply(E::Publish).is_err());
    assert!(S::Paused.apply(E::RunStarted).is_err());
    assert!(S::Scheduled.apply(E::Resume { has_run: false }).is_err());
    // A run in progress when paused or stopped finishes without undoing the user's choice.
    assert_eq!(
        S::Paused.apply(E::RunSucceeded { more_runs: true }),
        Ok(S::Paused)
    );
    assert_eq!(S::Stopped.apply(E::RunFailed), Ok(S::Stopped));
    assert_eq!(S::Running.apply(E::Stop), Ok(S::Stopped));
}

// ----- steps -----

#[test]
fn the_step_rail() {
    let now = ts(NOW);
    let empty = CampaignDraft {
        name: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        step_rail(&empty, now),
        StepRail {
            when: StepState::Incomplete,
            who: StepState::Incomplete,
            what: StepState::Incomplete,
            labels: StepState::Complete
        }
    );
    assert_eq!(
        step_rail(&complete(), now),
        StepRail {
            when: StepState::Complete,
            who: StepState::Complete,
            what: StepState::Complete,
            labels: StepState::Complete
        }
    );
    let mut partial = complete();
    partial.audience = Some(Segment::empty());
    partial.target = Some(FacebookTarget {
        ad_set_id: String::new(),
        ..target()
    });
    partial.labels = vec![1, 1];
    assert_eq!(
        step_rail(&partial, now),
        StepRail {
            when: StepState::Complete,
            who: StepState::HasErrors,
            what: StepState::Incomplete,
            labels: StepState::HasErrors
        }
    );
    assert_eq!(
        Step::of_path("audience.rules[0].window.days"),
        Some(Step::Who)
    );
    assert_eq!(Step::of_path("labels[2]"), Some(Step::Labels));
    assert_eq!(Step::of_path("name"), None);
}

#[test]
fn duplicate_copies_the_steps_into_a_new_draft() {
    let c = Campaign {
        id: 9,
        name: "x".repeat(200),
        channel: Channel::FacebookAudiences,
        status: CampaignStatus::Completed,
        schedule: Some(schedule()),
        audience: Some(audience()),
        target: Some(target()),
        labels: vec![1],
        conversion_goal: None,
        holdout_percent: None,
        created_at: ts(NOW),
        updated_at: ts(NOW),
        created_by: "ana@example.com".into(),
        updated_by: "ana@example.com".into(),
        published_at: Some(ts(NOW)),
        next_run_at: None,
        version: 4,
        last_run: None,
        list_columns: None,
    };
    let d = CampaignDraft::duplicate_of(&c);
    assert!(d.name.starts_with("Copy of xxx"));
    assert_eq!(d.name.chars().count(), MAX_CAMPAIGN_NAME);
    assert_eq!(d.version, None);
    assert_eq!(d.schedule, c.schedule);
    assert_eq!(c.to_draft().version, Some(4));
}

// ----- JSON -----

#[test]
fn campaign_json_shape_round_trips() {
    let c = Campaign {
        id: 1,
        name: "Win back".into(),
        channel: Channel::FacebookAudiences,
        status: CampaignStatus::AwaitingNextRun,
        schedule: Some(schedule()),
        audience: Some(audience()),
        target: Some(target()),
        labels: vec![1, 2],
        conversion_goal: Some(ConversionGoal {
            event: "Charged".into(),
        }),
        holdout_percent: None,
        created_at: ts("2027-03-01T10:00:00Z"),
        updated_at: ts("2027-03-02T10:00:00Z"),
        created_by: "ana@example.com".into(),
        updated_by: "raj@example.com".into(),
        published_at: Some(ts("2027-03-02T10:00:00Z")),
        next_run_at: Some(ts("2027-04-07T03:30:00Z")),
        version: 3,
        last_run: None,
        list_columns: None,
    };
    let value = serde_json::to_value(&c).unwrap();
    assert_eq!(
        value,
        json!({
            "id": 1, "name": "Win back", "channel": "facebook_audiences",
            "status": "awaiting_next_run",
            "schedule": {"time_zone": "Asia/Kolkata", "kind": "recurring",
                "repeat": {"every": "months", "interval": 1, "days": [7]},
                "time": "09:00:00", "start_date": "2027-03-03",
                "end": {"kind": "after_runs", "runs": 12}},
            "audience": {"kind": "group", "combine": "all_of", "rules": [
                {"kind": "user_property", "property": "Plan",
                 "condition": {"type": "text", "op": "equals", "value": "gold"}}]},
            "target": {"ad_account_id": "act_1234567890", "campaign_id": "23851234567890",
                       "ad_set_id": "23851234567891"},
            "labels": [1, 2],
            "conversion_goal": {"event": "Charged"},
            "holdout_percent": null,
            "created_at": "2027-03-01T10:00:00Z", "updated_at": "2027-03-02T10:00:00Z",
            "created_by": "ana@example.com", "updated_by": "raj@example.com",
            "published_at": "2027-03-02T10:00:00Z", "next_run_at": "2027-04-07T03:30:00Z",
            "version": 3
        })
    );
    assert_eq!(serde_json::from_value::<Campaign>(value).unwrap(), c);
    // The browser may send a bare draft.
    let d: CampaignDraft = serde_json::from_value(json!({"name": "x"})).unwrap();
    assert_eq!(d.channel, Channel::FacebookAudiences);
    let full = serde_json::to_value(complete()).unwrap();
    assert_eq!(
        serde_json::from_value::<CampaignDraft>(full).unwrap(),
        complete()
    );
    for e in [
        StatusEvent::Resume { has_run: true },
        StatusEvent::RunSucceeded { more_runs: false },
        StatusEvent::Stop,
    ] {
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(serde_json::from_value::<StatusEvent>(v).unwrap(), e);
    }
    assert_eq!(
        serde_json::to_value(step_rail(&complete(), ts(NOW))).unwrap(),
        json!({"when": "complete", "who": "complete", "what": "complete", "labels": "complete"})
    );
    assert_eq!(
        serde_json::to_value(CampaignAction::ViewStats).unwrap(),
        json!("view_stats")
    );
}

#[test]
fn the_audience_name_carries_the_campaign_id_and_fits_the_limit() {
    assert_eq!(
        audience_name(12, "  Spring sale "),
        "Spring sale (campaign 12)"
    );
    let long = "x".repeat(500);
    let name = audience_name(7, &long);
    assert_eq!(name.chars().count(), MAX_AUDIENCE_NAME);
    assert!(name.ends_with(" (campaign 7)"));
}

#[test]
fn a_holdout_over_half_is_an_error_on_the_who_step() {
    let draft = CampaignDraft {
        holdout_percent: Some(60.0),
        ..complete()
    };
    let errors = validate_draft(&draft);
    assert_eq!(paths(&errors), vec!["holdout_percent"]);
    assert_eq!(Step::of_path("holdout_percent"), Some(Step::Who));
    assert_eq!(step_rail(&draft, ts(NOW)).who, StepState::HasErrors);
    // Round trip: a campaign's holdout comes back into the editor.
    assert_eq!(complete().holdout_percent, Some(20.0));
}
