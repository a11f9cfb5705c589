//! Ads consent: an optional workspace setting naming a boolean profile property (for example
//! `ads_consent`). While it is set, every sync sends only the people whose property is `true`;
//! anyone else in a segment is held back (never added, and removed if Facebook holds them), so a
//! person who withdraws consent leaves every audience at the next run. The rules of the setting
//! live here, for the Settings page and the server alike.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Longest property name: the upload API's limit for a property key.
pub const MAX_PROPERTY_LEN: usize = 120;

/// `PUT /api/settings/consent`: the property to filter on, or none (empty or absent) to turn
/// the filter off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentInput {
    #[serde(default)]
    pub property: Option<String>,
}

/// `GET /api/settings/consent`: the setting and what it does to the data as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentSettings {
    /// The boolean profile property; none when consent filtering is off.
    #[serde(default)]
    pub property: Option<String>,
    /// Profiles whose property is `true` (the only ones a sync sends while the filter is on).
    pub consenting: u64,
    pub profiles: u64,
}

/// The property named by `input`, trimmed; `None` turns consent filtering off. The error
/// names the field `property`.
pub fn validate_consent_input(input: &ConsentInput) -> Result<Option<String>, FieldError> {
    let Some(name) = input.property.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if name.is_empty() {
        return Ok(None);
    }
    if name.len() > MAX_PROPERTY_LEN {
        return Err(FieldError::new(
            "property",
            format!("A property name is at most {MAX_PROPERTY_LEN} bytes long."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "property",
            "A property name cannot contain line breaks or other control characters.",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// Refuses a property whose registered type (the type it had when first seen, if it has been
/// seen) is not boolean: no value of it could ever be `true`, so every sync would send nobody.
pub fn consent_kind_problem(property: &str, registered: Option<&str>) -> Option<FieldError> {
    match registered {
        None | Some("boolean") => None,
        Some(kind) => Some(FieldError::new(
            "property",
            format!(
                "\u{201c}{property}\u{201d} holds {kind} values; consent must be a boolean profile property (true or false)."
            ),
        )),
    }
}

/// The run history's line for a run that filtered on consent.
pub fn held_back_note(held_back: i64) -> String {
    match held_back {
        0 => "Ads consent filtering on: nobody held back.".to_owned(),
        1 => "Ads consent filtering on: 1 person without consent held back.".to_owned(),
        n => format!("Ads consent filtering on: {n} people without consent held back."),
    }
}

/// What a campaign's Overview says about consent filtering: `None` when it is off; otherwise
/// that it is on, how many profiles consent now and, once the campaign has run, how many people
/// its last run held back.
pub fn overview_line(settings: &ConsentSettings, last_held_back: Option<i64>) -> Option<String> {
    let property = settings.property.as_deref()?;
    let mut line = format!(
        "Ads consent filtering is on: only people whose \u{201c}{property}\u{201d} is true are sent to Facebook ({} of {} profiles now).",
        settings.consenting, settings.profiles
    );
    if let Some(n) = last_held_back {
        line.push(' ');
        line.push_str(&match n {
            1 => "The last run held back 1 person.".to_owned(),
            n => format!("The last run held back {n} people."),
        });
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(p: Option<&str>) -> ConsentInput {
        ConsentInput {
            property: p.map(str::to_owned),
        }
    }

    #[test]
    fn the_property_is_trimmed_and_an_empty_one_turns_the_filter_off() {
        assert_eq!(
            validate_consent_input(&input(Some(" ads_consent "))),
            Ok(Some("ads_consent".into()))
        );
        assert_eq!(validate_consent_input(&input(Some("  "))), Ok(None));
        assert_eq!(validate_consent_input(&input(None)), Ok(None));
        let long = "x".repeat(MAX_PROPERTY_LEN + 1);
        assert_eq!(
            validate_consent_input(&input(Some(&long)))
                .unwrap_err()
                .path,
            "property"
        );
        assert!(validate_consent_input(&input(Some("a\nb"))).is_err());
    }

    #[test]
    fn only_a_boolean_or_unseen_property_can_hold_consent() {
        assert!(consent_kind_problem("ads_consent", None).is_none());
        assert!(consent_kind_problem("ads_consent", Some("boolean")).is_none());
        let e = consent_kind_problem("City", Some("text")).unwrap();
        assert_eq!(e.path, "property");
        assert!(e.message.contains("text"), "{}", e.message);
        let on = ConsentSettings {
            property: Some("ads_consent".into()),
            consenting: 3,
            profiles: 5,
        };
        assert_eq!(overview_line(&ConsentSettings::default(), Some(4)), None);
        assert_eq!(
            overview_line(&on, Some(2)).unwrap(),
            "Ads consent filtering is on: only people whose \u{201c}ads_consent\u{201d} is true are sent to Facebook (3 of 5 profiles now). The last run held back 2 people."
        );
        assert_eq!(
            held_back_note(2),
            "Ads consent filtering on: 2 people without consent held back."
        );
    }
}
