//! `/api/campaigns`: drafts, validation, optimistic concurrency, the status life cycle, delete,
//! duplicate and the list filters, as a user of the API sees them.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use shared::{
    campaign::{Campaign, CampaignDraft, CampaignStatus},
    error::ErrorCode,
    label::Label,
};

use crate::helpers::{TestApp, error_body, spawn_app};

pub async fn post(app: &TestApp, path: &str, body: &Value) -> Response {
    app.http
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn put(app: &TestApp, path: &str, body: &Value) -> Response {
    app.http.put(app.url(path)).json(body).send().await.unwrap()
}

async fn delete(app: &TestApp, path: &str) -> Response {
    app.http.delete(app.url(path)).send().await.unwrap()
}

/// POSTs with an empty body, as the status actions take none.
async fn post_empty(app: &TestApp, path: &str) -> Response {
    app.http.post(app.url(path)).send().await.unwrap()
}

/// Every step filled in; the monthly schedule starts far enough ahead to stay publishable.
fn complete_draft(name: &str) -> Value {
    json!({
        "name": name,
        "schedule": {
            "time_zone": "Asia/Kolkata", "kind": "recurring",
            "repeat": {"every": "months", "interval": 1, "days": [7]},
            "time": "09:00", "start_date": "2099-01-01",
            "end": {"kind": "after_runs", "runs": 12}
        },
        "audience": {"kind": "group", "combine": "all_of", "rules": [
            {"kind": "user_property", "property": "Plan",
             "condition": {"type": "text", "op": "equals", "value": "gold"}}
        ]},
        "target": {
            "ad_account_id": "act_1234567890",
            "campaign_id": "23851234567890",
            "ad_set_id": "23851234567891"
        }
    })
}

async fn create(app: &TestApp, draft: &Value) -> Campaign {
    let res = post(app, "/api/campaigns", draft).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn create_label(app: &TestApp, name: &str) -> Label {
    let res = post(app, "/api/labels", &json!({"name": name})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn fetch(app: &TestApp, id: i64) -> Campaign {
    let res = app.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.get(&format!("/api/campaigns{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let campaigns: Vec<Campaign> = res.json().await.unwrap();
    campaigns.into_iter().map(|c| c.name).collect()
}

async fn published(app: &TestApp, name: &str) -> Campaign {
    let draft = create(app, &complete_draft(name)).await;
    let res = post_empty(app, &format!("/api/campaigns/{}/publish", draft.id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn paths(body: &shared::error::ErrorBody) -> Vec<&str> {
    body.error.fields.iter().map(|f| f.path.as_str()).collect()
}

#[tokio::test]
async fn a_draft_with_only_a_name_is_saved_and_read_back() {
    let app = spawn_app().await;
    let res = post(&app, "/api/campaigns", &json!({"name": "  Spring sale "})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Campaign = res.json().await.unwrap();
    assert_eq!(created.name, "Spring sale");
    assert_eq!(created.status, CampaignStatus::Draft);
    assert_eq!(created.version, 1);
    assert_eq!(
        (created.schedule, created.audience, created.target),
        (None, None, None)
    );
    // The signed-in user who created it.
    assert_eq!(created.created_by, crate::helpers::ADMIN_EMAIL);
    assert_eq!(created.published_at, None);

    let read = fetch(&app, created.id).await;
    assert_eq!(read.name, "Spring sale");
    assert_eq!(read.created_at, created.created_at);
    app.stop().await;
}

#[tokio::test]
async fn the_steps_round_trip_through_the_database() {
    let app = spawn_app().await;
    let label = create_label(&app, "Retention").await;
    let mut draft = complete_draft("Win back");
    draft["labels"] = json!([label.id]);
    draft["conversion_goal"] = json!({"event": "Charged"});
    let created = create(&app, &draft).await;
    let read = fetch(&app, created.id).await;
    assert_eq!(read, created);
    // What was sent is what is stored, compared as the shared types (the JSON may normalise,
    // e.g. "09:00" comes back as "09:00:00").
    let sent: CampaignDraft = serde_json::from_value(draft).unwrap();
    assert_eq!(
        CampaignDraft {
            version: None,
            ..read.to_draft()
        },
        sent
    );
    assert_eq!(read.labels, vec![label.id]);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_name_is_refused_on_the_name_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    for name in ["   ".to_owned(), "x".repeat(201)] {
        let res = post(&app, "/api/campaigns", &json!({"name": name})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error_body(res).await;
        assert_eq!(body.error.code, ErrorCode::ValidationFailed);
        assert_eq!(paths(&body), ["name"]);
    }
    assert!(list(&app, "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_draft_may_not_hold_malformed_steps_or_unknown_labels() {
    let app = spawn_app().await;
    let res = post(
        &app,
        "/api/campaigns",
        &json!({"name": "Spring", "target": {"ad_account_id": "1234", "campaign_id": "", "ad_set_id": ""},
                "labels": [999]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    // The empty ids are fine in a draft; the malformed one and the missing label are not.
    assert_eq!(paths(&body), ["target.ad_account_id", "labels[0]"]);
    app.stop().await;
}

#[tokio::test]
async fn validate_lists_every_missing_step_and_accepts_a_complete_draft() {
    let app = spawn_app().await;
    let res = post(&app, "/api/campaigns/validate", &json!({"name": "Spring"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(paths(&body), ["schedule", "audience", "target"]);

    // A time that has passed is a publish problem even though a draft may keep it.
    let mut past = complete_draft("Spring");
    past["schedule"] = json!({"time_zone": "UTC", "kind": "once", "at": "2001-01-01T09:00"});
    let res = post(&app, "/api/campaigns/validate", &past).await;
    assert_eq!(paths(&error_body(res).await), ["schedule.at"]);

    let res = post(&app, "/api/campaigns/validate", &complete_draft("Spring")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Validating saves nothing.
    assert!(list(&app, "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_update_from_a_stale_version_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let created = create(&app, &json!({"name": "Original"})).await;
    let path = format!("/api/campaigns/{}", created.id);

    let res = put(&app, &path, &json!({"name": "First tab", "version": 1})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Campaign = res.json().await.unwrap();
    assert_eq!((saved.name.as_str(), saved.version), ("First tab", 2));
    assert!(saved.updated_at >= created.updated_at);

    // The second tab still holds version 1.
    let res = put(
        &app,
        &path,
        &json!({"name": "Second tab", "version": 1, "target": {"ad_account_id": "act_1", "campaign_id": "", "ad_set_id": ""}}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::Conflict);
    assert!(
        body.error.message.contains("changed in another tab"),
        "{}",
        body.error.message
    );
    let now = fetch(&app, created.id).await;
    assert_eq!(now, saved);

    // No version at all is just as stale.
    let res = put(&app, &path, &json!({"name": "No version"})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    app.stop().await;
}

#[tokio::test]
async fn an_update_is_validated_like_a_create() {
    let app = spawn_app().await;
    let created = create(&app, &json!({"name": "Original"})).await;
    let path = format!("/api/campaigns/{}", created.id);
    let res = put(&app, &path, &json!({"name": "", "version": 1})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&error_body(res).await), ["name"]);
    assert_eq!(fetch(&app, created.id).await.name, "Original");
    app.stop().await;
}

#[tokio::test]
async fn publishing_schedules_the_first_run() {
    let app = spawn_app().await;
    let campaign = published(&app, "Win back").await;
    assert_eq!(campaign.status, CampaignStatus::Scheduled);
    assert!(campaign.published_at.is_some());
    assert_eq!(campaign.version, 2);
    // Monthly on the 7th at 09:00 in Kolkata (UTC+05:30), from 1 January 2099.
    assert_eq!(
        campaign.next_run_at.map(|t| t.to_string()).as_deref(),
        Some("2099-01-07T03:30:00Z")
    );
    assert_eq!(fetch(&app, campaign.id).await, campaign);

    // Publishing twice is not a thing.
    let res = post_empty(&app, &format!("/api/campaigns/{}/publish", campaign.id)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(error_body(res).await.error.message.contains("scheduled"));
    app.stop().await;
}

#[tokio::test]
async fn an_incomplete_draft_cannot_be_published() {
    let app = spawn_app().await;
    let draft = create(&app, &json!({"name": "Half done"})).await;
    let res = post_empty(&app, &format!("/api/campaigns/{}/publish", draft.id)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        paths(&error_body(res).await),
        ["schedule", "audience", "target"]
    );
    assert_eq!(fetch(&app, draft.id).await.status, CampaignStatus::Draft);
    app.stop().await;
}

#[tokio::test]
async fn pause_resume_and_stop_follow_the_life_cycle() {
    let app = spawn_app().await;
    let campaign = published(&app, "Win back").await;
    let action = |name: &str| format!("/api/campaigns/{}/{name}", campaign.id);

    let res = post_empty(&app, &action("pause")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let paused: Campaign = res.json().await.unwrap();
    assert_eq!(paused.status, CampaignStatus::Paused);
    assert_eq!(
        paused.next_run_at, None,
        "a paused campaign has no next run"
    );

    let res = post_empty(&app, &action("resume")).await;
    let resumed: Campaign = res.json().await.unwrap();
    // It never ran, so it is scheduled again, for the same first run.
    assert_eq!(resumed.status, CampaignStatus::Scheduled);
    assert_eq!(resumed.next_run_at, campaign.next_run_at);
    assert_eq!(resumed.published_at, campaign.published_at);

    let res = post_empty(&app, &action("stop")).await;
    let stopped: Campaign = res.json().await.unwrap();
    assert_eq!(stopped.status, CampaignStatus::Stopped);
    assert_eq!(stopped.next_run_at, None);
    assert_eq!(stopped.version, campaign.version + 3);

    // Stopped is final.
    for name in ["resume", "pause", "stop", "publish"] {
        let res = post_empty(&app, &action(name)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{name}");
        let body = error_body(res).await;
        assert!(
            body.error.message.contains("stopped"),
            "{}",
            body.error.message
        );
    }
    let res = put(
        &app,
        &format!("/api/campaigns/{}", campaign.id),
        &json!({"name": "Renamed", "version": stopped.version}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(fetch(&app, campaign.id).await, stopped);
    app.stop().await;
}

#[tokio::test]
async fn a_draft_cannot_be_paused_or_stopped() {
    let app = spawn_app().await;
    let draft = create(&app, &json!({"name": "Draft"})).await;
    for name in ["pause", "resume", "stop"] {
        let res = post_empty(&app, &format!("/api/campaigns/{}/{name}", draft.id)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{name}");
        assert!(error_body(res).await.error.message.contains("draft"));
    }
    assert_eq!(fetch(&app, draft.id).await, draft);
    app.stop().await;
}

#[tokio::test]
async fn a_published_campaign_stays_publishable_when_edited() {
    let app = spawn_app().await;
    let campaign = published(&app, "Win back").await;
    let path = format!("/api/campaigns/{}", campaign.id);
    let mut draft = complete_draft("Win back");
    draft["version"] = json!(campaign.version);
    draft["audience"] = Value::Null;
    let res = put(&app, &path, &draft).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&error_body(res).await), ["audience"]);

    // Moving the day of the month moves the next run.
    let mut draft = complete_draft("Win back");
    draft["version"] = json!(campaign.version);
    draft["schedule"]["repeat"]["days"] = json!([9]);
    let res = put(&app, &path, &draft).await;
    assert_eq!(res.status(), StatusCode::OK);
    let edited: Campaign = res.json().await.unwrap();
    assert_eq!(edited.status, CampaignStatus::Scheduled);
    assert_eq!(
        edited.next_run_at.map(|t| t.to_string()).as_deref(),
        Some("2099-01-09T03:30:00Z")
    );
    app.stop().await;
}

#[tokio::test]
async fn only_drafts_can_be_deleted() {
    let app = spawn_app().await;
    let campaign = published(&app, "Live").await;
    let res = delete(&app, &format!("/api/campaigns/{}", campaign.id)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("Only drafts"),
        "{}",
        body.error.message
    );
    assert_eq!(fetch(&app, campaign.id).await, campaign);

    let draft = create(&app, &json!({"name": "Scratch"})).await;
    let path = format!("/api/campaigns/{}", draft.id);
    let res = delete(&app, &path).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&path).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_body(res).await.error.code, ErrorCode::NotFound);
    assert_eq!(list(&app, "").await, ["Live"]);
    app.stop().await;
}

#[tokio::test]
async fn unknown_campaigns_are_json_404s() {
    let app = spawn_app().await;
    let checks = [
        app.get("/api/campaigns/4242").await,
        app.get("/api/campaigns/not-a-number").await,
        put(
            &app,
            "/api/campaigns/4242",
            &json!({"name": "x", "version": 1}),
        )
        .await,
        delete(&app, "/api/campaigns/4242").await,
        post_empty(&app, "/api/campaigns/4242/publish").await,
        post_empty(&app, "/api/campaigns/4242/duplicate").await,
    ];
    for res in checks {
        let url = res.url().to_string();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{url}");
        assert_eq!(
            error_body(res).await.error.code,
            ErrorCode::NotFound,
            "{url}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn duplicate_makes_a_new_draft_named_copy_of() {
    let app = spawn_app().await;
    let label = create_label(&app, "Promo").await;
    let mut draft = complete_draft("Win back");
    draft["labels"] = json!([label.id]);
    let original = create(&app, &draft).await;
    let res = post_empty(&app, &format!("/api/campaigns/{}/publish", original.id)).await;
    let original: Campaign = res.json().await.unwrap();

    let res = post_empty(&app, &format!("/api/campaigns/{}/duplicate", original.id)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let copy: Campaign = res.json().await.unwrap();
    assert_ne!(copy.id, original.id);
    assert_eq!(copy.name, "Copy of Win back");
    assert_eq!(copy.status, CampaignStatus::Draft);
    assert_eq!(
        (copy.version, copy.published_at, copy.next_run_at),
        (1, None, None)
    );
    assert_eq!(copy.schedule, original.schedule);
    assert_eq!(copy.audience, original.audience);
    assert_eq!(copy.target, original.target);
    assert_eq!(copy.labels, vec![label.id]);
    // The original is untouched.
    assert_eq!(fetch(&app, original.id).await, original);
    app.stop().await;
}

#[tokio::test]
async fn the_list_filters_by_status_label_and_name() {
    let app = spawn_app().await;
    let promo = create_label(&app, "Promo").await;
    let retention = create_label(&app, "Retention").await;
    let mut with_promo = json!({"name": "Summer Sale", "labels": [promo.id]});
    create(&app, &with_promo).await;
    with_promo["name"] = json!("Winter 50%_off");
    with_promo["labels"] = json!([retention.id, promo.id]);
    create(&app, &with_promo).await;
    published(&app, "Gold members").await;

    // Newest first.
    assert_eq!(
        list(&app, "").await,
        ["Gold members", "Winter 50%_off", "Summer Sale"]
    );
    assert_eq!(list(&app, "?status=scheduled").await, ["Gold members"]);
    assert_eq!(
        list(&app, "?status=draft").await,
        ["Winter 50%_off", "Summer Sale"]
    );
    assert!(list(&app, "?status=paused").await.is_empty());
    assert_eq!(
        list(&app, &format!("?label={}", promo.id)).await,
        ["Winter 50%_off", "Summer Sale"]
    );
    assert_eq!(
        list(&app, &format!("?label={}", retention.id)).await,
        ["Winter 50%_off"]
    );
    assert_eq!(list(&app, "?q=SALE").await, ["Summer Sale"]);
    // `%` and `_` are searched for literally, not as wildcards.
    assert_eq!(list(&app, "?q=50%25_").await, ["Winter 50%_off"]);
    assert!(list(&app, "?q=5_%25").await.is_empty());
    assert_eq!(
        list(&app, &format!("?status=draft&label={}&q=winter", promo.id)).await,
        ["Winter 50%_off"]
    );
    // Listed campaigns carry their labels in the order chosen.
    let res = app
        .get(&format!("/api/campaigns?label={}", retention.id))
        .await;
    let campaigns: Vec<Campaign> = res.json().await.unwrap();
    assert_eq!(campaigns[0].labels, vec![retention.id, promo.id]);

    // Editing moves a campaign to the top.
    let res = app.get("/api/campaigns?q=summer").await;
    let summer: Vec<Campaign> = res.json().await.unwrap();
    let mut edit = serde_json::to_value(summer[0].to_draft()).unwrap();
    edit["name"] = json!("Summer Sale 2");
    let res = put(&app, &format!("/api/campaigns/{}", summer[0].id), &edit).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(list(&app, "").await[0], "Summer Sale 2");

    // The server sorts: by name ignoring case, by next run (none last), by status as shown.
    assert_eq!(
        list(&app, "?sort=name").await,
        ["Gold members", "Summer Sale 2", "Winter 50%_off"]
    );
    assert_eq!(list(&app, "?sort=next_run").await[0], "Gold members");
    // "Draft" before "Scheduled"; equal ones stay most recently updated first.
    assert_eq!(
        list(&app, "?sort=status").await,
        ["Summer Sale 2", "Winter 50%_off", "Gold members"]
    );
    assert_eq!(list(&app, "?sort=updated").await, list(&app, "").await);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_status_filter_is_a_json_400() {
    let app = spawn_app().await;
    let res = app.get("/api/campaigns?status=sleeping").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_body(res).await.error.code, ErrorCode::BadRequest);
    let res = app.get("/api/campaigns?sort=size").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("sort"),
        "{}",
        body.error.message
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_json_gets_the_json_error_body() {
    let app = spawn_app().await;
    for path in ["/api/campaigns", "/api/campaigns/validate"] {
        let res = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let body = error_body(res).await;
        assert_eq!(body.error.code, ErrorCode::BadRequest);
        assert!(
            body.error.message.contains("not valid JSON"),
            "{}",
            body.error.message
        );
    }
    // Valid JSON of the wrong shape too.
    let res = post(&app, "/api/campaigns", &json!({"name": 42})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_body(res).await.error.code, ErrorCode::BadRequest);
    assert!(list(&app, "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_campaigns_and_labels() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/campaigns", "get"),
        ("/campaigns", "post"),
        ("/campaigns/validate", "post"),
        ("/campaigns/{id}", "get"),
        ("/campaigns/{id}", "put"),
        ("/campaigns/{id}", "delete"),
        ("/campaigns/{id}/publish", "post"),
        ("/campaigns/{id}/pause", "post"),
        ("/campaigns/{id}/resume", "post"),
        ("/campaigns/{id}/stop", "post"),
        ("/campaigns/{id}/duplicate", "post"),
        ("/labels", "get"),
        ("/labels", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    for schema in ["Campaign", "CampaignDraft", "Label", "LabelInput"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    app.stop().await;
}

/// An audience of the members of saved segment `id`.
fn in_saved(id: i64) -> Value {
    json!({"kind": "group", "combine": "all_of", "rules": [
        {"kind": "saved_segment", "segment_id": id, "mode": "include"}]})
}

async fn saved_segment(app: &TestApp, name: &str) -> i64 {
    let res = post(
        app,
        "/api/segments",
        &json!({"name": name, "definition": complete_draft(name)["audience"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn no_campaign_keeps_a_reference_to_a_deleted_saved_segment() {
    let app = spawn_app().await;
    let (a, b) = (
        saved_segment(&app, "Only in a draft").await,
        saved_segment(&app, "In a published campaign").await,
    );
    let mut draft = complete_draft("Uses A");
    draft["audience"] = in_saved(a);
    let uses_a = create(&app, &draft).await;
    let mut live = complete_draft("Uses B");
    live["audience"] = in_saved(b);
    let uses_b = create(&app, &live).await;
    let res = post_empty(&app, &format!("/api/campaigns/{}/publish", uses_b.id)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A segment a published campaign may still run with cannot be deleted; the 409 names it.
    let res = delete(&app, &format!("/api/segments/{b}")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = error_body(res).await;
    assert!(body.error.message.contains("Uses B"), "{body:?}");

    // One only a draft uses can be; the draft then cannot be saved or published as it is, and
    // the 422 names the rule.
    let res = delete(&app, &format!("/api/segments/{a}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    draft["version"] = json!(uses_a.version);
    draft["name"] = json!("Uses A, renamed");
    let res = put(&app, &format!("/api/campaigns/{}", uses_a.id), &draft).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(paths(&body), ["audience.rules[0].segment_id"]);
    assert!(body.error.fields[0].message.contains("deleted"), "{body:?}");
    assert_eq!(fetch(&app, uses_a.id).await.name, "Uses A");
    let res = post_empty(&app, &format!("/api/campaigns/{}/publish", uses_a.id)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        paths(&error_body(res).await),
        ["audience.rules[0].segment_id"]
    );
    assert_eq!(fetch(&app, uses_a.id).await.status, CampaignStatus::Draft);
    // Nor can a new campaign refer to it.
    let res = post(&app, "/api/campaigns", &draft).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Once the published campaign is stopped, it will never run again: B may go.
    let res = post_empty(&app, &format!("/api/campaigns/{}/stop", uses_b.id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = delete(&app, &format!("/api/segments/{b}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}
