//! Addressing a rule inside the segment tree by the indices of the groups leading to it, so
//! each editor row reads and writes its own rule in the one draft signal.

use shared::segment::Segment;

/// The rule at `path` (indices into nested groups' rules); the root for an empty path.
pub fn node_at<'a>(seg: &'a Segment, path: &[usize]) -> Option<&'a Segment> {
    match path.split_first() {
        None => Some(seg),
        Some((i, rest)) => match seg {
            Segment::Group(g) => g.rules.get(*i).and_then(|r| node_at(r, rest)),
            _ => None,
        },
    }
}

/// The rule at `path`, mutably.
pub fn node_at_mut<'a>(seg: &'a mut Segment, path: &[usize]) -> Option<&'a mut Segment> {
    match path.split_first() {
        None => Some(seg),
        Some((i, rest)) => match seg {
            Segment::Group(g) => g.rules.get_mut(*i).and_then(|r| node_at_mut(r, rest)),
            _ => None,
        },
    }
}

/// The field path of the rule at `path`, as validation reports it: `audience.rules[0].rules[2]`.
pub fn field_path(path: &[usize]) -> String {
    let mut out = "audience".to_owned();
    for i in path {
        out.push_str(&format!(".rules[{i}]"));
    }
    out
}

/// An id-safe form of `path` for element ids: `r-0-2`.
pub fn dom_id(path: &[usize]) -> String {
    let mut out = "r".to_owned();
    for i in path {
        out.push_str(&format!("-{i}"));
    }
    out
}
