//! Segment's HTTP Tracking API messages (`identify`, `track`, `page`, `screen`, `group`,
//! `alias`, one by one or in a `batch`) turned into the upload pipeline's [`Record`]s, so they
//! are validated, stored (group commit, idempotent) and counted exactly as uploads are.
//!
//! What each call becomes (docs/customer-data.md, "Segment tracking API"):
//! - the identity is `userId`, or `anonymous:<anonymousId>` without one;
//! - `identify`: its `traits` (or `context.traits`) set profile properties; the reserved traits
//!   also set the match keys (`record::segment_profile`);
//! - `track`: the event `event` with its `properties`; `page` / `screen`: the events
//!   `Page Viewed` / `Screen Viewed` with `name`, `category` and the properties;
//! - `group`: the profile properties `groupId` and `group.<trait>`;
//! - `alias`, and any call with both `userId` and `anonymousId`: a link that merges the
//!   anonymous profile into the identified one (`store::identity`).
//!
//! Nested objects are flattened into dotted keys (`address.city`), lists of objects are kept as
//! lists of their JSON texts, and texts that are ISO 8601 dates (`2026-12-01`,
//! `2026-12-01T09:30:00Z`) become dates. Times are skew-corrected
//! (`shared::tracking::corrected_timestamp`); an event with a `messageId` is deduplicated by it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value as Json, value::RawValue};
use shared::{
    segment::eval::Value,
    tracking::{ANONYMOUS_PREFIX, CallType, MAX_CALL_BYTES, corrected_timestamp},
};

use shared::data_overview::IngestSource;

use super::{
    activity::{Bookkeeping, Refusal},
    record::{
        self, Code, Link, MAX_IDENTITY_LEN, Record, RecordError, event_by_contents,
        event_with_message_id, properties_from_json, segment_profile,
    },
    writer,
};
use crate::db::Db;

/// How deep nested objects are flattened into dotted keys; deeper ones are kept as JSON text.
const MAX_DEPTH: usize = 4;

/// `POST /v1/batch`'s body. `sentAt` of the batch stands for the messages' own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchBody<'a> {
    #[serde(borrow)]
    pub batch: Vec<&'a RawValue>,
    #[serde(default)]
    pub sent_at: Option<Json>,
}

/// The fields of a message this server reads; the others (`integrations`, `_metadata`, most of
/// `context`) are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    #[serde(rename = "type")]
    kind: Option<Json>,
    user_id: Option<Json>,
    anonymous_id: Option<Json>,
    previous_id: Option<Json>,
    group_id: Option<Json>,
    event: Option<Json>,
    name: Option<Json>,
    category: Option<Json>,
    traits: Option<Json>,
    properties: Option<Json>,
    context: Option<Json>,
    timestamp: Option<Json>,
    /// RudderStack's SDKs send the client's time here.
    original_timestamp: Option<Json>,
    sent_at: Option<Json>,
    message_id: Option<Json>,
}

/// What happened to a request's messages.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stored: usize,
    /// `(index in the batch, error)`.
    pub refused: Vec<(usize, RecordError)>,
}

fn fail(code: Code, message: impl Into<String>) -> RecordError {
    RecordError {
        code,
        message: message.into(),
    }
}

/// Parses every message (`call` is the path's call type for a single call, `None` in a batch,
/// where each message names its `type`), stores the valid ones, and reports the others.
pub async fn ingest(
    db: &Db,
    messages: &[&RawValue],
    call: Option<CallType>,
    batch_sent_at: Option<&Json>,
    received_at: Timestamp,
) -> sqlx::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut records = Vec::with_capacity(messages.len());
    for (i, raw) in messages.iter().enumerate() {
        match parse_message(raw.get(), call, batch_sent_at, received_at) {
            Ok(mut r) => records.append(&mut r),
            Err(e) => outcome.refused.push((i, e)),
        }
    }
    let stored = messages.len() - outcome.refused.len();
    // The Data page's counts and refused messages go in the same group transaction as the
    // records (see `activity::Bookkeeping`).
    let refusals: Vec<Refusal<'_>> = outcome
        .refused
        .iter()
        .map(|(index, e)| Refusal {
            code: e.code.number(),
            error: &e.message,
            record: messages[*index].get(),
        })
        .collect();
    let books = Bookkeeping::new(IngestSource::SegmentApi, stored, &refusals);
    drop(refusals);
    writer::write(db, records, books, received_at.as_second()).await?;
    outcome.stored = stored;
    Ok(outcome)
}

