//! `Deserialize` for the internally tagged enums of the segment tree, and for [`Aggregate`],
//! which flattens one, written by hand for the browser's code size (see [`crate::tagged`]). The
//! JSON and the error messages are serde's.

use serde::Deserialize;
use serde_json::Error;

use super::{
    Aggregate, BooleanCondition, Condition, DateCondition, ListCondition, Measure, NumberCondition,
    Segment, TextCondition, Window,
};
use crate::tagged::{
    Object, Tagged, deserialize_flattened, deserialize_tagged, field, field_or_default,
    unknown_variant,
};

deserialize_tagged!(
    Segment,
    Measure,
    Window,
    Condition,
    TextCondition,
    NumberCondition,
    BooleanCondition,
    DateCondition,
    ListCondition,
);

impl Tagged for Segment {
    const NAME: &'static str = "Segment";
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &["group", "event", "user_property", "saved_segment"];

    fn from_object(object: &Object, kind: &str) -> Result<Self, Error> {
        // The variants' structs ignore unknown fields, so they read the tag along.
        Ok(match kind {
            "group" => Segment::Group(Deserialize::deserialize(object)?),
            "event" => Segment::Event(Deserialize::deserialize(object)?),
            "user_property" => Segment::UserProperty(Deserialize::deserialize(object)?),
            "saved_segment" => Segment::SavedSegment(Deserialize::deserialize(object)?),
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

deserialize_flattened!(Aggregate, "struct Aggregate", |object| Aggregate {
    measure: Measure::from_tagged_object(object)?,
    op: field(object, "op")?,
    value: field(object, "value")?,
    include_never_did: field_or_default(object, "include_never_did")?,
});

impl Tagged for Measure {
    const NAME: &'static str = "Measure";
    const TAG: &'static str = "of";
    const VARIANTS: &'static [&'static str] = &["count", "sum", "average"];

    fn from_object(object: &Object, of: &str) -> Result<Self, Error> {
        Ok(match of {
            "count" => Measure::Count,
            "sum" => Measure::Sum {
                property: field(object, "property")?,
            },
            "average" => Measure::Average {
                property: field(object, "property")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for Window {
    const NAME: &'static str = "Window";
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &[
        "last_days",
        "last_hours",
        "between",
        "since",
        "before",
        "ever",
    ];

    fn from_object(object: &Object, kind: &str) -> Result<Self, Error> {
        Ok(match kind {
            "last_days" => Window::LastDays {
                days: field(object, "days")?,
            },
            "last_hours" => Window::LastHours {
                hours: field(object, "hours")?,
            },
            "between" => Window::Between {
                from: field(object, "from")?,
                to: field(object, "to")?,
            },
            "since" => Window::Since {
                date: field(object, "date")?,
            },
            "before" => Window::Before {
                date: field(object, "date")?,
            },
            "ever" => Window::Ever,
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for Condition {
    const NAME: &'static str = "Condition";
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["text", "number", "boolean", "date", "list"];

    fn from_object(object: &Object, kind: &str) -> Result<Self, Error> {
        // Each variant is itself tagged (by `op`) and ignores the `type` field.
        Ok(match kind {
            "text" => Condition::Text(TextCondition::from_tagged_object(object)?),
            "number" => Condition::Number(NumberCondition::from_tagged_object(object)?),
            "boolean" => Condition::Boolean(BooleanCondition::from_tagged_object(object)?),
            "date" => Condition::Date(DateCondition::from_tagged_object(object)?),
            "list" => Condition::List(ListCondition::from_tagged_object(object)?),
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for TextCondition {
    const NAME: &'static str = "TextCondition";
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &[
        "equals",
        "not_equals",
        "contains",
        "does_not_contain",
        "starts_with",
        "in_list",
        "not_in_list",
        "exists",
        "does_not_exist",
    ];

    fn from_object(object: &Object, op: &str) -> Result<Self, Error> {
        let value = || field(object, "value");
        let values = || field(object, "values");
        Ok(match op {
            "equals" => TextCondition::Equals { value: value()? },
            "not_equals" => TextCondition::NotEquals { value: value()? },
            "contains" => TextCondition::Contains { value: value()? },
            "does_not_contain" => TextCondition::DoesNotContain { value: value()? },
            "starts_with" => TextCondition::StartsWith { value: value()? },
            "in_list" => TextCondition::InList { values: values()? },
            "not_in_list" => TextCondition::NotInList { values: values()? },
            "exists" => TextCondition::Exists,
            "does_not_exist" => TextCondition::DoesNotExist,
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for NumberCondition {
    const NAME: &'static str = "NumberCondition";
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &[
        "equals",
        "not_equals",
        "less_than",
        "at_most",
        "greater_than",
        "at_least",
        "between",
    ];

    fn from_object(object: &Object, op: &str) -> Result<Self, Error> {
        let value = || field(object, "value");
        Ok(match op {
            "equals" => NumberCondition::Equals { value: value()? },
            "not_equals" => NumberCondition::NotEquals { value: value()? },
            "less_than" => NumberCondition::LessThan { value: value()? },
            "at_most" => NumberCondition::AtMost { value: value()? },
            "greater_than" => NumberCondition::GreaterThan { value: value()? },
            "at_least" => NumberCondition::AtLeast { value: value()? },
            "between" => NumberCondition::Between {
                from: field(object, "from")?,
                to: field(object, "to")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for BooleanCondition {
    const NAME: &'static str = "BooleanCondition";
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &["is_true", "is_false"];

    fn from_object(_: &Object, op: &str) -> Result<Self, Error> {
        Ok(match op {
            "is_true" => BooleanCondition::IsTrue,
            "is_false" => BooleanCondition::IsFalse,
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for DateCondition {
    const NAME: &'static str = "DateCondition";
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &["before", "after", "between", "in_last_days"];

    fn from_object(object: &Object, op: &str) -> Result<Self, Error> {
        Ok(match op {
            "before" => DateCondition::Before {
                date: field(object, "date")?,
            },
            "after" => DateCondition::After {
                date: field(object, "date")?,
            },
            "between" => DateCondition::Between {
                from: field(object, "from")?,
                to: field(object, "to")?,
            },
            "in_last_days" => DateCondition::InLastDays {
                days: field(object, "days")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}

impl Tagged for ListCondition {
    const NAME: &'static str = "ListCondition";
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &["contains_any"];

    fn from_object(object: &Object, op: &str) -> Result<Self, Error> {
        Ok(match op {
            "contains_any" => ListCondition::ContainsAny {
                values: field(object, "values")?,
            },
            other => return Err(unknown_variant::<Self>(other)),
        })
    }
}
