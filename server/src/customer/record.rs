//! One record of an upload (CleverTap's `/1/upload` shape), parsed and validated without I/O.
//!
//! Parsing turns a JSON record into a [`Record`] whose values are already the typed
//! [`Value`]s the segment semantics in `shared` are defined over, or into a [`RecordError`] with
//! CleverTap's per-record code. Everything that can fail for one record fails here, so the store
//! can write every valid record of a batch in one transaction.

use std::{borrow::Cow, collections::BTreeMap};

use serde::Deserialize;
use serde_json::{Number, Value as Json};
use sha2::{Digest, Sha256};
use shared::segment::eval::Value;

use crate::facebook::hashing::{MatchKey, normalize_into};

/// Longest identity, property key (bytes) and text value (bytes), as CleverTap.
pub const MAX_IDENTITY_LEN: usize = 120;
pub const MAX_KEY_BYTES: usize = 120;
pub const MAX_VALUE_BYTES: usize = 512;
/// Most properties in one event's `evtData` or one profile's `profileData`.
pub const MAX_PROPS: usize = 256;
/// Epoch seconds beyond this are taken for milliseconds (year 5138): a common client mistake.
const MAX_EPOCH_SECONDS: i64 = 99_999_999_999;

/// CleverTap's per-record error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Code {
    EventNameMissing = 509,
    BadEventStructure = 512,
    Gender = 514,
    Email = 515,
    Phone = 516,
    TooManyProps = 522,
    IdentityMissing = 523,
    NeitherEventNorProfile = 524,
    BadTimestamp = 525,
    Other = 555,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub code: Code,
    pub message: String,
}

fn fail(code: Code, message: impl Into<String>) -> RecordError {
    RecordError {
        code,
        message: message.into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Boxed: a profile update is several times larger than an event.
    Profile(Box<ProfileUpdate>),
    Event(NewEvent),
    /// Segment's `identify` with both ids, or `alias`: the anonymous profile is merged into
    /// the identified one (`store::identity`).
    Link(Link),
}

impl Record {
    pub fn identity(&self) -> &str {
        match self {
            Record::Profile(p) => &p.identity,
            Record::Event(e) => &e.identity,
            // The identified profile: created if it does not exist yet.
            Record::Link(l) => &l.identity,
        }
    }
}

/// `anonymous` (a profile identity, `anonymous:<anonymousId>`) is the same person as `identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub anonymous: String,
    pub identity: String,
}

/// Properties to set on a profile (others are kept), plus the normalised match keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpdate {
    pub identity: String,
    pub ts: i64,
    pub properties: BTreeMap<String, Value>,
    pub match_keys: MatchKeys,
}

/// Facebook match keys found in `profileData`, normalised; `None` leaves the stored one as is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchKeys {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<String>,
    pub date_of_birth: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub madid: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub identity: String,
    pub name: String,
    pub ts: i64,
    pub properties: BTreeMap<String, Value>,
    /// `properties` as stored in `events.props`: serialised here, on the request's thread,
    /// rather than by the single writer that every upload waits for.
    pub props_json: String,
    /// Same record, same key: what makes a resent batch a no-op.
    pub dedup_key: [u8; 16],
}

/// Parses one record; `now` (epoch seconds) stands in for a missing `ts`, as in CleverTap.
pub fn parse_record(record: &Json, now: i64) -> Result<Record, RecordError> {
    let Json::Object(obj) = record else {
        return Err(fail(
            Code::NeitherEventNorProfile,
            "Each record must be a JSON object with `type` \"profile\" or \"event\".",
        ));
    };
    parse_wire(Wire::from_map(obj), now)
}

/// [`parse_record`] on a record's JSON text, without building a JSON tree first: the fields
/// are read straight into typed values, borrowing the text where it has no escapes (what the
/// upload API does for every record). A record it cannot read that way, or that fails, is
/// parsed again through [`parse_record`], so every failure is reported exactly as there.
pub fn parse_record_text(text: &str, now: i64) -> Result<Record, RecordError> {
    // A successful typed reading holds the same values as the tree would (duplicate keys in
    // property objects: the last one wins in both), so it gives the same record.
    if let Ok(wire) = serde_json::from_str::<Wire<'_>>(text)
        && let Ok(record) = parse_wire(wire, now)
    {
        return Ok(record);
    }
    match serde_json::from_str::<Json>(text) {
        Ok(json) => parse_record(&json, now),
        Err(_) => Err(fail(
            Code::NeitherEventNorProfile,
            "Each record must be a JSON object with `type` \"profile\" or \"event\".",
        )),
    }
}