/// One message's records (an `identify` with both ids is a profile update and a link).
pub fn parse_message(
    text: &str,
    call: Option<CallType>,
    batch_sent_at: Option<&Json>,
    received_at: Timestamp,
) -> Result<Vec<Record>, RecordError> {
    if text.len() > MAX_CALL_BYTES {
        return Err(fail(
            Code::Other,
            format!(
                "The message is {} bytes; Segment's limit is 32 KB ({MAX_CALL_BYTES} bytes) per call.",
                text.len()
            ),
        ));
    }
    let msg: Message = serde_json::from_str(text).map_err(|_| {
        fail(
            Code::NeitherEventNorProfile,
            "Each message must be a JSON object with a `type` (identify, track, page, screen, group or alias).",
        )
    })?;
    let kind = match (call, &msg.kind) {
        (Some(call), _) => call,
        (None, Some(Json::String(t))) => CallType::parse(t).ok_or_else(|| {
            fail(
                Code::NeitherEventNorProfile,
                format!(
                    "'type' is \"{t}\"; it must be identify, track, page, screen, group or alias."
                ),
            )
        })?,
        (None, _) => {
            return Err(fail(
                Code::NeitherEventNorProfile,
                "'type' is necessary in a batch: identify, track, page, screen, group or alias.",
            ));
        }
    };
    let user_id = id_text(msg.user_id.as_ref(), "userId")?;
    let anonymous_id = id_text(msg.anonymous_id.as_ref(), "anonymousId")?;
    let (sent, original) = times(&msg, batch_sent_at)?;
    let ts = corrected_timestamp(original, sent, received_at).as_second();
    let mut records = Vec::with_capacity(2);
    let link = |records: &mut Vec<Record>, anonymous: &str, identity: &str| {
        records.push(Record::Link(Link {
            anonymous: anonymous.to_owned(),
            identity: identity.to_owned(),
        }));
    };
    if kind == CallType::Alias {
        let previous = id_text(msg.previous_id.as_ref(), "previousId")?;
        let (Some(previous), Some(user)) = (previous, user_id.as_deref()) else {
            return Err(fail(
                Code::IdentityMissing,
                "An alias needs 'previousId' (the anonymous id) and 'userId'.",
            ));
        };
        check_len(user)?;
        link(&mut records, &previous, user);
        return Ok(records);
    }
    let identity = match (&user_id, &anonymous_id) {
        (Some(user), _) => user.clone(),
        (None, Some(anon)) => format!("{ANONYMOUS_PREFIX}{anon}"),
        (None, None) => {
            return Err(fail(
                Code::IdentityMissing,
                "'userId' or 'anonymousId' is necessary: a non-empty text identifying the user.",
            ));
        }
    };
    check_len(&identity)?;
    match kind {
        CallType::Identify => {
            let traits = msg.traits.as_ref().or_else(|| {
                msg.context
                    .as_ref()
                    .and_then(|c| c.get("traits"))
                    .filter(|t| t.is_object())
            });
            let props = typed(object(traits, "traits")?, "traits")?;
            records.push(Record::Profile(Box::new(segment_profile(
                identity, ts, props,
            )?)));
        }
        CallType::Group => {
            let group = id_text(msg.group_id.as_ref(), "groupId")?
                .ok_or_else(|| fail(Code::Other, "'groupId' is necessary for a group call."))?;
            let mut flat = Map::new();
            flat.insert("groupId".into(), Json::String(group));
            if let Some(traits) = object(msg.traits.as_ref(), "traits")? {
                flatten("group", traits, 1, &mut flat);
            }
            let props = properties_from_json(&flat, "traits")?;
            records.push(Record::Profile(Box::new(segment_profile(
                identity,
                ts,
                dates(props),
            )?)));
        }
        CallType::Track | CallType::Page | CallType::Screen => {
            let mut flat = Map::new();
            if let Some(props) = object(msg.properties.as_ref(), "properties")? {
                flatten("", props, 0, &mut flat);
            }
            let name = match kind {
                CallType::Track => match &msg.event {
                    Some(Json::String(e)) if !e.trim().is_empty() => e.clone(),
                    _ => {
                        return Err(fail(
                            Code::EventNameMissing,
                            "'event' is necessary for a track call: a non-empty text.",
                        ));
                    }
                },
                _ => {
                    for (key, value) in [("name", &msg.name), ("category", &msg.category)] {
                        if let Some(v @ Json::String(_)) = value {
                            flat.entry(key).or_insert_with(|| v.clone());
                        }
                    }
                    if kind == CallType::Page {
                        "Page Viewed".to_owned()
                    } else {
                        "Screen Viewed".to_owned()
                    }
                }
            };
            if name.len() > record::MAX_KEY_BYTES {
                return Err(fail(
                    Code::EventNameMissing,
                    format!(
                        "'event' must be at most {} bytes long.",
                        record::MAX_KEY_BYTES
                    ),
                ));
            }
            let props = dates(properties_from_json(&flat, "properties")?);
            let event = match msg.message_id.as_ref().and_then(Json::as_str) {
                Some(id) if !id.is_empty() => {
                    let key_ts = original.map_or(ts, |t| t.as_second());
                    event_with_message_id(identity, name, ts, props, id, key_ts)
                }
                _ => event_by_contents(identity, name, ts, props),
            };
            records.push(Record::Event(event));
        }
        CallType::Alias => unreachable!("answered above"),
    }
    if let (Some(user), Some(anon)) = (&user_id, &anonymous_id) {
        link(&mut records, anon, user);
    }
    Ok(records)
}

