//! Every piece of SQL the engine writes that is not portable, in one place: SQLite's fragments
//! and PostgreSQL's side by side, so the compiler is written once.
//!
//! Placeholders are always `?` while compiling (leaves are cut out of the whole condition with
//! their binds, so numbering must wait); [`Dialect::numbered`] turns them into `$1…` for
//! PostgreSQL. No fragment here may contain a `?` of its own (PostgreSQL's jsonb `?` operator is
//! avoided for that reason).
//!
//! PostgreSQL does not promise to evaluate `a and b` left to right, so a cast that would fail on
//! a value of another type (`'Pune'::float8`, `'Pune'::jsonb`) is always guarded by a `case`,
//! whose order it does promise; SQLite's dynamic typing needs no guard.

/// The SQL dialect a segment is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where a property is read from: the typed columns of `profile_props`, or the JSON encoding of
/// `events.props` exposed row by row as `j` (see [`Dialect::each`]).
#[derive(Debug, Clone, Copy)]
pub enum PropSource {
    Profile,
    Event,
}

impl Dialect {
    /// `sql` with its `?` placeholders numbered for the database.
    pub fn numbered(self, sql: &str) -> String {
        match self {
            Self::Sqlite => sql.to_owned(),
            Self::Postgres => {
                let mut out = String::with_capacity(sql.len() + 16);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// A constant condition.
    pub fn boolean(self, value: bool) -> &'static str {
        match (self, value) {
            (Self::Sqlite, true) => "1",
            (Self::Sqlite, false) => "0",
            (Self::Postgres, true) => "true",
            (Self::Postgres, false) => "false",
        }
    }

    /// The rows `j(key, value)` of an event's properties.
    pub fn each(self, event: &str) -> String {
        match self {
            Self::Sqlite => format!("json_each({event}.props) j"),
            Self::Postgres => format!("jsonb_each({event}.props) j"),
        }
    }

    pub fn is_text(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "kind = 'text'",
            (Self::Sqlite, PropSource::Event) => "j.type = 'text'",
            (Self::Postgres, PropSource::Event) => "jsonb_typeof(j.value) = 'string'",
        }
    }

    pub fn text(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "t",
            (Self::Sqlite, PropSource::Event) => "j.value",
            // `#>> '{}'` is the string itself, unquoted; any JSON value has a text form.
            (Self::Postgres, PropSource::Event) => "(j.value #>> '{}')",
        }
    }