/// One record's fields as read from JSON, before validation. `null` reads as absent, as every
/// rule below treats the two alike.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    identity: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    ts: Option<Scalar<'a>>,
    #[serde(rename = "evtName", borrow, default)]
    evt_name: Option<Scalar<'a>>,
    #[serde(rename = "evtData", borrow, default)]
    evt_data: Option<Data<'a>>,
    #[serde(rename = "profileData", borrow, default)]
    profile_data: Option<Data<'a>>,
}

/// A field that should be a text or a number; anything else is kept only as "something else".
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(Number),
    Other,
}

/// `evtData` / `profileData`: an object's properties (in the order validation visits them), or
/// something else.
enum Data<'a> {
    Object(Vec<(Cow<'a, str>, Prop<'a>)>),
    Other,
}

/// A property value as sent.
enum Prop<'a> {
    Null,
    Boolean(bool),
    Number(Number),
    Text(Cow<'a, str>),
    /// Booleans are kept as their text; a nested list or object, or `null`, as `Other`.
    List(Vec<Scalar<'a>>),
    /// Refused: property values are never objects.
    Object,
}

impl<'a> Wire<'a> {
    fn from_map(obj: &'a serde_json::Map<String, Json>) -> Self {
        let scalar = |key: &str| match obj.get(key) {
            None | Some(Json::Null) => None,
            Some(json) => Some(Scalar::from_json(json)),
        };
        let data = |key: &str| match obj.get(key) {
            None | Some(Json::Null) => None,
            Some(Json::Object(map)) => Some(Data::Object(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Prop::from_json(v)))
                    .collect(),
            )),
            Some(_) => Some(Data::Other),
        };
        Wire {
            kind: scalar("type"),
            identity: scalar("identity"),
            ts: scalar("ts"),
            evt_name: scalar("evtName"),
            evt_data: data("evtData"),
            profile_data: data("profileData"),
        }
    }
}

impl<'a> Scalar<'a> {
    fn from_json(json: &'a Json) -> Self {
        match json {
            Json::String(s) => Scalar::Text(Cow::Borrowed(s)),
            Json::Number(n) => Scalar::Number(n.clone()),
            _ => Scalar::Other,
        }
    }
}

impl<'a> Prop<'a> {
    fn from_json(json: &'a Json) -> Self {
        match json {
            Json::Null => Prop::Null,
            Json::Bool(b) => Prop::Boolean(*b),
            Json::Number(n) => Prop::Number(n.clone()),
            Json::String(s) => Prop::Text(Cow::Borrowed(s)),
            Json::Array(items) => Prop::List(
                items
                    .iter()
                    .map(|item| match item {
                        // A boolean list item is kept as its text, like a number.
                        Json::Bool(b) => Scalar::Text(Cow::Owned(b.to_string())),
                        other => Scalar::from_json(other),
                    })
                    .collect(),
            ),
            Json::Object(_) => Prop::Object,
        }
    }
}

/// Reading JSON straight into [`Wire`]'s types; each visitor accepts what the JSON tree would
/// hold and maps it the way the `from_json` functions above do.
mod wire_de {
    use std::{borrow::Cow, collections::BTreeMap, fmt};

    use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Number;

    use super::{Data, Prop, Scalar};

