//! Finding one person, seeing what is known about them, and asking why they are (or are not)
//! in an audience: the DTOs of `GET /api/profiles?q=`, `GET /api/profiles/{identity}` (with
//! its events, a page at a time) and `GET /api/profiles/{identity}/explain`, and the answer of
//! `DELETE /api/profiles/{identity}`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{
    error::FieldError,
    segment::eval::{Value, explain::Explanation},
};

/// Most profiles a search lists.
pub const SEARCH_LIMIT: usize = 20;

/// A profile found by a search: its identity and masked contact keys (enough to recognise the
/// person, not to copy their address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileSummary {
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub updated_at: Timestamp,
}

/// `GET /api/profiles/{identity}/explain`: the segment of a campaign or a saved segment,
/// explained for one person at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipExplanation {
    pub identity: String,
    /// What was explained: `campaign “Name”` or `saved segment “Name”`.
    pub subject: String,
    pub at: Timestamp,
    pub time_zone: String,
    /// The person's membership: the root's verdict.
    pub member: bool,
    pub explanation: Explanation,
}

/// Events per page of a profile's timeline.
pub const EVENTS_PAGE: u32 = 20;

/// A profile property or an event property as the profile page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyView {
    pub key: String,
    /// The value's type: `text`, `number`, `boolean`, `date` or `list`.
    pub kind: String,
    /// The value in words (a date as RFC 3339, a list joined by commas); masked for the
    /// properties that hold a contact key ([`is_contact_property`]).
    pub value: String,
}

/// A Facebook match key the profile has, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchKeyView {
    /// Facebook's name for it: `EMAIL`, `PHONE`, `FN`, `LN`, `GEN`, `DOB`, `CT`, `ST`, `ZIP`,
    /// `COUNTRY` or `MADID`.
    pub key: String,
    pub masked: String,
}

/// One event of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub name: String,
    pub at: Timestamp,
    pub properties: Vec<PropertyView>,
}

/// A page of a person's events, newest first (`GET /api/profiles/{identity}/events?offset=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    pub events: Vec<TimelineEvent>,
    /// All of the person's events.
    pub total: u64,
    /// Where the next page starts; none on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// A saved segment the person is in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentRef {
    pub id: i64,
    pub name: String,
}

/// A campaign whose Facebook audience holds the person, per its last confirmed sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignRef {
    pub id: i64,
    pub name: String,
    /// The campaign's status in words (`Awaiting next run`).
    pub status: String,
    /// When the sync that confirmed the membership ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
}

/// `GET /api/profiles/{identity}`: what the product knows about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileDetail {
    pub identity: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// By key.
    pub properties: Vec<PropertyView>,
    pub match_keys: Vec<MatchKeyView>,
    /// The newest events (the first page).
    pub events: EventPage,
    /// The saved segments the person is in now (evaluated in UTC, as the Segments page does).
    pub segments: Vec<SegmentRef>,
    /// The campaigns whose audience holds the person, per each campaign's last confirmed sync.
    pub campaigns: Vec<CampaignRef>,
}

/// `DELETE /api/profiles/{identity}`: what was erased. No personal data: counts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasedProfile {
    pub properties: u64,
    pub events: u64,
    pub match_keys: u64,
    /// Campaign audiences the person is being removed from (a removal queued for each).
    pub audiences: u64,
}

/// Most identities one `POST /api/v1/delete/profiles` erases.
pub const MAX_DELETE: usize = 100;

/// `POST /api/v1/delete/profiles`, CleverTap's delete-profiles body: `{"identity": "u1"}` or
/// `{"identity": ["u1", 42, …]}` (texts or whole numbers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteProfilesRequest {
    /// A text, a whole number, or a list of 1–100 of them: any JSON value, checked by
    /// [`deletion_identities`] (a 422 naming `identity` otherwise).
    #[serde(default)]
    pub identity: Option<serde_json::Value>,
    /// CleverTap's device ids: this server has none, so naming them is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<serde_json::Value>,
}

