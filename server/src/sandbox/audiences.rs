//! Custom audiences in the sandbox: create/read/delete, `/users` add and remove with sessions,
//! and `/usersreplace`, with the checks Graph makes (reference §3–§4).

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    hash::BuildHasher,
};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use super::{GraphError, GraphResult, Kind, Node, Params, SandboxState, obj};
use crate::facebook::hashing::FastBuild;

/// Most rows one `/users` or `/usersreplace` request may carry.
pub const MAX_ROWS_PER_REQUEST: usize = 10_000;
/// A session ends this long after its first batch.
pub const SESSION_WINDOW: SignedDuration = SignedDuration::from_mins(90);

const MULTI_KEYS: [&str; 18] = [
    "EXTERN_ID",
    "EMAIL",
    "PHONE",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "LN",
    "FN",
    "FI",
    "CT",
    "ST",
    "ZIP",
    "MADID",
    "COUNTRY",
    "LOOKALIKE_VALUE",
    "DATA_PROCESSING_OPTIONS",
    "DATA_PROCESSING_OPTIONS_COUNTRY",
];
const SINGLE_KEYS: [&str; 4] = [
    "EMAIL_SHA256",
    "PHONE_SHA256",
    "MOBILE_ADVERTISER_ID",
    "UID",
];
/// Keys sent in clear; every other key must be 64 lowercase hex digits ([`is_clear`]).
#[cfg(test)]
const CLEAR_KEYS: [&str; 7] = [
    "EXTERN_ID",
    "MADID",
    "MOBILE_ADVERTISER_ID",
    "UID",
    "LOOKALIKE_VALUE",
    "DATA_PROCESSING_OPTIONS",
    "DATA_PROCESSING_OPTIONS_COUNTRY",
];
/// Keys that identify one person, used to find whom a removal row removes ([`is_identity`]).
#[cfg(test)]
const IDENTITY_KEYS: [&str; 7] = [
    "EXTERN_ID",
    "EMAIL",
    "PHONE",
    "MADID",
    "EMAIL_SHA256",
    "PHONE_SHA256",
    "MOBILE_ADVERTISER_ID",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
        }
    }
}

/// Every key the sandbox knows; a stored cell names its key by its index here.
const KEYS: [&str; 22] = [
    "EXTERN_ID",
    "EMAIL",
    "PHONE",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "LN",
    "FN",
    "FI",
    "CT",
    "ST",
    "ZIP",
    "MADID",
    "COUNTRY",
    "LOOKALIKE_VALUE",
    "DATA_PROCESSING_OPTIONS",
    "DATA_PROCESSING_OPTIONS_COUNTRY",
    "EMAIL_SHA256",
    "PHONE_SHA256",
    "MOBILE_ADVERTISER_ID",
    "UID",
];

fn key_index(name: &str) -> Option<u8> {
    KEYS.iter().position(|k| *k == name).map(|i| i as u8)
}

fn key_name(index: u8) -> &'static str {
    KEYS.get(index as usize).copied().unwrap_or("?")
}

/// Whether the key at `index` of [`KEYS`] is one of `CLEAR_KEYS` (checked by a test).
fn is_clear(index: u8) -> bool {
    matches!(index, 0 | 13 | 15 | 16 | 17 | 20 | 21)
}

/// Whether the key at `index` of [`KEYS`] is one of `IDENTITY_KEYS` (checked by a test).
fn is_identity(index: u8) -> bool {
    matches!(index, 0 | 1 | 2 | 13 | 18 | 19 | 20)
}

/// One stored row, packed: its non-empty cells ordered by key index, each as key index (u8),
/// length (u16 LE) and the value — hashed keys as their 32 raw digest bytes, the others as
/// UTF-8. A million members take ~250 MB this way instead of gigabytes of string maps, and two
/// equal rows pack to equal bytes, so the member set deduplicates as Graph does.
type Packed = Box<[u8]>;

/// The cells of a packed row: (key index, raw value bytes).
fn cells(row: &[u8]) -> impl Iterator<Item = (u8, &[u8])> + '_ {
    let mut rest = row;
    std::iter::from_fn(move || {
        if rest.len() < 3 {
            return None;
        }
        let key = rest[0];
        let len = u16::from_le_bytes([rest[1], rest[2]]) as usize;
        let value = rest.get(3..3 + len)?;
        rest = &rest[3 + len..];
        Some((key, value))
    })
}