    /// Text borrowed from the input when it has no escapes.
    struct Text<'a>(Cow<'a, str>);

    impl<'de> Deserialize<'de> for Text<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Text<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Borrowed(s)))
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Owned(s.to_owned())))
                }
                fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Owned(s)))
                }
            }
            d.deserialize_str(V)
        }
    }

    /// What one JSON value is, for the three types above.
    enum Any<'a> {
        Null,
        Boolean(bool),
        Number(Number),
        Text(Cow<'a, str>),
        List(Vec<Scalar<'a>>),
        Object(BTreeMap<Cow<'a, str>, Prop<'a>>),
    }

    /// How deep the value is read: the top-level fields keep objects (`evtData`), properties
    /// keep lists (of scalars), list items keep neither.
    #[derive(Clone, Copy, PartialEq)]
    enum Depth {
        Field,
        Property,
        Item,
    }

    struct AnyVisitor(Depth);

    impl<'de> Visitor<'de> for AnyVisitor {
        type Value = Any<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Any::Null)
        }
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            Ok(Any::Boolean(b))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Any::Number(n.into()))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Any::Number(n.into()))
        }
        fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
            Number::from_f64(x)
                .map(Any::Number)
                .ok_or_else(|| E::custom("not a finite number"))
        }
        fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            Ok(Any::Text(Cow::Borrowed(s)))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Any::Text(Cow::Owned(s.to_owned())))
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            Ok(Any::Text(Cow::Owned(s)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            if self.0 != Depth::Property {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Any::List(Vec::new()));
            }
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<ItemOf<'de>>()? {
                items.push(item.0);
            }
            Ok(Any::List(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            if self.0 != Depth::Field {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Any::Object(out));
            }
            // A key given twice keeps its last value, as in a JSON tree.
            while let Some((key, value)) = map.next_entry::<Text<'de>, PropOf<'de>>()? {
                out.insert(key.0, value.0);
            }
            Ok(Any::Object(out))
        }
    }

    struct ItemOf<'a>(Scalar<'a>);

    impl<'de> Deserialize<'de> for ItemOf<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(ItemOf(
                match d.deserialize_any(AnyVisitor(Depth::Item))? {
                    Any::Text(s) => Scalar::Text(s),
                    Any::Number(n) => Scalar::Number(n),
                    Any::Boolean(b) => Scalar::Text(Cow::Owned(b.to_string())),
                    Any::Null | Any::List(_) | Any::Object(_) => Scalar::Other,
                },
            ))
        }
    }

    struct PropOf<'a>(Prop<'a>);

    impl<'de> Deserialize<'de> for PropOf<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(PropOf(
                match d.deserialize_any(AnyVisitor(Depth::Property))? {
                    Any::Null => Prop::Null,
                    Any::Boolean(b) => Prop::Boolean(b),
                    Any::Number(n) => Prop::Number(n),
                    Any::Text(s) => Prop::Text(s),
                    Any::List(items) => Prop::List(items),
                    Any::Object(_) => Prop::Object,
                },
            ))
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(match d.deserialize_any(AnyVisitor(Depth::Item))? {
                Any::Text(s) => Scalar::Text(s),
                Any::Number(n) => Scalar::Number(n),
                _ => Scalar::Other,
            })
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(match d.deserialize_any(AnyVisitor(Depth::Field))? {
                Any::Object(map) => Data::Object(map.into_iter().collect()),
                _ => Data::Other,
            })
        }
    }
}

