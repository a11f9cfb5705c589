//! Text rules several validators share, and the same rules as the JSON Schema patterns the
//! OpenAPI document gives (`#[schema(pattern = …)]` takes only literals: the server's OpenAPI
//! test checks that each literal is the constant here, and the tests below that each constant
//! is the rule).

/// Whitespace as `str::trim` and `char::is_whitespace` see it (Unicode `White_Space`), as
/// inclusive ranges.
pub const WHITESPACE: [(char, char); 10] = [
    ('\u{9}', '\u{d}'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Not empty after trimming: some character that is not whitespace (a JSON Schema pattern is
/// not anchored).
pub const NOT_BLANK: &str =
    r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// [`crate::account::email_problem`]'s rule: around optional whitespace, a local part and a
/// dotted domain (not starting or ending with a dot), one `@`, no whitespace.
pub const EMAIL: &str = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// `#` and six hexadecimal digits ([`crate::label::LabelInput::color`]).
pub const HEX_COLOR: &str = "^#[0-9A-Fa-f]{6}$";

/// 1 to `max` characters after trimming: the pattern of a name the validators trim, then
/// count (so its raw length may be longer).
pub fn trimmed_length_pattern(max: usize) -> String {
    let ws = whitespace_class();
    format!(
        "^[{ws}]*[^{ws}]([\\s\\S]{{0,{}}}[^{ws}])?[{ws}]*$",
        max.saturating_sub(2)
    )
}

/// The body of a regex character class matching [`WHITESPACE`].
pub fn whitespace_class() -> String {
    let esc = |c: char| match c {
        '\t' => r"\t".to_owned(),
        '\r' => r"\r".to_owned(),
        ' ' => " ".to_owned(),
        c => format!("\\u{:04X}", c as u32),
    };
    WHITESPACE
        .iter()
        .map(|&(a, b)| {
            if a == b {
                esc(a)
            } else if b as u32 == a as u32 + 1 {
                format!("{}{}", esc(a), esc(b))
            } else {
                format!("{}-{}", esc(a), esc(b))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_what_trim_removes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let listed = WHITESPACE.iter().any(|&(a, b)| (a..=b).contains(&c));
            assert_eq!(listed, c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn the_patterns_are_built_from_that_whitespace() {
        let ws = whitespace_class();
        assert_eq!(NOT_BLANK, format!("[^{ws}]"));
        let not = |extra: &str| format!("[^{extra}{ws}]");
        let email = format!(
            "^[{ws}]*{}+@{}{}*\\.{}*{}[{ws}]*$",
            not("@"),
            not(".@"),
            not("@"),
            not("@"),
            not(".@")
        );
        assert_eq!(EMAIL, email);
    }
}