    pub fn is_number(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "kind = 'number'",
            (Self::Sqlite, PropSource::Event) => "j.type in ('integer', 'real')",
            (Self::Postgres, PropSource::Event) => "jsonb_typeof(j.value) = 'number'",
        }
    }

    pub fn number(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "n",
            (Self::Sqlite, PropSource::Event) => "j.value",
            (Self::Postgres, PropSource::Event) => {
                "(case when jsonb_typeof(j.value) = 'number' then (j.value #>> '{}')::float8 end)"
            }
        }
    }

    pub fn is_boolean(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "kind = 'boolean'",
            (Self::Sqlite, PropSource::Event) => "j.type in ('true', 'false')",
            (Self::Postgres, PropSource::Event) => "jsonb_typeof(j.value) = 'boolean'",
        }
    }

    /// True when the (boolean) value is true.
    pub fn boolean_true(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "n = 1",
            (Self::Sqlite, PropSource::Event) => "j.type = 'true'",
            (Self::Postgres, PropSource::Event) => "j.value = 'true'::jsonb",
        }
    }

    pub fn is_date(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "kind = 'date'",
            (Self::Sqlite, PropSource::Event) => {
                "(j.type = 'object' and json_extract(j.value, '$.d') is not null)"
            }
            (Self::Postgres, PropSource::Event) => "jsonb_typeof(j.value -> 'd') = 'number'",
        }
    }

    /// A date as epoch seconds.
    pub fn date(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "n",
            (Self::Sqlite, PropSource::Event) => "json_extract(j.value, '$.d')",
            (Self::Postgres, PropSource::Event) => {
                "(case when jsonb_typeof(j.value -> 'd') = 'number' \
                 then (j.value ->> 'd')::float8 end)"
            }
        }
    }

    pub fn is_list(self, src: PropSource) -> &'static str {
        match (self, src) {
            (_, PropSource::Profile) => "kind = 'list'",
            (Self::Sqlite, PropSource::Event) => "j.type = 'array'",
            (Self::Postgres, PropSource::Event) => "jsonb_typeof(j.value) = 'array'",
        }
    }

    /// The elements `k(value)` of the value when it is a list (a JSON array of strings), as text;
    /// no rows otherwise.
    pub fn list_elements(self, src: PropSource) -> &'static str {
        match (self, src) {
            (Self::Sqlite, PropSource::Profile) => "json_each(t) k",
            (Self::Sqlite, PropSource::Event) => "json_each(j.value) k",
            // A profile list is JSON text in `t`; the cast must not see a plain text value.
            (Self::Postgres, PropSource::Profile) => {
                "jsonb_array_elements_text(case when kind = 'list' then t::jsonb end) k(value)"
            }
            (Self::Postgres, PropSource::Event) => {
                "jsonb_array_elements_text(case when jsonb_typeof(j.value) = 'array' \
                 then j.value end) k(value)"
            }
        }
    }

    /// Case-sensitive substring test (`like` would be case-insensitive in SQLite and treats `%`
    /// and `_` as wildcards).
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Self::Sqlite => format!("(instr({haystack}, {needle}) > 0)"),
            Self::Postgres => format!("(strpos({haystack}, {needle}) > 0)"),
        }
    }

    /// Case-sensitive prefix test; `needle` and `needle_again` bind the same text.
    pub fn starts_with(self, haystack: &str, needle: &str, needle_again: &str) -> String {
        match self {
            Self::Sqlite => format!("(substr({haystack}, 1, length({needle})) = {needle_again})"),
            Self::Postgres => {
                format!("(left({haystack}, char_length({needle})) = {needle_again})")
            }
        }
    }

    /// A floating-point sum that is 0.0 over no rows (`sum` of integers would stay an integer,
    /// and an integer division would then truncate averages).
    pub fn total(self, expr: &str) -> String {
        match self {
            Self::Sqlite => format!("total({expr})"),
            Self::Postgres => format!("coalesce(sum({expr}), 0)::float8"),
        }
    }

    /// The numeric property `key` of event `event`, or 0 when missing or not a number.
    pub fn event_number_or_zero(self, event: &str, key: &str) -> String {
        match self {
            Self::Sqlite => format!(
                "coalesce((select j.value from json_each({event}.props) j \
                 where j.key = {key} and j.type in ('integer', 'real')), 0)"
            ),
            // One lookup by key (`->`) instead of expanding every property.
            Self::Postgres => format!(
                "coalesce((select case when jsonb_typeof(x.v) = 'number' \
                 then (x.v #>> '{{}}')::float8 end from (select {event}.props -> {key}) x(v)), 0)"
            ),
        }
    }

    /// The match keys of `profiles p` as text (PostgreSQL stores the date of birth as `date`).
    pub fn member_columns(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "p.id, p.identity, p.email, p.phone, p.first_name, p.last_name, p.gender, \
                 p.date_of_birth, p.city, p.state, p.zip, p.country, p.madid"
            }
            Self::Postgres => {
                "p.id, p.identity, p.email, p.phone, p.first_name, p.last_name, p.gender, \
                 to_char(p.date_of_birth, 'YYYY-MM-DD') as date_of_birth, p.city, p.state, \
                 p.zip, p.country, p.madid"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        let sql = "a = ? and b in (?, ?)";
        assert_eq!(Dialect::Postgres.numbered(sql), "a = $1 and b in ($2, $3)");
        assert_eq!(Dialect::Sqlite.numbered(sql), sql);
    }
}