/// The identities to erase, as the upload API stores them (a number as its digits); every
/// error names the field (`identity`, `identity[3]`, `guid`).
pub fn deletion_identities(req: &DeleteProfilesRequest) -> Result<Vec<String>, FieldError> {
    use serde_json::Value as J;
    if req.guid.is_some() {
        return Err(FieldError::new(
            "guid",
            "This server keeps no CleverTap device ids; name the profiles by identity.",
        ));
    }
    let one = |path: String, v: &J| -> Result<String, FieldError> {
        let id = match v {
            J::String(s) => s.trim().to_owned(),
            J::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => {
                return Err(FieldError::new(
                    path,
                    "An identity is a text or a whole number.",
                ));
            }
        };
        if id.is_empty() || id.chars().count() > 120 {
            return Err(FieldError::new(
                path,
                "An identity is 1–120 characters long.",
            ));
        }
        Ok(id)
    };
    match &req.identity {
        None | Some(J::Null) => Err(FieldError::new(
            "identity",
            "Name the profiles to delete: {\"identity\": \"…\"} or {\"identity\": [\"…\", …]}.",
        )),
        Some(J::Array(items)) => {
            if items.is_empty() || items.len() > MAX_DELETE {
                return Err(FieldError::new(
                    "identity",
                    format!("Name 1–{MAX_DELETE} identities per request."),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| one(format!("identity[{i}]"), v))
                .collect()
        }
        Some(v) => Ok(vec![one("identity".to_owned(), v)?]),
    }
}

/// The profile properties whose values are contact keys (e-mail, phone, advertiser id): masked
/// on the profile page like the match keys they become.
pub fn is_contact_property(key: &str) -> bool {
    matches!(key, "Email" | "Phone" | "MADID" | "Advertiser ID")
}

/// A typed value as the profile page shows it: (its type, the value in words).
pub fn describe_value(value: &Value) -> (&'static str, String) {
    match value {
        Value::Text(t) => ("text", t.clone()),
        Value::Number(n) => ("number", format_number(*n)),
        Value::Boolean(b) => ("boolean", b.to_string()),
        Value::Date(t) => ("date", t.to_string()),
        Value::List(items) => ("list", items.join(", ")),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A property for the profile page, its value masked when it is a contact key.
pub fn property_view(key: &str, value: &Value) -> PropertyView {
    let (kind, text) = describe_value(value);
    let value = match key {
        "Email" => mask_email(&text),
        "Phone" => mask_phone(&text),
        _ if is_contact_property(key) => mask_text(&text),
        _ => text,
    };
    PropertyView {
        key: key.to_owned(),
        kind: kind.to_owned(),
        value,
    }
}

/// A stored (normalised) match key, masked: e-mail and phone as in search results, the others
/// down to their first character.
pub fn match_key_view(key: &str, value: &str) -> MatchKeyView {
    let masked = match key {
        "EMAIL" => mask_email(value),
        "PHONE" => mask_phone(value),
        _ => mask_text(value),
    };
    MatchKeyView {
        key: key.to_owned(),
        masked,
    }
}

/// `pune` → `p•••`.
pub fn mask_text(value: &str) -> String {
    let first: String = value.chars().take(1).collect();
    format!("{first}•••")
}

/// Longest search text.
pub const MAX_QUERY_LEN: usize = 320;

/// The search text `q`, trimmed: an identity, an e-mail address or a phone number.
pub fn search_text(q: Option<&str>) -> Result<&str, FieldError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(FieldError::new(
            "q",
            "Type an identity, an e-mail address or a phone number to search for.",
        ));
    }
    if q.len() > MAX_QUERY_LEN {
        return Err(FieldError::new(
            "q",
            format!("The search is at most {MAX_QUERY_LEN} characters long."),
        ));
    }
    Ok(q)
}

/// What to explain: a campaign's audience or a saved segment, at an instant (now when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainSubject {
    Campaign(i64),
    SavedSegment(i64),
}

/// Reads `?campaign=ID` or `?segment=ID` (exactly one) and `?at=` (RFC 3339).
pub fn explain_query(
    campaign: Option<&str>,
    segment: Option<&str>,
    at: Option<&str>,
) -> Result<(ExplainSubject, Option<Timestamp>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let id = |field: &str, raw: &str, errors: &mut Vec<FieldError>| match raw.trim().parse::<i64>()
    {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.push(FieldError::new(field, format!("{raw:?} is not an id.")));
            None
        }
    };
    let subject = match (campaign, segment) {
        (Some(c), None) => id("campaign", c, &mut errors).map(ExplainSubject::Campaign),
        (None, Some(s)) => id("segment", s, &mut errors).map(ExplainSubject::SavedSegment),
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "segment",
                "Give either a campaign or a saved segment, not both.",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "campaign",
                "Say which campaign (campaign=ID) or saved segment (segment=ID) to explain.",
            ));
            None
        }
    };
    let at = match at.map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError::new(
                    "at",
                    "Give the instant as RFC 3339, e.g. 2026-12-07T09:30:00Z.",
                ));
                None
            }
        },
    };
    match subject {
        Some(subject) if errors.is_empty() => Ok((subject, at)),
        _ => Err(errors),
    }
}