fn check_len(identity: &str) -> Result<(), RecordError> {
    if identity.chars().count() > MAX_IDENTITY_LEN {
        return Err(fail(
            Code::IdentityMissing,
            format!("The user's identity must be at most {MAX_IDENTITY_LEN} characters long."),
        ));
    }
    Ok(())
}

/// An id field: a non-empty text or an integer; absent, `null` or `""` is none.
fn id_text(value: Option<&Json>, field: &str) -> Result<Option<String>, RecordError> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(Json::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(fail(
            Code::IdentityMissing,
            format!("'{field}' must be a text (or an integer)."),
        )),
    }
}

/// `(sentAt, the client's timestamp)`, each `None` when absent.
fn times(
    msg: &Message,
    batch_sent_at: Option<&Json>,
) -> Result<(Option<Timestamp>, Option<Timestamp>), RecordError> {
    let read = |value: Option<&Json>, field: &str| {
        match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => s.parse::<Timestamp>().map(Some).map_err(|_| {
            fail(
                Code::BadTimestamp,
                format!(
                    "'{field}' must be an ISO 8601 date-time with its offset, e.g. \"2026-12-01T09:30:00.000Z\"."
                ),
            )
        }),
        Some(_) => Err(fail(
            Code::BadTimestamp,
            format!("'{field}' must be an ISO 8601 date-time text."),
        )),
    }
    };
    let sent = match msg.sent_at.as_ref() {
        Some(v) if !v.is_null() => read(Some(v), "sentAt")?,
        _ => read(batch_sent_at, "sentAt")?,
    };
    let original = match msg.timestamp.as_ref() {
        Some(v) if !v.is_null() => read(Some(v), "timestamp")?,
        _ => read(msg.original_timestamp.as_ref(), "originalTimestamp")?,
    };
    Ok((sent, original))
}

fn object<'a>(
    value: Option<&'a Json>,
    field: &str,
) -> Result<Option<&'a Map<String, Json>>, RecordError> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(map)) => Ok(Some(map)),
        Some(_) => Err(fail(
            Code::BadEventStructure,
            format!("'{field}' must be a JSON object."),
        )),
    }
}