fn parse_wire(wire: Wire<'_>, now: i64) -> Result<Record, RecordError> {
    let identity = match &wire.identity {
        Some(Scalar::Text(s)) if !s.trim().is_empty() => s.clone().into_owned(),
        Some(Scalar::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => {
            return Err(fail(
                Code::IdentityMissing,
                "'identity' is necessary: a non-empty text (or integer) identifying the user.",
            ));
        }
    };
    if identity.chars().count() > MAX_IDENTITY_LEN {
        return Err(fail(
            Code::IdentityMissing,
            format!("'identity' must be at most {MAX_IDENTITY_LEN} characters long."),
        ));
    }
    let ts = match &wire.ts {
        None => now,
        Some(Scalar::Number(n)) => match n.as_i64() {
            Some(t) if (0..=MAX_EPOCH_SECONDS).contains(&t) => t,
            Some(_) => {
                return Err(fail(
                    Code::BadTimestamp,
                    "'ts' must be epoch seconds; this looks like milliseconds or a negative number.",
                ));
            }
            None => {
                return Err(fail(
                    Code::BadTimestamp,
                    "'ts' must be a whole number of epoch seconds.",
                ));
            }
        },
        Some(_) => {
            return Err(fail(
                Code::BadTimestamp,
                "'ts' must be a whole number of epoch seconds.",
            ));
        }
    };
    match &wire.kind {
        Some(Scalar::Text(k)) if k == "profile" => {
            parse_profile(wire.profile_data, identity, ts).map(|p| Record::Profile(Box::new(p)))
        }
        Some(Scalar::Text(k)) if k == "event" => {
            parse_event(wire.evt_name, wire.evt_data, identity, ts).map(Record::Event)
        }
        _ => Err(fail(
            Code::NeitherEventNorProfile,
            "'type' must be \"profile\" or \"event\".",
        )),
    }
}

fn parse_event(
    name: Option<Scalar<'_>>,
    data: Option<Data<'_>>,
    identity: String,
    ts: i64,
) -> Result<NewEvent, RecordError> {
    let name = match name {
        Some(Scalar::Text(s)) if !s.trim().is_empty() => s.into_owned(),
        _ => {
            return Err(fail(
                Code::EventNameMissing,
                "'evtName' is necessary for an event: a non-empty text.",
            ));
        }
    };
    if name.len() > MAX_KEY_BYTES {
        return Err(fail(
            Code::EventNameMissing,
            format!("'evtName' must be at most {MAX_KEY_BYTES} bytes long."),
        ));
    }
    let properties = match data {
        None => BTreeMap::new(),
        Some(Data::Object(data)) => parse_properties(data, "evtData", Code::BadEventStructure)?,
        Some(Data::Other) => {
            return Err(fail(
                Code::BadEventStructure,
                "'evtData' must be a JSON object of event properties.",
            ));
        }
    };
    let dedup_key = dedup_key(&identity, &name, ts, &properties);
    let props_json = super::store::props_json(&properties);
    Ok(NewEvent {
        identity,
        name,
        ts,
        properties,
        props_json,
        dedup_key,
    })
}

fn parse_profile(
    data: Option<Data<'_>>,
    identity: String,
    ts: i64,
) -> Result<ProfileUpdate, RecordError> {
    let properties = match data {
        Some(Data::Object(data)) => parse_properties(data, "profileData", Code::Other)?,
        _ => {
            return Err(fail(
                Code::Other,
                "'profileData' must be a JSON object of profile properties.",
            ));
        }
    };
    let match_keys = match_keys(&properties)?;
    Ok(ProfileUpdate {
        identity,
        ts,
        properties,
        match_keys,
    })
}

/// Typed properties; `null` values are skipped (they carry nothing to store).
fn parse_properties(
    data: Vec<(Cow<'_, str>, Prop<'_>)>,
    field: &str,
    structure_code: Code,
) -> Result<BTreeMap<String, Value>, RecordError> {
    if data.len() > MAX_PROPS {
        return Err(fail(
            Code::TooManyProps,
            format!(
                "'{field}' has {} properties; at most {MAX_PROPS} are allowed.",
                data.len()
            ),
        ));
    }
    let mut out = BTreeMap::new();
    for (key, prop) in data {
        if key.trim().is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(fail(
                Code::Other,
                format!(
                    "'{field}' has a property name that is empty or longer than {MAX_KEY_BYTES} bytes."
                ),
            ));
        }
        let too_long = |s: &str| s.len() > MAX_VALUE_BYTES;
        let value = match prop {
            Prop::Null => continue,
            Prop::Boolean(b) => Value::Boolean(b),
            Prop::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => Value::Number(x),
                _ => {
                    return Err(fail(
                        Code::Other,
                        format!("'{field}.{key}' is not a number this server can store."),
                    ));
                }
            },
            Prop::Text(s) => {
                if too_long(&s) {
                    return Err(fail(
                        Code::Other,
                        format!("'{field}.{key}' is longer than {MAX_VALUE_BYTES} bytes."),
                    ));
                }
                match parse_date(&s) {
                    Some(Ok(t)) => Value::Date(t),
                    Some(Err(())) => {
                        return Err(fail(
                            Code::Other,
                            format!("'{field}.{key}' must be a date as \"$D_<epoch seconds>\"."),
                        ));
                    }
                    None => Value::Text(s.into_owned()),
                }
            }
            Prop::List(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let s = match item {
                        Scalar::Text(s) => s.into_owned(),
                        Scalar::Number(n) => n.to_string(),
                        Scalar::Other => {
                            return Err(fail(
                                structure_code,
                                format!(
                                    "'{field}.{key}' must be a list of texts, numbers or booleans; nested objects and lists are not supported."
                                ),
                            ));
                        }
                    };
                    if too_long(&s) {
                        return Err(fail(
                            Code::Other,
                            format!(
                                "An item of '{field}.{key}' is longer than {MAX_VALUE_BYTES} bytes."
                            ),
                        ));
                    }
                    list.push(s);
                }
                Value::List(list)
            }
            Prop::Object => {
                return Err(fail(
                    structure_code,
                    format!(
                        "'{field}.{key}' is an object; property values must be a text, number, boolean, date or list."
                    ),
                ));
            }
        };
        out.insert(key.into_owned(), value);
    }
    Ok(out)
}

/// Typed properties from a JSON object whose values are already scalars or lists of scalars
/// (Segment's traits and properties, flattened by `segment_api`), with the upload API's limits
/// and messages; `field` names the object in them (`traits`, `properties`).
pub(crate) fn properties_from_json(
    data: &serde_json::Map<String, Json>,
    field: &str,
) -> Result<BTreeMap<String, Value>, RecordError> {
    let data = data
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Prop::from_json(v)))
        .collect();
    parse_properties(data, field, Code::BadEventStructure)
}

