use jiff::{Timestamp, civil::date, civil::time};
use serde_json::json;

use super::*;
use crate::campaign::{Campaign, Channel};
use crate::schedule::{End, Repeat, Schedule, ScheduleKind};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Monthly on the 7th at 09:00 in Kolkata (03:30 UTC), from 3 March 2027, twelve runs.
fn campaign(status: CampaignStatus) -> Campaign {
    Campaign {
        id: 7,
        name: "Win back".into(),
        channel: Channel::FacebookAudiences,
        status,
        schedule: Some(Schedule {
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
        }),
        audience: None,
        target: None,
        labels: vec![2],
        conversion_goal: None,
        holdout_percent: None,
        created_at: ts("2027-03-01T10:00:00Z"),
        updated_at: ts("2027-03-02T10:00:00Z"),
        created_by: "ana@example.com".into(),
        updated_by: "ana@example.com".into(),
        published_at: Some(ts("2027-03-02T10:00:00Z")),
        next_run_at: None,
        version: 3,
        last_run: None,
        list_columns: None,
    }
}

#[test]
fn a_running_campaign_shows_its_next_run_in_the_schedule_time_zone() {
    let columns = list_columns(
        &campaign(CampaignStatus::AwaitingNextRun),
        ts("2027-04-07T03:30:00Z"),
    );
    assert_eq!(
        columns.schedule,
        "Every month on the 7th at 09:00, from 3 Mar 2027, 12 runs"
    );
    // The run at exactly `now` is past: the next is May's.
    assert_eq!(columns.next_run, "Fri 7 May 2027, 09:00 Asia/Kolkata");
    // Its instant, for the browser to show in the viewer's zone: 09:00 in Kolkata is 03:30 UTC.
    assert_eq!(columns.next_run_at.as_deref(), Some("2027-05-07T03:30:00Z"));
    assert_eq!(columns.last_sync, "—");
}

#[test]
fn a_scheduled_campaign_shows_its_first_run_even_when_due() {
    let columns = list_columns(
        &campaign(CampaignStatus::Scheduled),
        ts("2027-03-07T03:30:00Z"),
    );
    assert_eq!(columns.next_run, "Sun 7 Mar 2027, 09:00 Asia/Kolkata");
}

#[test]
fn campaigns_that_do_not_run_show_a_dash_and_finished_schedules_no_more_runs() {
    let now = ts("2027-04-01T00:00:00Z");
    for status in [
        CampaignStatus::Draft,
        CampaignStatus::Paused,
        CampaignStatus::Stopped,
    ] {
        assert_eq!(
            list_columns(&campaign(status), now).next_run,
            "—",
            "{status:?}"
        );
    }
    assert_eq!(
        list_columns(&campaign(CampaignStatus::Paused), now).next_run_at,
        None
    );
    let after_the_last = ts("2028-03-01T00:00:00Z");
    let finished = list_columns(&campaign(CampaignStatus::Running), after_the_last);
    assert_eq!(finished.next_run, "No more runs");
    assert_eq!(finished.next_run_at, None);
    let mut unscheduled = campaign(CampaignStatus::Draft);
    unscheduled.schedule = None;
    assert_eq!(list_columns(&unscheduled, now).schedule, "No schedule yet");
}

#[test]
fn sort_orders_and_their_url_values() {
    let mut a = campaign(CampaignStatus::Paused);
    a.name = "beta".into();
    a.next_run_at = None;
    a.updated_at = ts("2027-03-05T00:00:00Z");
    let mut b = campaign(CampaignStatus::AwaitingNextRun);
    b.name = "Alpha".into();
    b.next_run_at = Some(ts("2027-04-07T03:30:00Z"));
    b.updated_at = ts("2027-03-04T00:00:00Z");
    let mut c = campaign(CampaignStatus::Scheduled);
    c.name = "gamma".into();
    c.next_run_at = Some(ts("2027-03-07T03:30:00Z"));
    c.updated_at = ts("2027-03-06T00:00:00Z");
    let order = |sort| {
        let mut list = vec![a.clone(), b.clone(), c.clone()];
        sort_campaigns(&mut list, sort);
        list.into_iter().map(|c| c.name).collect::<Vec<_>>()
    };
    assert_eq!(order(CampaignSort::Updated), ["gamma", "beta", "Alpha"]);
    assert_eq!(order(CampaignSort::Name), ["Alpha", "beta", "gamma"]);
    // No next run goes last.
    assert_eq!(order(CampaignSort::NextRun), ["gamma", "Alpha", "beta"]);
    // By the status as shown: "Awaiting next run", "Paused", "Scheduled".
    assert_eq!(b.status.label(), "Awaiting next run");
    assert_eq!(order(CampaignSort::Status), ["Alpha", "beta", "gamma"]);

    for sort in CampaignSort::ALL {
        assert_eq!(CampaignSort::from_param(sort.param()), sort);
        assert_eq!(json!(sort), json!(sort.param()));
    }
    assert_eq!(CampaignSort::from_param(""), CampaignSort::Updated);
    assert_eq!(CampaignSort::from_param("bogus"), CampaignSort::Updated);
}

#[test]
fn the_list_reads_a_campaign_answer_keeping_only_its_columns() {
    let mut c = campaign(CampaignStatus::AwaitingNextRun);
    c.list_columns = Some(list_columns(&c, ts("2027-04-01T00:00:00Z")));
    let item: CampaignListItem = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(item.id, 7);
    assert_eq!(item.name, "Win back");
    assert_eq!(item.status, CampaignStatus::AwaitingNextRun);
    assert_eq!(item.labels, vec![2]);
    assert_eq!(
        item.list_columns.next_run,
        "Wed 7 Apr 2027, 09:00 Asia/Kolkata"
    );
    assert_eq!(
        item.list_columns.next_run_at.as_deref(),
        Some("2027-04-07T03:30:00Z")
    );
    // Of the schedule, the list keeps its zone: the next run is shown on its clock too.
    assert_eq!(
        item.schedule,
        Some(ListSchedule {
            time_zone: "Asia/Kolkata".into()
        })
    );
    // An answer without the list's texts (a created campaign, say) still reads.
    let created: CampaignListItem =
        serde_json::from_value(json!({ "id": 9, "name": "New", "status": "draft" })).unwrap();
    assert_eq!(created.list_columns, ListColumns::default());
}
