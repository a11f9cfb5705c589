//! Campaign labels: short names (with an optional colour) used to group and filter campaigns.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The longest label name, in characters, after trimming.
pub const MAX_LABEL_NAME: usize = 40;

/// A label as the server returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Label {
    pub id: i64,
    pub name: String,
    /// A CSS hex colour such as `#1a7f37`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// Body of a request that creates or renames a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelInput {
    /// 1 to [`MAX_LABEL_NAME`] characters after trimming.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([\s\S]{0,38}[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub name: String,
    /// A CSS hex colour such as `#1a7f37`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^#[0-9A-Fa-f]{6}$"))]
    pub color: Option<String>,
}

/// The key two label names are compared by: trimmed, inner whitespace collapsed, lower-cased.
/// "Black Friday" and " black  friday " are the same label.
pub fn label_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `name` is already used by a label in `existing` other than `except_id` (the label
/// being renamed), ignoring case and surrounding whitespace.
pub fn is_duplicate_name(existing: &[Label], name: &str, except_id: Option<i64>) -> bool {
    let key = label_key(name);
    existing
        .iter()
        .any(|l| Some(l.id) != except_id && label_key(&l.name) == key)
}

/// Every problem with a label, paths `name` and `color`. Uniqueness needs the stored labels; use
/// [`is_duplicate_name`] for it.
pub fn validate_label(input: &LabelInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Give the label a name."));
    } else if name.chars().count() > MAX_LABEL_NAME {
        errors.push(FieldError::new(
            "name",
            format!("Keep the label name to {MAX_LABEL_NAME} characters or fewer."),
        ));
    }
    if let Some(color) = &input.color
        && !is_hex_color(color)
    {
        errors.push(FieldError::new(
            "color",
            "Choose a colour such as #1a7f37 (a # and six hexadecimal digits).",
        ));
    }
    errors
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(id: i64, name: &str) -> Label {
        Label {
            id,
            name: name.into(),
            color: None,
        }
    }

    #[test]
    fn names_are_1_to_40_characters_after_trimming() {
        let input = |name: &str| LabelInput {
            name: name.into(),
            color: None,
        };
        assert_eq!(
            validate_label(&input("   ")),
            vec![FieldError::new("name", "Give the label a name.")]
        );
        assert!(validate_label(&input(&format!("  {}  ", "é".repeat(40)))).is_empty());
        assert_eq!(validate_label(&input(&"a".repeat(41))).len(), 1);
    }

    #[test]
    fn colours_are_hex() {
        let input = |c: &str| LabelInput {
            name: "Promo".into(),
            color: Some(c.into()),
        };
        assert!(validate_label(&input("#1A7f37")).is_empty());
        for bad in ["1a7f37", "#1a7f3", "#1a7f3g", "red"] {
            assert_eq!(validate_label(&input(bad))[0].path, "color", "{bad}");
        }
    }

    #[test]
    fn uniqueness_ignores_case_and_whitespace_but_not_the_label_itself() {
        let labels = [label(1, "Black Friday"), label(2, "Retention")];
        assert!(is_duplicate_name(&labels, "  black   FRIDAY ", None));
        assert!(!is_duplicate_name(&labels, "Black Friday", Some(1)));
        assert!(is_duplicate_name(&labels, "retention", Some(1)));
        assert!(!is_duplicate_name(&labels, "Cyber Monday", None));
    }

    #[test]
    fn json_round_trip() {
        let l = Label {
            id: 3,
            name: "Promo".into(),
            color: Some("#ff0000".into()),
        };
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":3,"name":"Promo","color":"#ff0000"})
        );
        assert_eq!(serde_json::from_value::<Label>(json).unwrap(), l);
        let i: LabelInput = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(i.color, None);
    }
}