/// Traits flattened and typed.
fn typed(
    traits: Option<&Map<String, Json>>,
    field: &str,
) -> Result<BTreeMap<String, Value>, RecordError> {
    let mut flat = Map::new();
    if let Some(traits) = traits {
        flatten("", traits, 0, &mut flat);
    }
    Ok(dates(properties_from_json(&flat, field)?))
}

/// Copies `map` into `out` with nested objects' keys joined by dots (`address.city`), and
/// lists of anything but scalars as lists of JSON texts (the upload's values have no nesting).
fn flatten(prefix: &str, map: &Map<String, Json>, depth: usize, out: &mut Map<String, Json>) {
    for (key, value) in map {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Json::Object(inner) if depth < MAX_DEPTH => flatten(&key, inner, depth + 1, out),
            Json::Object(_) => {
                out.insert(key, Json::String(value.to_string()));
            }
            Json::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                let texts = items
                    .iter()
                    .map(|i| match i {
                        Json::String(s) => Json::String(s.clone()),
                        other => Json::String(other.to_string()),
                    })
                    .collect();
                out.insert(key, Json::Array(texts));
            }
            _ => {
                out.insert(key, value.clone());
            }
        }
    }
}

/// Texts that are ISO 8601 dates or date-times become dates (Segment's convention for
/// `birthday`, `createdAt` and every other date).
fn dates(mut props: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    for value in props.values_mut() {
        if let Value::Text(s) = value
            && let Some(t) = iso_date(s)
        {
            *value = Value::Date(t);
        }
    }
    props
}

