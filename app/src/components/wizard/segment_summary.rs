use shared::segment::{
    BooleanCondition, Combine, Comparison, Condition, NumberCondition, Segment, TextCondition,
    Window,
};

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
            format!("{} {}", p.property, describe_condition(&p.condition))
        }
        Segment::SavedSegment(s) => format!("saved segment #{}", s.segment_id),
    }
}

fn describe_condition(c: &Condition) -> String {
    use NumberCondition as N;
    use TextCondition as T;
    match c {
        Condition::Text(t) => match t {
            T::Equals { value } => format!("is \u{201c}{value}\u{201d}"),
            T::NotEquals { value } => format!("is not \u{201c}{value}\u{201d}"),
            T::Contains { value } => format!("contains \u{201c}{value}\u{201d}"),
            T::DoesNotContain { value } => format!("does not contain \u{201c}{value}\u{201d}"),
            T::StartsWith { value } => format!("starts with \u{201c}{value}\u{201d}"),
            T::InList { values } => format!("is one of {}", values.join(", ")),
            T::NotInList { values } => format!("is none of {}", values.join(", ")),
            T::Exists => "has a value".into(),
            T::DoesNotExist => "has no value".into(),
        },
        Condition::Number(n) => match n {
            N::Equals { value } => format!("= {value}"),
            N::NotEquals { value } => format!("\u{2260} {value}"),
            N::LessThan { value } => format!("< {value}"),
            N::AtMost { value } => format!("\u{2264} {value}"),
            N::GreaterThan { value } => format!("> {value}"),
            N::AtLeast { value } => format!("\u{2265} {value}"),
            N::Between { from, to } => format!("between {from} and {to}"),
        },
        Condition::Boolean(BooleanCondition::IsTrue) => "is true".into(),
        Condition::Boolean(BooleanCondition::IsFalse) => "is false".into(),
        Condition::Date(_) => "matches a date condition".into(),
        Condition::List(_) => "contains one of a list".into(),
    }
}