/// A profile update from typed properties whose match keys are named as Segment's reserved
/// traits (`email`, `phone`, `firstName`, `lastName`, `name`, `gender`, `birthday`,
/// `address.city`, `address.state`, `address.postalCode`, `address.country`). The values are
/// checked and normalised by the same functions as the upload API's (`Email`, `Phone`, …).
pub(crate) fn segment_profile(
    identity: String,
    ts: i64,
    properties: BTreeMap<String, Value>,
) -> Result<ProfileUpdate, RecordError> {
    let match_keys = keys_from(&properties, &SEGMENT_TRAITS)?;
    Ok(ProfileUpdate {
        identity,
        ts,
        properties,
        match_keys,
    })
}

/// An event whose key is made from Segment's `messageId` (deduplication by message, as Segment
/// does) instead of its contents. `key_ts` leads the key: the client's own timestamp, which a
/// resend repeats exactly (the skew-corrected `ts` moves with the time of arrival).
pub(crate) fn event_with_message_id(
    identity: String,
    name: String,
    ts: i64,
    properties: BTreeMap<String, Value>,
    message_id: &str,
    key_ts: i64,
) -> NewEvent {
    let mut h = Sha256::new();
    h.update(b"segment messageId\0");
    h.update(message_id.as_bytes());
    let digest = h.finalize();
    let mut dedup_key = [0; 16];
    dedup_key[..8].copy_from_slice(&key_ts.to_be_bytes());
    dedup_key[8..].copy_from_slice(&digest[..8]);
    let props_json = super::store::props_json(&properties);
    NewEvent {
        identity,
        name,
        ts,
        properties,
        props_json,
        dedup_key,
    }
}

/// An event keyed by its contents, as the upload API's.
pub(crate) fn event_by_contents(
    identity: String,
    name: String,
    ts: i64,
    properties: BTreeMap<String, Value>,
) -> NewEvent {
    let dedup_key = dedup_key(&identity, &name, ts, &properties);
    let props_json = super::store::props_json(&properties);
    NewEvent {
        identity,
        name,
        ts,
        properties,
        props_json,
        dedup_key,
    }
}

/// `Some(Ok)` for a well-formed `$D_<epoch>`, `Some(Err)` for a malformed one, `None` for text.
fn parse_date(s: &str) -> Option<Result<jiff::Timestamp, ()>> {
    let digits = s.strip_prefix("$D_")?;
    Some(
        digits
            .parse::<i64>()
            .ok()
            .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
            .ok_or(()),
    )
}

fn text<'a>(props: &'a BTreeMap<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| match props.get(*k) {
        Some(Value::Text(s)) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    })
}

/// Where each match key is read from: the property names of one API, and how the field is
/// named in messages (`'profileData.Email'`, `'traits.email'`).
struct KeyNames {
    field: &'static str,
    email: &'static str,
    phone: &'static str,
    gender: &'static str,
    /// Accepted gender values: the upload API's `M`/`F`, or Segment's free text whose first
    /// letter is `m`/`f` (`male`, `Female`).
    gender_strict: bool,
    /// The upload API's `$D_` date; Segment's ISO 8601 date (read as a date by `segment_api`).
    date_of_birth: &'static str,
    /// How a date is written, for the message when it is not one.
    date_form: &'static str,
    first_name: &'static [&'static str],
    last_name: &'static [&'static str],
    full_name: &'static [&'static str],
    city: &'static [&'static str],
    state: &'static [&'static str],
    zip: &'static [&'static str],
    country: &'static [&'static str],
    madid: &'static [&'static str],
    /// Phone numbers written with spaces, dashes, dots or parentheses are accepted once those
    /// are removed (Segment's traits are free text); the upload API wants E.164 as is.
    phone_separators: bool,
}

const UPLOAD_NAMES: KeyNames = KeyNames {
    field: "profileData",
    email: "Email",
    phone: "Phone",
    gender: "Gender",
    gender_strict: true,
    date_of_birth: "DOB",
    date_form: "a date as \"$D_<epoch seconds>\"",
    first_name: &["First Name", "FirstName"],
    last_name: &["Last Name", "LastName"],
    full_name: &["Name"],
    city: &["City"],
    state: &["State"],
    zip: &["Zip", "Pincode", "Postal Code"],
    country: &["Country"],
    madid: &["MADID", "Advertiser ID"],
    phone_separators: false,
};

/// Segment's reserved traits (`address` flattened by `segment_api` into `address.city`, …).
const SEGMENT_TRAITS: KeyNames = KeyNames {
    field: "traits",
    email: "email",
    phone: "phone",
    gender: "gender",
    gender_strict: false,
    date_of_birth: "birthday",
    date_form: "an ISO 8601 date, e.g. \"1990-04-21\"",
    first_name: &["firstName", "first_name"],
    last_name: &["lastName", "last_name"],
    full_name: &["name"],
    city: &["address.city"],
    state: &["address.state"],
    zip: &["address.postalCode", "address.postal_code"],
    country: &["address.country"],
    madid: &["advertisingId", "context.device.advertisingId"],
    phone_separators: true,
};