fn iso_date(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    // Cheap test first: `YYYY-MM-DD…`.
    if b.len() < 10 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() == 10 {
        let date: jiff::civil::Date = s.parse().ok()?;
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-12-07T10:00:00Z".parse().unwrap()
    }

    fn parse(msg: &Json, call: Option<CallType>) -> Result<Vec<Record>, RecordError> {
        parse_message(&msg.to_string(), call, None, now())
    }

    #[test]
    fn identify_traits_become_typed_properties_and_match_keys() {
        let records = parse(
            &json!({"userId":"u1","anonymousId":"a1","traits":{
                "email":" Ann@Example.COM ","phone":"+1 (415) 555-1234","firstName":"Ann",
                "lastName":"Lee-Smith","gender":"female","birthday":"1990-04-21",
                "address":{"city":"São Paulo","state":"SP","postalCode":"01310-100","country":"BR"},
                "plan":"pro","age":36,"vip":true,"createdAt":"2026-01-02T03:04:05Z"}}),
            Some(CallType::Identify),
        )
        .unwrap();
        let Record::Profile(p) = &records[0] else {
            panic!()
        };
        assert_eq!(p.identity, "u1");
        let k = &p.match_keys;
        assert_eq!(k.email.as_deref(), Some("ann@example.com"));
        assert_eq!(k.phone.as_deref(), Some("+14155551234"));
        assert_eq!(k.first_name.as_deref(), Some("ann"));
        assert_eq!(k.last_name.as_deref(), Some("leesmith"));
        assert_eq!(k.gender.as_deref(), Some("f"));
        assert_eq!(k.date_of_birth.as_deref(), Some("1990-04-21"));
        assert_eq!(k.city.as_deref(), Some("saopaulo"));
        assert_eq!(k.state.as_deref(), Some("sp"));
        assert_eq!(k.country.as_deref(), Some("br"));
        assert_eq!(p.properties["age"], Value::Number(36.0));
        assert_eq!(p.properties["vip"], Value::Boolean(true));
        assert_eq!(
            p.properties["address.city"],
            Value::Text("São Paulo".into())
        );
        assert!(matches!(p.properties["createdAt"], Value::Date(_)));
        assert_eq!(
            records[1],
            Record::Link(Link {
                anonymous: "a1".into(),
                identity: "u1".into()
            })
        );
    }

    #[test]
    fn track_keeps_typed_properties_and_corrects_the_clock() {
        // The device's clock is an hour fast; the message waited 5 s before it was sent.
        let records = parse(
            &json!({"type":"track","anonymousId":"a1","event":"Order Completed",
                "timestamp":"2026-12-07T11:00:00Z","sentAt":"2026-12-07T11:00:05Z",
                "messageId":"m-1",
                "properties":{"total":30.5,"products":[{"sku":"x"}],"coupon":null}}),
            None,
        )
        .unwrap();
        let Record::Event(e) = &records[0] else {
            panic!()
        };
        assert_eq!(e.identity, "anonymous:a1");
        assert_eq!(e.ts, now().as_second() - 5);
        assert_eq!(e.properties["total"], Value::Number(30.5));
        assert_eq!(
            e.properties["products"],
            Value::List(vec![r#"{"sku":"x"}"#.into()])
        );
        assert!(!e.properties.contains_key("coupon"));
        // The same messageId is the same event, whenever it arrives.
        let again = parse_message(
            &json!({"type":"track","anonymousId":"a1","event":"Order Completed",
                "timestamp":"2026-12-07T11:00:00Z","sentAt":"2026-12-07T11:00:05Z",
                "messageId":"m-1","properties":{"total":30.5}})
            .to_string(),
            None,
            None,
            now()
                .checked_add(jiff::SignedDuration::from_secs(30))
                .unwrap(),
        )
        .unwrap();
        let Record::Event(e2) = &again[0] else {
            panic!()
        };
        assert_eq!(e.dedup_key, e2.dedup_key);
    }

    #[test]
    fn bad_messages_name_the_field() {
        let cases = [
            (json!({"type":"track","userId":"u"}), "'event'"),
            (
                json!({"type":"track","event":"X"}),
                "'userId' or 'anonymousId'",
            ),
            (json!({"type":"nope","userId":"u"}), "'type'"),
            (json!({"userId":"u"}), "'type'"),
            (json!({"type":"alias","userId":"u"}), "'previousId'"),
            (json!({"type":"group","userId":"u"}), "'groupId'"),
            (
                json!({"type":"identify","userId":"u","traits":{"email":"nope"}}),
                "'traits.email'",
            ),
            (
                json!({"type":"track","userId":"u","event":"X","timestamp":"yesterday"}),
                "'timestamp'",
            ),
        ];
        for (msg, field) in cases {
            let e = parse(&msg, None).unwrap_err();
            assert!(e.message.contains(field), "{msg}: {}", e.message);
        }
        let big = json!({"type":"track","userId":"u","event":"X",
            "properties":{"p":"x".repeat(MAX_CALL_BYTES)}});
        assert!(parse(&big, None).unwrap_err().message.contains("32 KB"));
    }

    #[test]
    fn page_screen_group_and_alias() {
        let r = parse(
            &json!({"type":"page","userId":"u","name":"Pricing","properties":{"path":"/p"}}),
            None,
        )
        .unwrap();
        let Record::Event(e) = &r[0] else { panic!() };
        assert_eq!(e.name, "Page Viewed");
        assert_eq!(e.properties["name"], Value::Text("Pricing".into()));
        let r = parse(&json!({"type":"screen","userId":"u","name":"Home"}), None).unwrap();
        let Record::Event(e) = &r[0] else { panic!() };
        assert_eq!(e.name, "Screen Viewed");
        let r = parse(
            &json!({"type":"group","userId":"u","groupId":"g1","traits":{"name":"Acme"}}),
            None,
        )
        .unwrap();
        let Record::Profile(p) = &r[0] else { panic!() };
        assert_eq!(p.properties["groupId"], Value::Text("g1".into()));
        assert_eq!(p.properties["group.name"], Value::Text("Acme".into()));
        let r = parse(
            &json!({"type":"alias","userId":"u","previousId":"a9"}),
            None,
        )
        .unwrap();
        assert_eq!(
            r,
            vec![Record::Link(Link {
                anonymous: "a9".into(),
                identity: "u".into()
            })]
        );
    }
}