/// A packed row as Graph would show it: key → value (hashes as lowercase hex).
fn unpack(row: &[u8]) -> BTreeMap<&'static str, String> {
    cells(row)
        .map(|(k, v)| {
            let value = if is_clear(k) {
                String::from_utf8_lossy(v).into_owned()
            } else {
                hex::encode(v)
            };
            (key_name(k), value)
        })
        .collect()
}

/// An audience's rows (or a replace session's), deduplicated as Graph does, grouped by a hash
/// of their EXTERN_ID (of the whole row when they have none). A removal by EXTERN_ID alone —
/// what this product's sync sends — then touches only the groups it names, instead of reading
/// every one of a million rows (0.7 s per removal batch).
#[derive(Debug, Clone, Default)]
pub struct MemberSet {
    groups: HashMap<u64, Vec<Packed>, FastBuild>,
    len: usize,
}

impl MemberSet {
    fn group_of(row: &[u8]) -> u64 {
        match cells(row).next().filter(|(k, _)| *k == EXTERN_ID) {
            Some((_, v)) => Self::group_of_extern_id(v),
            None => mix(FastBuild::default().hash_one(row)),
        }
    }

    fn group_of_extern_id(value: &[u8]) -> u64 {
        mix(FastBuild::default().hash_one((EXTERN_ID, value)))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn iter(&self) -> impl Iterator<Item = &Packed> {
        self.groups.values().flatten()
    }

    fn insert(&mut self, row: Packed) {
        let group = self.groups.entry(Self::group_of(&row)).or_default();
        if !group.contains(&row) {
            group.push(row);
            self.len += 1;
        }
    }

    fn extend(&mut self, rows: impl IntoIterator<Item = Packed>) {
        for row in rows {
            self.insert(row);
        }
    }

    /// Keeps the rows of `group` (all groups when `None`) that `keep` accepts.
    fn retain_in(&mut self, group: Option<u64>, mut keep: impl FnMut(&[u8]) -> bool) {
        let mut removed = 0;
        let mut retain = |rows: &mut Vec<Packed>| {
            let before = rows.len();
            rows.retain(|r| keep(r));
            removed += before - rows.len();
            !rows.is_empty()
        };
        match group {
            Some(g) => {
                if let Some(rows) = self.groups.get_mut(&g)
                    && !retain(rows)
                {
                    self.groups.remove(&g);
                }
            }
            None => self.groups.retain(|_, rows| retain(rows)),
        }
        self.len -= removed;
    }
}

/// The fast hasher leaves little entropy in the low bits, which index the group map's buckets
/// (similar short ids then pile up in a few and every insert probes a long run: 7 s more for a
/// million rows). MurmurHash3's finaliser spreads every bit over all of them.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The key index of EXTERN_ID, the first of [`KEYS`]: the first cell of any row that has one.
const EXTERN_ID: u8 = 0;

#[derive(Debug, Clone)]
pub struct Session {
    op: Op,
    started: Timestamp,
    last_seq: i64,
    finished: bool,
    timed_out: bool,
    num_received: u64,
    num_invalid: u64,
    schema: Vec<String>,
    staged: MemberSet,
}

/// What the sandbox keeps for each audience besides its Graph fields.
#[derive(Debug, Clone, Default)]
pub struct AudienceData {
    pub members: MemberSet,
    /// `MULTI_HASHES` or `HASHES_OR_USER_IDS`, fixed by the first upload.
    pub data_source: Option<&'static str>,
    sessions: HashMap<i64, Session>,
    /// The session of the replace in progress.
    replace: Option<i64>,
    uploads: u64,
    /// Every upload request that reached this audience, accepted or refused: a batch sent
    /// twice shows here even when Facebook refused the second copy.
    requests: u64,
    last_invalid_pct: u64,
    updated: Option<Timestamp>,
}

impl AudienceData {
    /// `GET /<ca_id>/sessions`: the upload sessions, newest first, as Graph lists them.
    pub fn sessions_view(&self) -> Vec<Value> {
        let mut sessions: Vec<(&i64, &Session)> = self.sessions.iter().collect();
        sessions.sort_by_key(|(sid, s)| (std::cmp::Reverse(s.started), **sid));
        sessions
            .into_iter()
            .map(|(sid, s)| {
                json!({
                    "session_id": sid.to_string(),
                    "stage": if s.finished { "finished" } else { "processing" },
                    "num_received": s.num_received,
                    "num_invalid_entries": s.num_invalid,
                    "start_time": s.started.as_second(),
                })
            })
            .collect()
    }

