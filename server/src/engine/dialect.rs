//! Every piece of SQL the engine writes that is not portable, in one place. The fragments are
//! SQLite's; a PostgreSQL engine replaces this module's bodies (`strpos`, `jsonb_each`,
//! `sum(x)::float8`…) and keeps the compiler.

/// Where a property is read from: the typed columns of `profile_props`, or the JSON encoding of
/// `events.props` exposed row by row as `j` (see [`PropSource::each`]).
#[derive(Debug, Clone, Copy)]
pub enum PropSource {
    Profile,
    Event,
}

impl PropSource {
    /// The rows `j(key, type, value)` of an event's properties.
    pub fn each(self, event: &str) -> String {
        format!("json_each({event}.props) j")
    }

    pub fn is_text(self) -> &'static str {
        match self {
            Self::Profile => "kind = 'text'",
            Self::Event => "j.type = 'text'",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Self::Profile => "t",
            Self::Event => "j.value",
        }
    }

    pub fn is_number(self) -> &'static str {
        match self {
            Self::Profile => "kind = 'number'",
            Self::Event => "j.type in ('integer', 'real')",
        }
    }

    pub fn number(self) -> &'static str {
        match self {
            Self::Profile => "n",
            Self::Event => "j.value",
        }
    }

    pub fn is_boolean(self) -> &'static str {
        match self {
            Self::Profile => "kind = 'boolean'",
            Self::Event => "j.type in ('true', 'false')",
        }
    }

    /// True when the (boolean) value is true.
    pub fn boolean_true(self) -> &'static str {
        match self {
            Self::Profile => "n = 1",
            Self::Event => "j.type = 'true'",
        }
    }

    pub fn is_date(self) -> &'static str {
        match self {
            Self::Profile => "kind = 'date'",
            Self::Event => "(j.type = 'object' and json_extract(j.value, '$.d') is not null)",
        }
    }

    /// A date as epoch seconds.
    pub fn date(self) -> &'static str {
        match self {
            Self::Profile => "n",
            Self::Event => "json_extract(j.value, '$.d')",
        }
    }

    pub fn is_list(self) -> &'static str {
        match self {
            Self::Profile => "kind = 'list'",
            Self::Event => "j.type = 'array'",
        }
    }

    /// A list as a JSON array of strings.
    pub fn list(self) -> &'static str {
        match self {
            Self::Profile => "t",
            Self::Event => "j.value",
        }
    }
}

/// Case-sensitive substring test (`like` would be case-insensitive and treat `%` and `_` as
/// wildcards).
pub fn contains(haystack: &str, needle: &str) -> String {
    format!("(instr({haystack}, {needle}) > 0)")
}

/// Case-sensitive prefix test; `needle` and `needle_again` bind the same text.
pub fn starts_with(haystack: &str, needle: &str, needle_again: &str) -> String {
    format!("(substr({haystack}, 1, length({needle})) = {needle_again})")
}

/// The elements `k(value)` of a JSON array of strings.
pub fn list_elements(list: &str) -> String {
    format!("json_each({list}) k")
}

/// A floating-point sum that is 0.0 over no rows (`sum` of integers would stay an integer, and
/// an integer division would then truncate averages).
pub fn total(expr: &str) -> String {
    format!("total({expr})")
}

/// The numeric property `key` of event `event`, or 0 when missing or not a number.
pub fn event_number_or_zero(event: &str, key: &str) -> String {
    format!(
        "coalesce((select j.value from json_each({event}.props) j \
         where j.key = {key} and j.type in ('integer', 'real')), 0)"
    )
}
