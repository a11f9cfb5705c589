//! What the audit log says about campaign and label changes: a few readable fields per campaign,
//! and of those only the ones that changed.

use shared::{campaign::Campaign, label::Label};

use crate::{audit, db::Db, error::ApiResult};

/// The fields of `c` a person reviewing the log cares about, in display order.
fn fields(c: &Campaign) -> Vec<(&'static str, String)> {
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    vec![
        ("name", c.name.clone()),
        ("status", c.status.label().to_owned()),
        (
            "schedule",
            or_none(c.schedule.as_ref().map(|s| s.summary())),
        ),
        (
            "audience",
            // The segment itself can be large; its JSON tells whether it changed.
            or_none(
                c.audience
                    .as_ref()
                    .map(|a| serde_json::to_string(a).unwrap_or_default()),
            ),
        ),
        (
            "ad set",
            or_none(c.target.as_ref().map(|t| t.ad_set_id.clone())),
        ),
        ("labels", format!("{:?}", c.labels)),
        (
            "conversion goal",
            or_none(c.conversion_goal.as_ref().map(|g| g.event.clone())),
        ),
        // A changed holdout moves people between the groups: the log says when.
        (
            "holdout",
            or_none(c.holdout_percent.map(|p| format!("{p} %"))),
        ),
    ]
}

/// `name: …; status: …` of the fields whose value differs between the two (all when one side is
/// missing). Segments are shown as "set"/"none" rather than in full.
fn summaries(
    before: Option<&Campaign>,
    after: Option<&Campaign>,
) -> (Option<String>, Option<String>) {
    let b = before.map(fields);
    let a = after.map(fields);
    let changed = |i: usize| match (&b, &a) {
        (Some(b), Some(a)) => b[i].1 != a[i].1,
        _ => true,
    };
    let show = |side: &Option<Vec<(&'static str, String)>>| {
        side.as_ref().map(|f| {
            f.iter()
                .enumerate()
                .filter(|(i, _)| changed(*i))
                .map(|(_, (k, v))| match *k {
                    "audience" if v != "none" => format!("{k}: set"),
                    _ => format!("{k}: {v}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    (show(&b), show(&a))
}

/// Records `action` (`created`, `updated`, `published`, `paused`, …) on a campaign.
pub async fn campaign(
    db: &Db,
    actor: &str,
    action: &str,
    before: Option<&Campaign>,
    after: Option<&Campaign>,
) -> ApiResult<()> {
    let Some(c) = after.or(before) else {
        return Ok(());
    };
    let (before, after) = summaries(before, after);
    let record = audit::Record {
        actor,
        action,
        entity_type: "campaign",
        entity_id: c.id.to_string(),
        summary: format!("campaign \"{}\"", c.name),
        before,
        after,
    };
    audit::record(db, record, super::now()).await
}

pub async fn label_created(db: &Db, actor: &str, label: &Label) -> ApiResult<()> {
    let record = audit::Record {
        actor,
        action: "created",
        entity_type: "label",
        entity_id: label.id.to_string(),
        summary: format!("label \"{}\"", label.name),
        before: None,
        after: Some(format!(
            "name: {}; colour: {}",
            label.name,
            label.color.as_deref().unwrap_or("none")
        )),
    };
    audit::record(db, record, super::now()).await
}