    pub fn debug_view(&self, id: &str) -> Value {
        let mut sessions: Vec<_> = self
            .sessions
            .iter()
            .map(|(sid, s)| {
                json!({
                    "session_id": sid, "op": s.op.label(), "last_batch_seq": s.last_seq,
                    "finished": s.finished, "num_received": s.num_received,
                    "num_invalid_entries": s.num_invalid,
                })
            })
            .collect();
        sessions.sort_by_key(|s| s["session_id"].as_i64());
        let mut rows: Vec<BTreeMap<&str, String>> =
            self.members.iter().map(|r| unpack(r)).collect();
        rows.sort();
        json!({
            "id": id,
            "count": self.members.len(),
            "data_source": self.data_source,
            "replace_in_progress": self.replace.is_some(),
            "upload_requests": self.requests,
            "rows": rows,
            "sessions": sessions,
        })
    }
}

/// `POST /act_<id>/customaudiences`.
pub fn create(state: &mut SandboxState, account: &str, params: &Params) -> GraphResult {
    let name = params.require("name")?.to_owned();
    let subtype = params.require("subtype")?;
    if subtype != "CUSTOM" {
        return Err(GraphError::param(format!(
            "Param subtype {subtype} is not supported by the sandbox (only CUSTOM customer-file audiences)"
        )));
    }
    let source = params
        .get("customer_file_source")
        .ok_or_else(|| GraphError::param("Missing parameter(s): customer_file_source"))?;
    if ![
        "USER_PROVIDED_ONLY",
        "PARTNER_PROVIDED_ONLY",
        "BOTH_USER_AND_PARTNER_PROVIDED",
    ]
    .contains(&source)
    {
        return Err(GraphError::param(format!(
            "Param customer_file_source must be one of {{USER_PROVIDED_ONLY, PARTNER_PROVIDED_ONLY, BOTH_USER_AND_PARTNER_PROVIDED}} - got \"{source}\""
        )));
    }
    let retention = match params.get("retention_days") {
        None => None,
        Some(r) => Some(
            r.parse::<u32>()
                .ok()
                .filter(|d| (1..=180).contains(d))
                .ok_or_else(|| {
                    GraphError::param("Param retention_days must be between 1 and 180")
                })?,
        ),
    };
    let existing = state.children(Kind::Audience, account).len();
    if existing >= 500 {
        return Err(GraphError::param(
            "This ad account already has 500 customer-file custom audiences, the maximum",
        ));
    }
    let id = state.new_id();
    let account_id = account.trim_start_matches("act_").to_owned();
    let mut fields = obj(vec![
        ("id", json!(id)),
        ("account_id", json!(account_id)),
        ("name", json!(name)),
        (
            "description",
            json!(params.get("description").unwrap_or("")),
        ),
        ("subtype", json!("CUSTOM")),
        ("customer_file_source", json!(source)),
    ]);
    if let Some(days) = retention {
        fields.insert("retention_days".into(), json!(days));
    }
    state.insert(
        id.clone(),
        Node {
            kind: Kind::Audience,
            account: account.to_owned(),
            parent: None,
            fields,
        },
    );
    state.audiences.insert(id.clone(), AudienceData::default());
    refresh(state, &id);
    Ok(json!({ "id": id }))
}

/// Recomputes an audience's derived fields (sizes, statuses) from its data.
pub fn refresh(state: &mut SandboxState, id: &str) {
    let now = state.now();
    let Some(data) = state.audiences.get_mut(id) else {
        return;
    };
    // Finish sessions whose 90-minute window has passed (a replace keeps what arrived).
    let expired: Vec<i64> = data
        .sessions
        .iter()
        .filter(|(_, s)| !s.finished && now >= s.started + SESSION_WINDOW)
        .map(|(sid, _)| *sid)
        .collect();
    for sid in expired {
        if let Some(s) = data.sessions.get_mut(&sid) {
            s.timed_out = true;
        }
        finish(data, sid, now);
    }
    let n = data.members.len() as u64;
    let (lower, upper) = if n == 0 {
        (0, 0)
    } else {
        (n * 9 / 10, n + n / 10)
    };
    let operation = if data.replace.is_some() {
        json!({ "code": 414, "description": "Replace in progress." })
    } else if data.uploads == 0 {
        json!({ "code": 410, "description": "No upload: this audience has no users yet." })
    } else if data.last_invalid_pct > 50 {
        json!({ "code": 412, "description": "High rate of invalid entries in the last session." })
    } else {
        json!({ "code": 200, "description": "Normal" })
    };
    let delivery = if n >= 100 {
        json!({ "code": 200, "description": "This audience is ready for use." })
    } else {
        json!({ "code": 300, "description": "This audience is too small to use." })
    };
    let updated = data.updated.map_or(0, |t| t.as_second());
    let source = data.data_source.unwrap_or("MULTI_HASHES");
    let node = state.nodes.get_mut(id).expect("audience node");
    node.fields.extend(obj(vec![
        ("approximate_count_lower_bound", json!(lower)),
        ("approximate_count_upper_bound", json!(upper)),
        ("operation_status", operation),
        ("delivery_status", delivery),
        ("time_content_updated", json!(updated)),
        (
            "data_source",
            json!({ "type": "FILE_IMPORTED", "sub_type": source }),
        ),
    ]));
}

/// `POST /<ca_id>`: rename or redescribe.
pub fn update(state: &mut SandboxState, id: &str, params: &Params) -> GraphResult {
    let mut changed = false;
    for key in ["name", "description"] {
        if let Some(v) = params.get(key) {
            let node = state.nodes.get_mut(id).expect("audience node");
            node.fields.insert(key.into(), json!(v));
            changed = true;
        }
    }
    if !changed {
        return Err(GraphError::param("No fields to update"));
    }
    Ok(json!({ "success": true }))
}

/// `DELETE /<ca_id>`.
pub fn delete(state: &mut SandboxState, id: &str) -> GraphResult {
    state.nodes.remove(id);
    state.order.retain(|o| o != id);
    state.audiences.remove(id);
    Ok(json!({ "success": true }))
}

struct SessionParams {
    id: i64,
    batch_seq: i64,
    last: bool,
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn parse_session(params: &Params) -> GraphResult<Option<SessionParams>> {
    let Some(session) = params.json("session")? else {
        return Ok(None);
    };
    let id = int(session.get("session_id"))
        .ok_or_else(|| GraphError::param("session.session_id must be an integer"))?;
    let batch_seq = int(session.get("batch_seq"))
        .filter(|s| *s >= 1)
        .ok_or_else(|| GraphError::param("session.batch_seq must be an integer starting at 1"))?;
    let last = match session.get("last_batch_flag") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => {
            return Err(GraphError::param(
                "session.last_batch_flag must be a boolean",
            ));
        }
    };
    if session
        .get("estimated_num_total")
        .is_some_and(|v| !v.is_null() && int(Some(v)).is_none())
    {
        return Err(GraphError::param(
            "session.estimated_num_total must be an integer",
        ));
    }
    Ok(Some(SessionParams {
        id,
        batch_seq,
        last,
    }))
}

fn update_failed(subcode: i64, what: &str) -> GraphError {
    GraphError::new(
        2650,
        format!("(#2650) Failed to update the custom audience: {what}"),
    )
    .sub(subcode)
    .user(what.to_owned())
}

/// The rows of one request, checked: (valid rows, invalid count, samples).
#[derive(Debug)]
pub(crate) struct Parsed {
    schema: Vec<String>,
    source: &'static str,
    valid: Vec<Packed>,
    received: u64,
    invalid: u64,
    samples: Map<String, Value>,
}

/// `payload` as sent. `schema` is small and read as a [`Value`]; `data` is read cell by cell,
/// borrowing from the request where it can, so 10,000 rows cost no tree of JSON values.
#[derive(serde::Deserialize)]
struct PayloadIn<'a> {
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default, borrow)]
    data: Option<DataIn<'a>>,
}