/// Reads `?tz=`, the viewer's IANA time zone that an explanation words its instants in (the
/// browser sends its own); UTC when absent. A name that is not a zone is an error naming `tz`.
#[cfg(feature = "bundled-tz")]
pub fn viewer_zone(tz: Option<&str>) -> Result<jiff::tz::TimeZone, FieldError> {
    match tz.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(jiff::tz::TimeZone::UTC),
        Some(name) => {
            crate::schedule::time_zone(name).map_err(|e| FieldError::new("tz", e.message))
        }
    }
}

/// `jane.doe@example.com` → `j•••@example.com`: recognisable, not copyable.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_owned(),
    }
}

/// `+14155551234` → `+1•••••••234`: the country code and the last three digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 5 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_queries_name_the_wrong_field() {
        assert_eq!(
            explain_query(Some("4"), None, None),
            Ok((ExplainSubject::Campaign(4), None))
        );
        assert_eq!(
            explain_query(None, Some("9"), Some("2026-12-07T09:30:00Z")),
            Ok((
                ExplainSubject::SavedSegment(9),
                Some("2026-12-07T09:30:00Z".parse().unwrap())
            ))
        );
        let paths = |r: Result<_, Vec<FieldError>>| {
            r.unwrap_err()
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(explain_query(None, None, None)), ["campaign"]);
        assert_eq!(viewer_zone(None).unwrap(), jiff::tz::TimeZone::UTC);
        assert_eq!(
            viewer_zone(Some("Asia/Kolkata")).unwrap().iana_name(),
            Some("Asia/Kolkata")
        );
        for bad in ["Mars/Olympus", "asia/kolkata"] {
            assert_eq!(viewer_zone(Some(bad)).unwrap_err().path, "tz", "{bad}");
        }
        assert_eq!(
            paths(explain_query(Some("x"), None, Some("today"))),
            ["campaign", "at"]
        );
        assert_eq!(
            paths(explain_query(Some("1"), Some("2"), None)),
            ["segment"]
        );
        assert_eq!(search_text(Some("  ")).unwrap_err().path, "q");
        assert_eq!(search_text(Some(" u1 ")), Ok("u1"));
    }

    #[test]
    fn the_profile_page_masks_contact_properties_and_keys_only() {
        let email = property_view("Email", &Value::Text("jane@example.com".into()));
        assert_eq!(
            (email.kind.as_str(), email.value.as_str()),
            ("text", "j•••@example.com")
        );
        assert_eq!(
            property_view("City", &Value::Text("Pune".into())).value,
            "Pune"
        );
        assert_eq!(property_view("Age", &Value::Number(31.0)).value, "31");
        assert_eq!(property_view("Score", &Value::Number(2.5)).value, "2.5");
        let list = property_view("Tags", &Value::List(vec!["a".into(), "b".into()]));
        assert_eq!((list.kind.as_str(), list.value.as_str()), ("list", "a, b"));
        assert_eq!(
            property_view("MADID", &Value::Text("abcd".into())).value,
            "a•••"
        );
        assert_eq!(match_key_view("CT", "pune").masked, "p•••");
        assert_eq!(
            match_key_view("PHONE", "+14155551234").masked,
            "+1•••••••234"
        );
    }

    #[test]
    fn deletions_name_profiles_by_identity_one_or_many() {
        let req =
            |v: serde_json::Value| serde_json::from_value::<DeleteProfilesRequest>(v).unwrap();
        assert_eq!(
            deletion_identities(&req(serde_json::json!({"identity": " u1 "}))),
            Ok(vec!["u1".to_owned()])
        );
        assert_eq!(
            deletion_identities(&req(serde_json::json!({"identity": ["a", 42]}))),
            Ok(vec!["a".to_owned(), "42".to_owned()])
        );
        let path = |v| deletion_identities(&req(v)).unwrap_err().path;
        assert_eq!(path(serde_json::json!({})), "identity");
        assert_eq!(
            path(serde_json::json!({"identity": ["a", {"x": 1}]})),
            "identity[1]"
        );
        assert_eq!(path(serde_json::json!({"identity": []})), "identity");
        assert_eq!(path(serde_json::json!({"guid": "g"})), "guid");
    }

    #[test]
    fn contact_keys_are_masked_but_recognisable() {
        assert_eq!(mask_email("jane.doe@example.com"), "j•••@example.com");
        assert_eq!(mask_email("nonsense"), "•••");
        assert_eq!(mask_phone("+14155551234"), "+1•••••••234");
        assert_eq!(mask_phone("+123"), "••••");
    }
}
