//! Saved (predefined) segments: a segment definition kept under a name, reused by campaigns and
//! inside other segments (`{"kind":"saved_segment","segment_id":…,"mode":"include"|"exclude"}`).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::segment::{Segment, validate_segment};

/// The longest saved-segment name, in characters, after trimming.
pub const MAX_SAVED_SEGMENT_NAME: usize = 120;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 1000;
/// The most conditions one evaluation of a segment may take: its own, plus those of every saved
/// segment it uses, directly or through other saved segments, each saved segment counted once
/// (it is evaluated once, however many rules refer to it). Four segments of the most conditions
/// one segment may have ([`crate::segment::MAX_CONDITIONS`]).
pub const MAX_EXPANDED_CONDITIONS: usize = 4 * crate::segment::MAX_CONDITIONS;

/// A saved segment as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedSegment {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub definition: Segment,
    /// The reach when last computed (at save time, or by the last estimate of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_computed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Body of a request that creates or replaces a saved segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedSegmentInput {
    /// 1 to [`MAX_SAVED_SEGMENT_NAME`] characters after trimming.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([\s\S]{0,118}[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub name: String,
    /// At most [`MAX_DESCRIPTION`] characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: String,
    pub definition: Segment,
}

/// Every problem with `input` that needs no other segment: paths `name`, `description`,
/// `definition…`. References to other saved segments are checked by [`validate_references`].
pub fn validate_saved_segment(input: &SavedSegmentInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Give the segment a name."));
    } else if name.chars().count() > MAX_SAVED_SEGMENT_NAME {
        errors.push(FieldError::new(
            "name",
            format!("Keep the name to {MAX_SAVED_SEGMENT_NAME} characters or fewer."),
        ));
    }
    if input.description.chars().count() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            format!("Keep the description to {MAX_DESCRIPTION} characters or fewer."),
        ));
    }
    errors.extend(validate_segment(&input.definition, "definition"));
    errors
}