enum DataIn<'a> {
    Rows(Vec<RowIn<'a>>),
    NotArray,
}

enum RowIn<'a> {
    Cells(Vec<CellIn<'a>>),
    /// Single-key schemas may send a flat list.
    Scalar(CellIn<'a>),
    Bad,
}

enum CellIn<'a> {
    Text(Cow<'a, str>),
    Null,
    /// An object, array or boolean where a value belongs.
    Other,
}

mod de {
    //! Visitors for [`super::PayloadIn`]'s `data`: arrays of arrays of strings, read without
    //! building `serde_json::Value`s, borrowing each string from the request when it has no
    //! escapes (hashes never do).

    use std::{borrow::Cow, fmt, marker::PhantomData};

    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    use super::{CellIn, DataIn, RowIn};

    fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Scalars, shared by cells, flat rows and a scalar where the rows belong.
    macro_rules! scalars {
        ($de:lifetime, $wrap:expr) => {
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &$de str) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Owned(v))))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Text(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Other))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Null))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok($wrap(CellIn::Null))
            }
        };
    }

    struct CellVisitor<'a>(PhantomData<&'a ()>);

    impl<'de: 'a, 'a> Visitor<'de> for CellVisitor<'a> {
        type Value = CellIn<'a>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        scalars!('de, |c| c);

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok(CellIn::Other)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map)?;
            Ok(CellIn::Other)
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for CellIn<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(CellVisitor(PhantomData))
        }
    }

    struct RowVisitor<'a>(PhantomData<&'a ()>);

    impl<'de: 'a, 'a> Visitor<'de> for RowVisitor<'a> {
        type Value = RowIn<'a>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of strings")
        }

        scalars!('de, RowIn::Scalar);

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut cells = Vec::with_capacity(seq.size_hint().unwrap_or(8));
            while let Some(cell) = seq.next_element::<CellIn<'a>>()? {
                cells.push(cell);
            }
            Ok(RowIn::Cells(cells))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map)?;
            Ok(RowIn::Bad)
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for RowIn<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(RowVisitor(PhantomData))
        }
    }

    struct DataVisitor<'a>(PhantomData<&'a ()>);

    impl<'de: 'a, 'a> Visitor<'de> for DataVisitor<'a> {
        type Value = DataIn<'a>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of rows")
        }

        scalars!('de, |_| DataIn::NotArray);

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(1024).min(16_384));
            while let Some(row) = seq.next_element::<RowIn<'a>>()? {
                rows.push(row);
            }
            Ok(DataIn::Rows(rows))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map)?;
            Ok(DataIn::NotArray)
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for DataIn<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(DataVisitor(PhantomData))
        }
    }

    /// The `payload` parameter of a JSON request body: a JSON string (as in a form) or the
    /// object itself; either way checked into [`super::Parsed`] at once.
    pub(crate) struct PayloadField(pub super::GraphResult<super::Parsed>);

    struct FieldVisitor;

    impl<'de> Visitor<'de> for FieldVisitor {
        type Value = PayloadField;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a payload object or its JSON text")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(PayloadField(super::parse_payload_str(v)))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let payload: super::PayloadIn<'de> =
                Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            Ok(PayloadField(super::check_payload(payload)))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok(PayloadField(Err(super::bad_payload())))
        }
    }

    impl<'de> Deserialize<'de> for PayloadField {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(FieldVisitor)
        }
    }
}