/// The validated, normalised match keys (Facebook hashes normalised values).
fn match_keys(props: &BTreeMap<String, Value>) -> Result<MatchKeys, RecordError> {
    keys_from(props, &UPLOAD_NAMES)
}

fn keys_from(props: &BTreeMap<String, Value>, names: &KeyNames) -> Result<MatchKeys, RecordError> {
    let field = names.field;
    let mut keys = MatchKeys::default();
    if let Some(v) = props.get(names.email) {
        match v {
            Value::Text(s) if is_email(s.trim()) => keys.email = normalised(MatchKey::Email, s),
            _ => {
                return Err(fail(
                    Code::Email,
                    format!("'{field}.{}' is not a valid e-mail address.", names.email),
                ));
            }
        }
    }
    if let Some(v) = props.get(names.phone) {
        let phone = match v {
            Value::Text(s) if names.phone_separators => s
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
                .collect(),
            Value::Text(s) => s.trim().to_owned(),
            _ => String::new(),
        };
        if is_e164(&phone) {
            keys.phone = Some(phone);
        } else {
            return Err(fail(
                Code::Phone,
                format!(
                    "'{field}.{}' must be in E.164 form: + then country code and number, e.g. +14155551234.",
                    names.phone
                ),
            ));
        }
    }
    if let Some(v) = props.get(names.gender) {
        let ok = match v {
            Value::Text(s) if names.gender_strict => s == "M" || s == "F",
            Value::Text(s) => matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "m" | "f" | "male" | "female"
            ),
            _ => false,
        };
        match v {
            Value::Text(s) if ok => keys.gender = normalised(MatchKey::Gen, s),
            _ if names.gender_strict => {
                return Err(fail(
                    Code::Gender,
                    format!("'{field}.{}' must be \"M\" or \"F\".", names.gender),
                ));
            }
            _ => {
                return Err(fail(
                    Code::Gender,
                    format!(
                        "'{field}.{}' must be \"male\" or \"female\" (or \"m\", \"f\").",
                        names.gender
                    ),
                ));
            }
        }
    }
    if let Some(v) = props.get(names.date_of_birth) {
        match v {
            Value::Date(t) => {
                keys.date_of_birth = Some(t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            }
            _ => {
                return Err(fail(
                    Code::Other,
                    format!(
                        "'{field}.{}' must be {}.",
                        names.date_of_birth, names.date_form
                    ),
                ));
            }
        }
    }
    // Stored in Facebook's normalised form (the one place it is defined is
    // `facebook::hashing`), so the sync hashes the stored value as is.
    let norm = |key: MatchKey, names: &[&str]| text(props, names).and_then(|v| normalised(key, v));
    keys.first_name = norm(MatchKey::Fn, names.first_name);
    keys.last_name = norm(MatchKey::Ln, names.last_name);
    // The full name (CleverTap's `Name`, Segment's `name`): first word, rest.
    if let Some(name) = text(props, names.full_name) {
        let mut parts = name.splitn(2, char::is_whitespace);
        if keys.first_name.is_none() {
            keys.first_name = parts.next().and_then(|v| normalised(MatchKey::Fn, v));
        }
        if keys.last_name.is_none() {
            keys.last_name = parts.next().and_then(|v| normalised(MatchKey::Ln, v));
        }
    }
    keys.city = norm(MatchKey::Ct, names.city);
    keys.state = norm(MatchKey::St, names.state);
    keys.zip = norm(MatchKey::Zip, names.zip);
    keys.country = norm(MatchKey::Country, names.country);
    keys.madid = norm(MatchKey::Madid, names.madid);
    Ok(keys)
}

