//! The OpenAPI document as a contract: structurally valid (unique operation ids, every `$ref`
//! resolves), and true about access (each operation's security requirement is its line in
//! `auth::policy::POLICY`) and about the errors every route can answer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use server::auth::policy::{Access, POLICY, is_state_changing};

use crate::helpers::spawn_app;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served_document() -> Value {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .get(app.url("/api/openapi.json"))
        .send()
        .await;
    let doc: Value = res.unwrap().json().await.unwrap();
    app.stop().await;
    doc
}

/// `(METHOD, path, operation)` of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_ascii_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

fn collect_refs<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref"
                    && let Some(target) = inner.as_str()
                {
                    out.push((at.to_owned(), target));
                } else {
                    collect_refs(inner, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                collect_refs(inner, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_with_unique_ids_and_resolving_refs() {
    let doc = served_document().await;
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1."),
        "{}",
        doc["openapi"]
    );

    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str();
        assert!(id.is_some(), "{method} {path} has no operationId");
        ids.entry(id.unwrap_or_default().to_owned())
            .or_default()
            .push(format!("{method} {path}"));
        let responses = op["responses"].as_object().expect("responses");
        // A success is a 2xx, or the redirect of a browser navigation (the OAuth callback).
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s.starts_with('3')),
            "{method} {path} documents no success"
        );
    }
    let shared: Vec<_> = ids.iter().filter(|(_, ops)| ops.len() > 1).collect();
    assert!(shared.is_empty(), "operationIds used twice: {shared:?}");

    let mut refs = Vec::new();
    collect_refs(&doc, "", &mut refs);
    assert!(!refs.is_empty());
    let dangling: Vec<_> = refs
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(
        dangling.is_empty(),
        "$refs that do not resolve: {dangling:?}"
    );
}

/// What the policy line of a route means in OpenAPI terms.
fn expected_security(access: Access, method: &str) -> Value {
    let write = is_state_changing(&method.parse().unwrap());
    match access {
        Access::Public if write => json!([{"sameOrigin": []}]),
        Access::Public => json!([]),
        Access::Signed(role) if write => json!([{"session": [role.as_str()], "sameOrigin": []}]),
        Access::Signed(role) => json!([{"session": [role.as_str()]}]),
        Access::ApiKey => json!([{"apiKey": []}]),
    }
}

#[tokio::test]
async fn every_operation_requires_what_the_access_policy_requires() {
    let doc = served_document().await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "fba_session",
               "description": schemes["session"]["description"]}),
    );
    assert_eq!(schemes["sameOrigin"]["in"], "header");
    assert_eq!(schemes["sameOrigin"]["name"], "Origin");
    assert_eq!(schemes["apiKey"]["in"], "header");
    assert_eq!(schemes["apiKey"]["name"], "X-Api-Key");

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    for (method, path, access) in POLICY {
        if *path == "/openapi.json" {
            continue;
        }
        let key = (method.to_string(), (*path).to_owned());
        assert!(
            documented.contains(&key),
            "{method} {path} is not documented"
        );
        let op = &doc["paths"][*path][method.as_str().to_ascii_lowercase()];
        assert_eq!(
            op["security"],
            expected_security(*access, method.as_str()),
            "{method} {path}"
        );
        // Every scheme an operation names is declared.
        for requirement in op["security"].as_array().expect("security is a list") {
            for scheme in requirement.as_object().expect("requirement").keys() {
                assert!(schemes[scheme].is_object(), "{method} {path}: {scheme}");
            }
        }
    }
}