pub(crate) use de::PayloadField;

fn bad_payload() -> GraphError {
    GraphError::param("Param payload must be a JSON object or array")
}

/// Parses and checks the `payload` parameter's JSON text.
pub(crate) fn parse_payload_str(raw: &str) -> GraphResult<Parsed> {
    let payload: PayloadIn<'_> = serde_json::from_str(raw).map_err(|_| bad_payload())?;
    check_payload(payload)
}

/// 64 lowercase hex digits → the 32 digest bytes.
fn decode_hash(value: &str) -> Option<[u8; 32]> {
    let bytes = value.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn check_payload(payload: PayloadIn<'_>) -> GraphResult<Parsed> {
    let (schema, source): (Vec<String>, &'static str) = match payload.schema {
        Some(Value::String(s)) => (vec![s], "HASHES_OR_USER_IDS"),
        Some(Value::Array(keys)) => (
            keys.iter()
                .map(|k| k.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    GraphError::param("payload.schema must be a string or an array of strings")
                })?,
            "MULTI_HASHES",
        ),
        _ => return Err(GraphError::param("payload.schema is required")),
    };
    if schema.is_empty() {
        return Err(GraphError::param("payload.schema is empty"));
    }
    for key in &schema {
        let allowed = if source == "MULTI_HASHES" {
            MULTI_KEYS.contains(&key.as_str())
                || (schema.len() == 1 && SINGLE_KEYS.contains(&key.as_str()))
        } else {
            SINGLE_KEYS.contains(&key.as_str()) || MULTI_KEYS.contains(&key.as_str())
        };
        if !allowed {
            return Err(GraphError::param(format!("Invalid schema key: {key}")));
        }
    }
    let unique: BTreeSet<_> = schema.iter().collect();
    if unique.len() != schema.len() {
        return Err(GraphError::param("payload.schema lists a key twice"));
    }
    let Some(DataIn::Rows(data)) = payload.data else {
        return Err(GraphError::param("payload.data must be an array"));
    };
    if data.is_empty() {
        return Err(GraphError::param("payload.data is empty"));
    }
    if data.len() > MAX_ROWS_PER_REQUEST {
        return Err(GraphError::param(format!(
            "Too many entries in payload.data: {} (the maximum is {MAX_ROWS_PER_REQUEST} per request)",
            data.len()
        )));
    }
    // Every schema key is known (checked above).
    let keys: Vec<u8> = schema
        .iter()
        .map(|k| key_index(k).unwrap_or_default())
        .collect();
    // Columns in key order, so equal rows pack to equal bytes whatever the schema's order.
    let mut order: Vec<usize> = (0..schema.len()).collect();
    order.sort_by_key(|&c| keys[c]);
    let mut parsed = Parsed {
        schema,
        source,
        valid: Vec::with_capacity(data.len()),
        received: data.len() as u64,
        invalid: 0,
        samples: Map::new(),
    };
    let width = parsed.schema.len();
    let mut packed: Vec<u8> = Vec::with_capacity(width * 40);
    for (i, row) in data.into_iter().enumerate() {
        let cells: Vec<CellIn<'_>> = match row {
            RowIn::Cells(cells) => cells,
            RowIn::Scalar(cell) if width == 1 => vec![cell],
            _ => {
                return Err(GraphError::param(format!(
                    "payload.data[{i}] must be an array"
                )));
            }
        };
        if cells.len() != width {
            return Err(GraphError::param(format!(
                "payload.data[{i}] has {} values but the schema has {} keys",
                cells.len(),
                width
            )));
        }
        packed.clear();
        let mut bad: Option<String> = None;
        for &c in &order {
            let value = match &cells[c] {
                CellIn::Text(s) => s.as_ref(),
                CellIn::Null => "",
                CellIn::Other => {
                    return Err(GraphError::param(format!(
                        "payload.data[{i}] holds a non-string value"
                    )));
                }
            };
            if value.is_empty() {
                continue;
            }
            let key = keys[c];
            if is_clear(key) {
                let Ok(len) = u16::try_from(value.len()) else {
                    bad.get_or_insert_with(|| format!("{}: value too long", key_name(key)));
                    continue;
                };
                packed.push(key);
                packed.extend_from_slice(&len.to_le_bytes());
                packed.extend_from_slice(value.as_bytes());
            } else {
                match decode_hash(value) {
                    Some(digest) => {
                        packed.push(key);
                        packed.extend_from_slice(&32u16.to_le_bytes());
                        packed.extend_from_slice(&digest);
                    }
                    None => {
                        bad.get_or_insert_with(|| {
                            format!(
                                "{}: not a lowercase hex SHA-256 hash: {value}",
                                key_name(key)
                            )
                        });
                    }
                }
            }
        }
        match bad {
            Some(reason) => {
                parsed.invalid += 1;
                if parsed.samples.len() < 100 {
                    parsed.samples.insert(format!("row {i}"), json!(reason));
                }
            }
            None if packed.is_empty() => {
                parsed.invalid += 1;
                if parsed.samples.len() < 100 {
                    parsed
                        .samples
                        .insert(format!("row {i}"), json!("every key is empty"));
                }
            }
            None => parsed.valid.push(Box::from(&packed[..])),
        }
    }
    Ok(parsed)
}