/// `value` normalised for `key` as Facebook matches it; `None` when nothing usable is left.
fn normalised(key: MatchKey, value: &str) -> Option<String> {
    let mut out = String::new();
    // The year bound only applies to a birth year, which is not stored through here.
    normalize_into(key, value, 9999, &mut out);
    (!out.is_empty()).then_some(out)
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// What makes an event the same event, in 16 bytes: `ts` big-endian, then the first 8 bytes of
/// SHA-256 over identity, name, `ts` and the properties (in key order, so their order in the
/// upload does not matter). Leading with `ts` keeps the unique index on the key friendly to
/// inserts: events mostly arrive in time order, so a batch's keys land on a few adjacent index
/// pages instead of one random page each. Two different events collide only within the same
/// second and then with odds of 2⁻⁶⁴ per pair.
fn dedup_key(identity: &str, name: &str, ts: i64, props: &BTreeMap<String, Value>) -> [u8; 16] {
    let mut h = Sha256::new();
    // Lengths before variable-length parts: no two different events give the same bytes.
    let text = |h: &mut Sha256, s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    text(&mut h, identity);
    text(&mut h, name);
    h.update(ts.to_le_bytes());
    h.update((props.len() as u64).to_le_bytes());
    for (key, value) in props {
        text(&mut h, key);
        match value {
            Value::Text(s) => {
                h.update([0]);
                text(&mut h, s);
            }
            Value::Number(x) => {
                h.update([1]);
                h.update(x.to_bits().to_le_bytes());
            }
            Value::Boolean(b) => h.update([2, u8::from(*b)]),
            Value::Date(t) => {
                h.update([3]);
                h.update(t.as_second().to_le_bytes());
            }
            Value::List(items) => {
                h.update([4]);
                h.update((items.len() as u64).to_le_bytes());
                for item in items {
                    text(&mut h, item);
                }
            }
        }
    }
    let digest = h.finalize();
    let mut key = [0; 16];
    key[..8].copy_from_slice(&ts.to_be_bytes());
    key[8..].copy_from_slice(&digest[..8]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(record: &Json) -> RecordError {
        parse_record(record, 1_700_000_000).unwrap_err()
    }

    #[test]
    fn an_event_with_typed_properties_parses() {
        let r = parse_record(
            &json!({"type":"event","identity":"u1","ts":1712345679,"evtName":"Charged",
                    "evtData":{"Amount":300,"Paid":true,"At":"$D_1712345678","Tags":["a",2]}}),
            0,
        )
        .unwrap();
        let Record::Event(e) = r else { panic!() };
        assert_eq!(e.properties["Amount"], Value::Number(300.0));
        assert_eq!(e.properties["Paid"], Value::Boolean(true));
        assert_eq!(
            e.properties["At"],
            Value::Date(jiff::Timestamp::from_second(1712345678).unwrap())
        );
        assert_eq!(
            e.properties["Tags"],
            Value::List(vec!["a".into(), "2".into()])
        );
    }

    #[test]
    fn reading_the_text_gives_what_reading_the_tree_gives() {
        let cases = [
            r#"{"type":"event","identity":"u1","ts":1712345679,"evtName":"Charged","evtData":{"Amount":300,"Paid":true,"At":"$D_1712345678","Tags":["a",2,false,1.5],"N":null}}"#,
            r#"{"type":"event","identity":"u\"1\u00e9","evtName":"Caf\u00e9","evtData":{"k\n":"v\\"}}"#,
            r#"{"type":"event","identity":42,"ts":null,"evtName":"X","evtData":null}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":{"a":1,"a":"again"}}"#,
            r#"{"type":"event","identity":"a","identity":"b","evtName":"X"}"#,
            r#"{"type":"profile","identity":"u","extra":[1,{"x":2}],"profileData":{"Name":"Jack Ryan","Email":"j@x.com","DOB":"$D_0","List":[]}}"#,
            r#"{"type":"profile","identity":"u","profileData":null}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":{"o":{"a":[1]}}}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":{"l":[[1]]}}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":{"l":[null]}}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":[1]}"#,
            r#"{"type":"event","identity":"u","evtName":"X","evtData":{"d":"$D_x","b":{"c":1}}}"#,
            r#"{"type":"event","identity":1.5,"evtName":"X"}"#,
            r#"{"type":"event","identity":true,"evtName":"X"}"#,
            r#"{"type":"event","identity":"u","ts":1.5,"evtName":"X"}"#,
            r#"{"type":"event","identity":"u","ts":-1,"evtName":"X"}"#,
            r#"{"type":"event","identity":"u","ts":18446744073709551615,"evtName":"X"}"#,
            r#"{"type":"event","identity":"u","ts":"1","evtName":"X"}"#,
            r#"{"type":"event","identity":"u","evtName":" "}"#,
            r#"{"type":["event"],"identity":"u","evtName":"X"}"#,
            r#"{"identity":"u","evtName":"X"}"#,
            r#"{"type":"profile","identity":"u","profileData":{"Gender":"x","Email":"bad"}}"#,
            r#"{"type":"profile","identity":"u","profileData":{"":1}}"#,
            r#"[1,2]"#,
            r#""text""#,
        ];
        for text in cases {
            let tree: Json = serde_json::from_str(text).unwrap();
            assert_eq!(parse_record_text(text, 7), parse_record(&tree, 7), "{text}");
        }
        // The fast path is the one taken for an ordinary record (no fallback to the tree).
        assert!(serde_json::from_str::<Wire<'_>>(cases[0]).is_ok());
        assert!(parse_wire(serde_json::from_str(cases[0]).unwrap(), 7).is_ok());
    }

    #[test]
    fn the_same_event_has_the_same_key_whatever_the_property_order() {
        let a =
            json!({"type":"event","identity":"u1","ts":5,"evtName":"X","evtData":{"a":1,"b":2}});
        let b =
            json!({"type":"event","identity":"u1","ts":5,"evtName":"X","evtData":{"b":2,"a":1}});
        let c =
            json!({"type":"event","identity":"u1","ts":6,"evtName":"X","evtData":{"b":2,"a":1}});
        let key = |r: &Json| match parse_record(r, 0).unwrap() {
            Record::Event(e) => e.dedup_key,
            Record::Profile(_) | Record::Link(_) => panic!(),
        };
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
    }

    #[test]
    fn each_problem_has_its_clevertap_code() {
        let cases = [
            (
                json!({"type":"event","identity":"u","ts":1}),
                Code::EventNameMissing,
            ),
            (
                json!({"type":"event","identity":"u","evtName":"X","evtData":[1]}),
                Code::BadEventStructure,
            ),
            (
                json!({"type":"event","identity":"u","evtName":"X","evtData":{"o":{"a":1}}}),
                Code::BadEventStructure,
            ),
            (
                json!({"type":"profile","identity":"u","profileData":{"Gender":"male"}}),
                Code::Gender,
            ),
            (
                json!({"type":"profile","identity":"u","profileData":{"Email":"nope"}}),
                Code::Email,
            ),
            (
                json!({"type":"profile","identity":"u","profileData":{"Phone":"0044 1234"}}),
                Code::Phone,
            ),
            (json!({"type":"event","evtName":"X"}), Code::IdentityMissing),
            (
                json!({"type":"other","identity":"u"}),
                Code::NeitherEventNorProfile,
            ),
            (
                json!({"type":"event","identity":"u","evtName":"X","ts":1712345678000_i64}),
                Code::BadTimestamp,
            ),
            (
                json!({"type":"event","identity":"u","evtName":"X","ts":"yesterday"}),
                Code::BadTimestamp,
            ),
            (
                json!({"type":"event","identity":"u","evtName":"X","evtData":{"k":"x".repeat(513)}}),
                Code::Other,
            ),
        ];
        for (record, code) in cases {
            assert_eq!(err(&record).code, code, "{record}");
        }
        let many: serde_json::Map<String, Json> =
            (0..257).map(|i| (format!("p{i}"), json!(i))).collect();
        let e = err(&json!({"type":"event","identity":"u","evtName":"X","evtData":many}));
        assert_eq!(e.code, Code::TooManyProps);
    }

    #[test]
    fn profile_match_keys_are_normalised() {
        let r = parse_record(
            &json!({"type":"profile","identity":"u","profileData":{
                "Name":"Jack Ryan Smith","Email":" Jack@X.com ","Phone":"+14155551234",
                "Gender":"M","City":"Pune","DOB":"$D_0"}}),
            0,
        )
        .unwrap();
        let Record::Profile(p) = r else { panic!() };
        let k = p.match_keys;
        assert_eq!(k.email.as_deref(), Some("jack@x.com"));
        assert_eq!(k.first_name.as_deref(), Some("jack"));
        // Facebook's normalisation (`facebook::hashing`): letters only, lower case.
        assert_eq!(k.last_name.as_deref(), Some("ryansmith"));
        assert_eq!(k.gender.as_deref(), Some("m"));
        assert_eq!(k.city.as_deref(), Some("pune"));
        assert_eq!(k.date_of_birth.as_deref(), Some("1970-01-01"));
        // The property itself is kept as uploaded: segments see what the customer sent.
        assert_eq!(p.properties["City"], Value::Text("Pune".into()));

        let r = parse_record(
            &json!({"type":"profile","identity":"u","profileData":{
                "City":"São Paulo","Country":"BR","Zip":"94107-1234"}}),
            0,
        )
        .unwrap();
        let Record::Profile(p) = r else { panic!() };
        assert_eq!(p.match_keys.city.as_deref(), Some("saopaulo"));
        assert_eq!(p.match_keys.country.as_deref(), Some("br"));
        assert_eq!(p.match_keys.zip.as_deref(), Some("94107"));
    }
}