#[tokio::test]
async fn every_operation_documents_the_errors_any_route_can_answer() {
    let doc = served_document().await;
    for (method, path, op) in operations(&doc) {
        let responses = &op["responses"];
        let has = |status: &str| responses.get(status).is_some();
        let write = method != "GET";
        let access = POLICY
            .iter()
            .find(|(m, p, _)| m.as_str() == method && *p == path)
            .map(|(_, _, a)| *a)
            .expect("policy line");
        for status in ["500", "503"] {
            assert!(has(status), "{method} {path} lacks {status}");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413"] {
                assert!(has(status), "{method} {path} has a body but lacks {status}");
            }
        }
        match access {
            Access::Signed(_) => {
                assert!(has("401") && has("403"), "{method} {path} lacks 401/403");
            }
            Access::ApiKey => assert!(has("401"), "{method} {path} lacks 401"),
            Access::Public if write => assert!(has("403"), "{method} {path} lacks 403"),
            Access::Public => {}
        }
        // Every error answer is the one error body.
        for (status, response) in responses.as_object().expect("responses") {
            if !status.starts_with(['4', '5']) {
                continue;
            }
            let response = match response["$ref"].as_str() {
                Some(target) => doc.pointer(&target[1..]).expect("resolves"),
                None => response,
            };
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
    }
}

#[tokio::test]
async fn facebook_pickers_are_documented_with_facebook_shapes() {
    let doc = served_document().await;
    let items = |path: &str| {
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["items"]["$ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // The app's campaigns are `Campaign`; Facebook's are another shape entirely.
    assert_eq!(
        items("/facebook/ad-accounts/{id}/campaigns"),
        "#/components/schemas/FacebookCampaign"
    );
    let schema = &doc["components"]["schemas"]["FacebookCampaign"];
    assert!(schema["properties"]["objective"].is_object(), "{schema}");
    assert!(schema["properties"].get("schedule").is_none(), "{schema}");
}

/// The first schema of `field` anywhere inside the component schema `name` (in a variant of a
/// tagged enum, say).
fn property<'a>(doc: &'a Value, name: &str, field: &str) -> &'a Value {
    fn find<'a>(value: &'a Value, field: &str) -> Option<&'a Value> {
        match value {
            Value::Object(map) => map
                .get("properties")
                .and_then(|p| p.get(field))
                .or_else(|| map.values().find_map(|v| find(v, field))),
            Value::Array(items) => items.iter().find_map(|v| find(v, field)),
            _ => None,
        }
    }
    let schema = &doc["components"]["schemas"][name];
    find(schema, field).unwrap_or_else(|| panic!("{name}.{field} is not in {schema}"))
}