/// `POST /<ca_id>/users` (add), `DELETE /<ca_id>/users` (remove), `POST /<ca_id>/usersreplace`.
pub fn users(state: &mut SandboxState, id: &str, params: &Params, op: Op) -> GraphResult {
    refresh(state, id);
    if let Some(data) = state.audiences.get_mut(id) {
        data.requests += 1;
    }
    let now = state.now();
    let session = parse_session(params)?;
    if op == Op::Replace && session.is_none() {
        return Err(GraphError::param("The parameter session is required"));
    }
    let parsed = params.take_payload()?;
    let generated = state.new_id().parse::<i64>().unwrap_or_default();
    let data = state.audiences.get_mut(id).expect("audience data");

    if let Some(existing) = data.data_source
        && existing != parsed.source
    {
        // The real answer's subcode is not documented: none is sent.
        return Err(GraphError::new(
            2650,
            format!(
                "(#2650) Failed to update the custom audience: This audience was created from data source FILE_IMPORTED.{existing}, which does not support updates with data source FILE_IMPORTED.{}",
                parsed.source
            ),
        ));
    }
    // Nothing but the replace's own batches while a replace runs.
    if let Some(running) = data.replace {
        let same = op == Op::Replace && session.as_ref().is_some_and(|s| s.id == running);
        if !same {
            return Err(update_failed(
                1870145,
                "A replace operation is in progress for this audience; wait for it to finish.",
            ));
        }
    }

    let sp = session.unwrap_or(SessionParams {
        id: generated,
        batch_seq: 1,
        last: true,
    });
    match data.sessions.get(&sp.id) {
        Some(s) if s.op != op => {
            return Err(GraphError::param(format!(
                "session_id {} is already used by a {} session",
                sp.id,
                s.op.label()
            )));
        }
        Some(s) if s.timed_out => {
            return Err(update_failed(
                1870158,
                &format!(
                    "Session {} timed out 90 minutes after its first batch; later batches are discarded.",
                    sp.id
                ),
            ));
        }
        Some(s) if s.finished => {
            return Err(update_failed(
                1870159,
                &format!(
                    "Session {} has already finished; start a new session.",
                    sp.id
                ),
            ));
        }
        Some(s) if now >= s.started + SESSION_WINDOW => {
            finish(data, sp.id, now);
            return Err(update_failed(
                1870158,
                &format!(
                    "Session {} timed out 90 minutes after its first batch; later batches are discarded.",
                    sp.id
                ),
            ));
        }
        Some(s) if sp.batch_seq != s.last_seq + 1 => {
            return Err(GraphError::param(format!(
                "session.batch_seq {} out of order: expected {}",
                sp.batch_seq,
                s.last_seq + 1
            )));
        }
        Some(s) if s.schema != parsed.schema => {
            return Err(GraphError::new(
                2650,
                "(#2650) Failed to update the custom audience: the schema must stay the same for every batch of a session.",
            ));
        }
        Some(_) => {}
        None if sp.batch_seq != 1 => {
            return Err(if op == Op::Replace {
                update_failed(
                    1870147,
                    "The first batch of a replace session (batch_seq 1) is missing.",
                )
            } else {
                GraphError::param(format!(
                    "session.batch_seq {} out of order: a new session starts at 1",
                    sp.batch_seq
                ))
            });
        }
        None => {
            data.sessions.insert(
                sp.id,
                Session {
                    op,
                    started: now,
                    last_seq: 0,
                    finished: false,
                    timed_out: false,
                    num_received: 0,
                    num_invalid: 0,
                    schema: parsed.schema.clone(),
                    staged: MemberSet::default(),
                },
            );
            if op == Op::Replace {
                data.replace = Some(sp.id);
            }
        }
    }

    data.data_source.get_or_insert(parsed.source);
    data.uploads += 1;
    data.updated = Some(now);
    data.last_invalid_pct = parsed.invalid * 100 / parsed.received.max(1);
    let session = data.sessions.get_mut(&sp.id).expect("session exists");
    session.last_seq = sp.batch_seq;
    session.num_received += parsed.received;
    session.num_invalid += parsed.invalid;
    let num_received = session.num_received;
    match op {
        Op::Add => data.members.extend(parsed.valid),
        Op::Remove => remove_matching(&mut data.members, &parsed.valid),
        Op::Replace => session.staged.extend(parsed.valid),
    }
    if sp.last {
        finish(data, sp.id, now);
    }
    refresh(state, id);
    Ok(json!({
        "audience_id": id,
        "session_id": sp.id,
        "num_received": num_received,
        "num_invalid_entries": parsed.invalid,
        "invalid_entry_samples": parsed.samples,
    }))
}

