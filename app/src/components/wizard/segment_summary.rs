use shared::segment::{Combine, Comparison, Segment, Window};

/// The segment in plain words: "all of: did Charged at least 2 times in the last 30 days; …".
pub fn describe_segment(segment: &Segment) -> String {
    match segment {
        Segment::Group(g) if g.rules.is_empty() => "No conditions yet.".into(),
        Segment::Group(g) => {
            let joiner = match g.combine {
                Combine::AllOf => "all of",
                Combine::AnyOf => "any of",
            };
            let parts: Vec<String> = g.rules.iter().map(describe_segment).collect();
            format!("Users matching {joiner}: {}", parts.join("; "))
        }
        Segment::Event(e) => {
            let verb = if e.did { "did" } else { "did not do" };
            let how = match &e.aggregate {
                Some(a) => {
                    let op = match a.op {
                        Comparison::AtLeast => "at least",
                        Comparison::AtMost => "at most",
                        Comparison::Exactly => "exactly",
                    };
                    format!(" {op} {} times", a.value)
                }
                None => String::new(),
            };
            let when = match &e.window {
                Window::LastDays { days } => format!(" in the last {days} days"),
                Window::LastHours { hours } => format!(" in the last {hours} hours"),
                Window::Ever => " ever".into(),
                _ => " in a date range".into(),
            };
            format!("{verb} {}{how}{when}", e.event)
        }
        Segment::UserProperty(p) => {
            let cond = serde_json::to_value(&p.condition).unwrap_or_default();
            let op = cond
                .get("op")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .replace('_', " ");
            let value = cond
                .get("value")
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            format!("{} {op}{value}", p.property)
        }
        Segment::SavedSegment(s) => format!("saved segment #{}", s.segment_id),
    }
}