#[tokio::test]
async fn schemas_carry_the_bounds_the_validators_enforce() {
    use shared::{account, campaign, label, saved_segment, schedule, segment, text};

    let doc = served_document().await;
    let n = |x: usize| json!(x);
    let r = |x: u32| json!(x);
    let checks: Vec<(&str, &str, &str, Value)> = vec![
        (
            "LoginRequest",
            "email",
            "maxLength",
            n(account::MAX_EMAIL_LEN),
        ),
        ("LoginRequest", "email", "pattern", json!(text::NOT_BLANK)),
        (
            "LoginRequest",
            "password",
            "maxLength",
            n(account::MAX_PASSWORD_CHARS),
        ),
        ("NewUser", "email", "maxLength", n(account::MAX_EMAIL_LEN)),
        ("NewUser", "email", "pattern", json!(text::EMAIL)),
        (
            "NewUser",
            "password",
            "minLength",
            n(account::MIN_PASSWORD_CHARS),
        ),
        (
            "NewUser",
            "password",
            "maxLength",
            n(account::MAX_PASSWORD_CHARS),
        ),
        ("NewUser", "password", "pattern", json!(text::NOT_BLANK)),
        ("FirstAdmin", "email", "pattern", json!(text::EMAIL)),
        (
            "FirstAdmin",
            "password",
            "minLength",
            n(account::MIN_PASSWORD_CHARS),
        ),
        (
            "UserUpdate",
            "password",
            "minLength",
            n(account::MIN_PASSWORD_CHARS),
        ),
        (
            "UserUpdate",
            "password",
            "maxLength",
            n(account::MAX_PASSWORD_CHARS),
        ),
        ("LabelInput", "color", "pattern", json!(text::HEX_COLOR)),
        (
            "SavedSegmentInput",
            "description",
            "maxLength",
            n(saved_segment::MAX_DESCRIPTION),
        ),
        (
            "CampaignDraft",
            "labels",
            "maxItems",
            n(campaign::MAX_CAMPAIGN_LABELS),
        ),
        ("CampaignDraft", "labels", "uniqueItems", json!(true)),
        (
            "ConversionGoal",
            "event",
            "maxLength",
            n(segment::MAX_NAME_LEN),
        ),
        ("EventRule", "event", "maxLength", n(segment::MAX_NAME_LEN)),
        (
            "EventRule",
            "filters",
            "maxItems",
            n(segment::MAX_EVENT_FILTERS),
        ),
        (
            "PropertyFilter",
            "property",
            "maxLength",
            n(segment::MAX_NAME_LEN),
        ),
        (
            "Group",
            "rules",
            "maxItems",
            n(segment::MAX_RULES_PER_GROUP),
        ),
        ("Window", "days", "minimum", r(*segment::LAST_DAYS.start())),
        ("Window", "days", "maximum", r(*segment::LAST_DAYS.end())),
        ("Window", "hours", "maximum", r(*segment::LAST_HOURS.end())),
        (
            "ScheduleKind",
            "times",
            "minItems",
            n(*schedule::MULTIPLE_TIMES.start()),
        ),
        (
            "ScheduleKind",
            "times",
            "maxItems",
            n(*schedule::MULTIPLE_TIMES.end()),
        ),
        (
            "End",
            "runs",
            "minimum",
            r(*schedule::END_AFTER_RUNS.start()),
        ),
        ("End", "runs", "maximum", r(*schedule::END_AFTER_RUNS.end())),
        (
            "PreviewRequest",
            "count",
            "maximum",
            n(schedule::MAX_PREVIEW_RUNS),
        ),
        (
            "NewApiKey",
            "name",
            "pattern",
            json!(text::trimmed_length_pattern(account::MAX_KEY_NAME_CHARS)),
        ),
        (
            "LabelInput",
            "name",
            "pattern",
            json!(text::trimmed_length_pattern(label::MAX_LABEL_NAME)),
        ),
        (
            "SavedSegmentInput",
            "name",
            "pattern",
            json!(text::trimmed_length_pattern(
                saved_segment::MAX_SAVED_SEGMENT_NAME
            )),
        ),
        (
            "CampaignDraft",
            "name",
            "pattern",
            json!(text::trimmed_length_pattern(campaign::MAX_CAMPAIGN_NAME)),
        ),
    ];
    let mut wrong = Vec::new();
    // Schedule dates are in the years 2000–2199: `^2[01][0-9]{2}-` says so.
    assert_eq!(
        (schedule::MIN_YEAR, schedule::MAX_YEAR),
        (2000, 2199),
        "the years changed: change the schedule dates' patterns in shared/src/schedule.rs"
    );
    let years = json!("^2[01][0-9]{2}-");
    for (schema, field) in [
        ("ScheduleKind", "start_date"),
        ("ScheduleKind", "at"),
        ("End", "date"),
    ] {
        if property(&doc, schema, field)["pattern"] != years {
            wrong.push(format!("{schema}.{field} has no year pattern"));
        }
    }
    for (schema, field, key, expected) in checks {
        let got = &property(&doc, schema, field)[key];
        if *got != expected {
            wrong.push(format!(
                "{schema}.{field} {key}: {got}, the validators' {expected}"
            ));
        }
    }
    if property(&doc, "UploadRequest", "d")["maxItems"] != json!(server::customer::MAX_RECORDS) {
        wrong.push("UploadRequest.d maxItems".to_owned());
    }
    // The three repeat intervals are the one `interval` field of three variants.
    let repeat = doc["components"]["schemas"]["Repeat"].to_string();
    for range in [
        schedule::EVERY_DAYS,
        schedule::EVERY_WEEKS,
        schedule::EVERY_MONTHS,
    ] {
        let bounds = format!("\"maximum\":{},", range.end());
        if !repeat.contains(&bounds) {
            wrong.push(format!("Repeat has no interval bound {bounds}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