/// Ends a session; a replace session swaps the audience's members for what arrived.
fn finish(data: &mut AudienceData, sid: i64, _now: Timestamp) {
    let Some(session) = data.sessions.get_mut(&sid) else {
        return;
    };
    if session.finished {
        return;
    }
    session.finished = true;
    if session.op == Op::Replace {
        data.members = std::mem::take(&mut session.staged);
        if data.replace == Some(sid) {
            data.replace = None;
        }
    }
}

/// Removes every member sharing an identity key's value with one of `rows` (or equal to a row
/// without identity keys). One pass over the members per request, not one per row: removing
/// 10,000 people from a million-member audience stays fast.
fn remove_matching(members: &mut MemberSet, rows: &[Packed]) {
    let mut ids: HashSet<(u8, &[u8]), FastBuild> = HashSet::default();
    for row in rows {
        let mut any = false;
        for (k, v) in cells(row) {
            if is_identity(k) {
                ids.insert((k, v));
                any = true;
            }
        }
        if !any {
            members.retain_in(Some(MemberSet::group_of(row)), |m| m != &row[..]);
        }
    }
    if ids.is_empty() {
        return;
    }
    let shares_an_identity = |m: &[u8], last_key: u8| {
        cells(m)
            .take_while(|(k, _)| *k <= last_key)
            .any(|(k, v)| is_identity(k) && ids.contains(&(k, v)))
    };
    if ids.iter().all(|(k, _)| *k == EXTERN_ID) {
        // Only the named EXTERN_IDs' groups can hold a match.
        for (_, v) in &ids {
            let group = MemberSet::group_of_extern_id(v);
            members.retain_in(Some(group), |m| !shares_an_identity(m, EXTERN_ID));
        }
        return;
    }
    // Other keys: one pass over every member. Cells are in key order, so a member's cells
    // past the last key the removals name need no look-up.
    let last_key = ids.iter().map(|(k, _)| *k).max().unwrap_or(0);
    members.retain_in(None, |m| !shares_an_identity(m, last_key));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_classes_follow_the_key_lists() {
        assert_eq!(KEYS[EXTERN_ID as usize], "EXTERN_ID");
        for (i, name) in KEYS.iter().enumerate() {
            assert_eq!(is_clear(i as u8), CLEAR_KEYS.contains(name), "{name}");
            assert_eq!(is_identity(i as u8), IDENTITY_KEYS.contains(name), "{name}");
        }
        for k in MULTI_KEYS.iter().chain(&SINGLE_KEYS) {
            assert!(key_index(k).is_some(), "{k}");
        }
    }

    #[test]
    fn removals_take_every_row_sharing_an_identity_and_nothing_else() {
        let h = |s: &str| crate::facebook::hashing::sha256_hex(s);
        let rows = |schema: Value, data: Value| {
            parse_payload_str(&json!({"schema": schema, "data": data}).to_string())
                .unwrap()
                .valid
        };
        let mut members = MemberSet::default();
        // Two rows of "u1" (its keys changed), one of "u2", one without EXTERN_ID; a repeat.
        members.extend(rows(
            json!(["EXTERN_ID", "EMAIL"]),
            json!([
                ["u1", h("a@x.co")],
                ["u1", h("b@x.co")],
                ["u2", h("c@x.co")],
                ["u2", h("c@x.co")]
            ]),
        ));
        members.extend(rows(json!(["EMAIL"]), json!([[h("d@x.co")]])));
        assert_eq!(members.len(), 4, "the repeated row is stored once");

        // By EXTERN_ID alone: both rows of u1, through its group only.
        remove_matching(
            &mut members,
            &rows(json!(["EXTERN_ID"]), json!([["u1"], ["u9"]])),
        );
        assert_eq!(members.len(), 2);
        assert!(
            members
                .iter()
                .all(|m| unpack(m).get("EXTERN_ID") != Some(&"u1".into()))
        );

        // By e-mail: every group is looked at (u2's row and the row without EXTERN_ID).
        remove_matching(
            &mut members,
            &rows(json!(["EMAIL"]), json!([[h("c@x.co")], [h("d@x.co")]])),
        );
        assert_eq!(members.len(), 0);
        assert_eq!(members.iter().count(), 0);
    }

    #[test]
    fn rows_pack_the_same_whatever_the_schema_order_and_unpack_as_sent() {
        let h = crate::facebook::hashing::sha256_hex("a@b.co");
        let one = parse_payload_str(
            &json!({"schema": ["EMAIL", "EXTERN_ID"], "data": [[h, "u1"]]}).to_string(),
        )
        .unwrap();
        let two = parse_payload_str(
            &json!({"schema": ["EXTERN_ID", "EMAIL"], "data": [["u1", h]]}).to_string(),
        )
        .unwrap();
        assert_eq!(one.valid, two.valid);
        let row = unpack(&one.valid[0]);
        assert_eq!(row["EMAIL"], h);
        assert_eq!(row["EXTERN_ID"], "u1");
    }
}