/// The saved segments a definition refers to directly, with the path of each rule's
/// `segment_id` (under `prefix`).
pub fn saved_segment_refs(segment: &Segment, prefix: &str) -> Vec<(i64, String)> {
    fn walk(segment: &Segment, path: &str, out: &mut Vec<(i64, String)>) {
        match segment {
            Segment::Group(g) => {
                for (i, rule) in g.rules.iter().enumerate() {
                    walk(rule, &format!("{path}.rules[{i}]"), out);
                }
            }
            Segment::SavedSegment(rule) => {
                out.push((rule.segment_id, format!("{path}.segment_id")))
            }
            Segment::Event(_) | Segment::UserProperty(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(segment, prefix, &mut out);
    out
}

/// Checks the saved segments that `definition` (saved as segment `own_id`, `None` when new)
/// refers to: each must exist, none may lead back to `own_id`, directly or through other saved
/// segments — a segment that contains itself has no meaning — and together they may not take
/// more than [`MAX_EXPANDED_CONDITIONS`] (the error is on the rule that goes over). `lookup`
/// returns a stored segment's definition. Paths are relative to `prefix` (`definition` or
/// `audience`).
pub fn validate_references(
    own_id: Option<i64>,
    definition: &Segment,
    prefix: &str,
    lookup: &dyn Fn(i64) -> Option<Segment>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (id, path) in saved_segment_refs(definition, prefix) {
        if id <= 0 {
            // `validate_segment` already says "Choose a saved segment."
            continue;
        }
        if Some(id) == own_id {
            errors.push(FieldError::new(path, "A segment cannot include itself."));
            continue;
        }
        let Some(target) = lookup(id) else {
            errors.push(FieldError::new(
                path,
                format!("There is no saved segment {id}; it may have been deleted."),
            ));
            continue;
        };
        if let Some(own) = own_id
            && reaches(&target, own, lookup)
        {
            errors.push(FieldError::new(
                path,
                format!(
                    "Saved segment {id} uses this segment, so using it here would make a loop."
                ),
            ));
        }
    }
    if errors.is_empty() {
        errors.extend(expansion_error(definition, prefix, lookup));
    }
    errors
}

/// The conditions one evaluation of `segment` takes: its own and those of every saved segment
/// it uses, directly or not, each counted once (see [`MAX_EXPANDED_CONDITIONS`]). Unknown ids
/// count nothing; a loop is followed once.
pub fn expanded_conditions(segment: &Segment, lookup: &dyn Fn(i64) -> Option<Segment>) -> usize {
    let mut seen = BTreeSet::new();
    segment.condition_count() + used_conditions(segment, lookup, &mut seen)
}

/// The conditions of the saved segments `segment` uses that are not in `seen` yet (added to it).
fn used_conditions(
    segment: &Segment,
    lookup: &dyn Fn(i64) -> Option<Segment>,
    seen: &mut BTreeSet<i64>,
) -> usize {
    let mut total = 0;
    let mut todo: Vec<i64> = saved_segment_refs(segment, "")
        .into_iter()
        .map(|r| r.0)
        .collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(next) = lookup(id) {
            total += next.condition_count();
            todo.extend(saved_segment_refs(&next, "").into_iter().map(|r| r.0));
        }
    }
    total
}

/// The error on the first saved-segment rule of `definition` that takes it over
/// [`MAX_EXPANDED_CONDITIONS`], if any.
fn expansion_error(
    definition: &Segment,
    prefix: &str,
    lookup: &dyn Fn(i64) -> Option<Segment>,
) -> Option<FieldError> {
    let mut seen = BTreeSet::new();
    let mut total = definition.condition_count();
    for (id, path) in saved_segment_refs(definition, prefix) {
        if !seen.contains(&id) {
            let mut one = Segment::empty();
            if let Segment::Group(g) = &mut one {
                g.rules
                    .push(Segment::SavedSegment(crate::segment::SavedSegmentRule {
                        segment_id: id,
                        mode: crate::segment::SavedSegmentMode::Include,
                    }));
            }
            total += used_conditions(&one, lookup, &mut seen);
        }
        if total > MAX_EXPANDED_CONDITIONS {
            let all = expanded_conditions(definition, lookup);
            return Some(FieldError::new(
                path,
                format!(
                    "With saved segment {id} and the saved segments it uses, this segment would \
                     take {all} conditions to evaluate; at most {MAX_EXPANDED_CONDITIONS} are \
                     allowed (each saved segment counts once)."
                ),
            ));
        }
    }
    None
}

/// The saved segments among `stored` that use segment `own_id` (directly or not) and, with
/// `definition` as its new definition, would take more than [`MAX_EXPANDED_CONDITIONS`]: one
/// error on `prefix` naming each. Changing a segment must not push the segments built on it
/// over the limit.
pub fn validate_users_of(
    own_id: i64,
    definition: &Segment,
    prefix: &str,
    stored: &[i64],
    lookup: &dyn Fn(i64) -> Option<Segment>,
) -> Vec<FieldError> {
    let changed = |id: i64| {
        if id == own_id {
            Some(definition.clone())
        } else {
            lookup(id)
        }
    };
    let mut errors = Vec::new();
    for &user in stored {
        if user == own_id {
            continue;
        }
        let Some(segment) = lookup(user) else {
            continue;
        };
        if !reaches(&segment, own_id, &changed) {
            continue;
        }
        let n = expanded_conditions(&segment, &changed);
        if n > MAX_EXPANDED_CONDITIONS {
            errors.push(FieldError::new(
                prefix,
                format!(
                    "Saved segment {user} uses this segment and would then take {n} conditions \
                     to evaluate; at most {MAX_EXPANDED_CONDITIONS} are allowed."
                ),
            ));
        }
    }
    errors
}

/// Whether `segment`, through its saved-segment rules, refers to `target`.
fn reaches(segment: &Segment, target: i64, lookup: &dyn Fn(i64) -> Option<Segment>) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<i64> = saved_segment_refs(segment, "")
        .into_iter()
        .map(|r| r.0)
        .collect();
    while let Some(id) = todo.pop() {
        if id == target {
            return true;
        }
        if !seen.insert(id) {
            continue;
        }
        if let Some(next) = lookup(id) {
            todo.extend(saved_segment_refs(&next, "").into_iter().map(|r| r.0));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::segment::{Combine, Group, SavedSegmentMode, SavedSegmentRule};

    fn uses(ids: &[i64]) -> Segment {
        Segment::Group(Group {
            combine: Combine::AllOf,
            rules: ids
                .iter()
                .map(|&segment_id| {
                    Segment::SavedSegment(SavedSegmentRule {
                        segment_id,
                        mode: SavedSegmentMode::Include,
                    })
                })
                .collect(),
        })
    }

    fn check(stored: &HashMap<i64, Segment>, own: Option<i64>, def: &Segment) -> Vec<FieldError> {
        validate_references(own, def, "definition", &|id| stored.get(&id).cloned())
    }

    #[test]
    fn a_segment_cannot_include_itself() {
        let errors = check(&HashMap::new(), Some(1), &uses(&[1]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "definition.rules[0].segment_id");
    }

    #[test]
    fn a_loop_through_other_segments_is_refused_at_the_rule_that_closes_it() {
        // 1 uses 2, 2 uses 3; making 3 use 1 closes the loop.
        let stored = HashMap::from([(1, uses(&[2])), (2, uses(&[3])), (3, uses(&[]))]);
        let errors = check(&stored, Some(3), &uses(&[4, 1]));
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "definition.rules[0].segment_id",
                "definition.rules[1].segment_id"
            ],
            "{errors:?}"
        );
        assert!(errors[1].message.contains("loop"), "{errors:?}");
        assert!(
            errors[0].message.contains("no saved segment 4"),
            "{errors:?}"
        );
    }

    #[test]
    fn shared_references_without_a_loop_are_fine() {
        // A diamond: 4 uses 2 and 3, both use 1.
        let stored = HashMap::from([(1, uses(&[])), (2, uses(&[1])), (3, uses(&[1]))]);
        assert_eq!(check(&stored, Some(4), &uses(&[2, 3])), vec![]);
        assert_eq!(check(&stored, None, &uses(&[2, 3, 1])), vec![]);
    }

    /// A group of `n` property conditions.
    fn conditions(n: usize) -> Segment {
        let rule: Segment = serde_json::from_value(serde_json::json!({
            "kind": "user_property", "property": "City",
            "condition": {"type": "text", "op": "exists"}
        }))
        .unwrap();
        Segment::Group(Group {
            combine: Combine::AnyOf,
            rules: vec![rule; n],
        })
    }

    #[test]
    fn a_saved_segment_used_many_times_counts_once() {
        // S1 has 5 conditions; S2..S5 each use the previous one 20 times: inlined, S5 would be
        // 20⁴ × 5 conditions; evaluated once each, 4 × 20 + 5.
        let mut stored = HashMap::from([(1, conditions(5))]);
        for id in 2..=5 {
            stored.insert(id, uses(&[id - 1; 20]));
        }
        let lookup = |id: i64| stored.get(&id).cloned();
        assert_eq!(expanded_conditions(&stored[&5], &lookup), 85);
        assert_eq!(check(&stored, None, &uses(&[5, 4, 3])), vec![]);
    }

    #[test]
    fn too_many_conditions_in_all_is_refused_at_the_rule_that_goes_over() {
        // The rules themselves (5) and four distinct segments of 50 conditions (1 counted once).
        let stored: HashMap<i64, Segment> = (1..=4).map(|id| (id, conditions(50))).collect();
        let errors = check(&stored, None, &uses(&[1, 2, 1, 3, 4]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "definition.rules[4].segment_id");
        assert!(errors[0].message.contains("saved segment 4"), "{errors:?}");
        assert!(errors[0].message.contains("205 conditions"), "{errors:?}");
        assert_eq!(check(&stored, None, &uses(&[1, 2, 3])), vec![]);
    }

    #[test]
    fn growing_a_segment_may_not_push_its_users_over_the_limit() {
        // 3 uses 2 uses 1; 3 also uses 4 (50 conditions).
        let stored = HashMap::from([
            (1, conditions(10)),
            (2, uses(&[1])),
            (3, uses(&[2, 4])),
            (4, conditions(50)),
            (5, conditions(1)),
        ]);
        let ids: Vec<i64> = stored.keys().copied().collect();
        let lookup = |id: i64| stored.get(&id).cloned();
        assert_eq!(
            validate_users_of(1, &conditions(50), "definition", &ids, &lookup),
            vec![]
        );
        // 1 growing to 49 conditions using two more segments of 50: 3 would take 202.
        let mut bigger = HashMap::from([(6, conditions(50)), (7, conditions(50))]);
        bigger.extend(stored.clone());
        let ids: Vec<i64> = bigger.keys().copied().collect();
        let lookup = |id: i64| bigger.get(&id).cloned();
        let grown = Segment::Group(Group {
            combine: Combine::AllOf,
            rules: vec![conditions(47), uses(&[6, 7])],
        });
        let errors = validate_users_of(1, &grown, "definition", &ids, &lookup);
        let named: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 1, "{named:?}");
        assert!(named[0].starts_with("Saved segment 3 uses"), "{named:?}");
    }

    #[test]
    fn names_are_required_and_bounded() {
        let input = SavedSegmentInput {
            name: "  ".into(),
            description: "x".repeat(MAX_DESCRIPTION + 1),
            definition: uses(&[1]),
        };
        let paths: Vec<String> = validate_saved_segment(&input)
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["name", "description"]);
    }
}
