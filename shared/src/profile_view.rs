//! Finding one person and asking why they are (or are not) in an audience: the DTOs of
//! `GET /api/profiles?q=` and `GET /api/profiles/{identity}/explain`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{error::FieldError, segment::eval::explain::Explanation};

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
    fn contact_keys_are_masked_but_recognisable() {
        assert_eq!(mask_email("jane.doe@example.com"), "j•••@example.com");
        assert_eq!(mask_email("nonsense"), "•••");
        assert_eq!(mask_phone("+14155551234"), "+1•••••••234");
        assert_eq!(mask_phone("+123"), "••••");
    }
}
