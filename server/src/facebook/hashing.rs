//! Normalisation and SHA-256 hashing of customer-file match keys, following Meta's
//! "Hashing and normalization" table (see `shared/reference/facebook-marketing-api.md` §5).
//!
//! [`hash_rows`] turns input rows into a [`HashedBatch`]: every cell normalised and (for the keys
//! Meta wants hashed) replaced by its lowercase hex SHA-256, all stored in one flat buffer so a
//! million rows cost a handful of allocations, not millions. Rows whose keys are all empty after
//! normalisation are reported in [`HashedBatch::invalid_rows`] and left out.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeSeq, Serializer};
use sha2::{Digest, Sha256};

/// A column of a multi-key customer-file schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKey {
    ExternId,
    Email,
    Phone,
    Gen,
    Doby,
    Dobm,
    Dobd,
    Ln,
    Fn,
    Fi,
    Ct,
    St,
    Zip,
    Madid,
    Country,
}

impl MatchKey {
    pub const ALL: [MatchKey; 15] = [
        Self::ExternId,
        Self::Email,
        Self::Phone,
        Self::Gen,
        Self::Doby,
        Self::Dobm,
        Self::Dobd,
        Self::Ln,
        Self::Fn,
        Self::Fi,
        Self::Ct,
        Self::St,
        Self::Zip,
        Self::Madid,
        Self::Country,
    ];

    /// The name Meta uses in `payload.schema`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExternId => "EXTERN_ID",
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::Gen => "GEN",
            Self::Doby => "DOBY",
            Self::Dobm => "DOBM",
            Self::Dobd => "DOBD",
            Self::Ln => "LN",
            Self::Fn => "FN",
            Self::Fi => "FI",
            Self::Ct => "CT",
            Self::St => "ST",
            Self::Zip => "ZIP",
            Self::Madid => "MADID",
            Self::Country => "COUNTRY",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// `EXTERN_ID` and `MADID` are sent in clear; everything else is SHA-256 hashed.
    pub fn is_hashed(self) -> bool {
        !matches!(self, Self::ExternId | Self::Madid)
    }
}

impl Serialize for MatchKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Writes the normalised form of `input` for `key` into `out` (cleared first). An empty `out`
/// means the value is missing or unusable. `max_year` bounds `DOBY` (the current year).
pub fn normalize_into(key: MatchKey, input: &str, max_year: u16, out: &mut String) {
    out.clear();
    let input = input.trim();
    if input.is_empty() {
        return;
    }
    match key {
        MatchKey::Email => {
            // Trim and lowercase; a value without a local part and a domain cannot match.
            match input.split_once('@') {
                Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                    lowercase_into(input, out);
                    if out.contains(char::is_whitespace) {
                        out.clear();
                    }
                }
                _ => {}
            }
        }
        MatchKey::Phone => {
            // Digits only (symbols, letters and a leading `+` dropped), then no leading zeros.
            for b in input.bytes() {
                if b.is_ascii_digit() && !(out.is_empty() && b == b'0') {
                    out.push(b as char);
                }
            }
            if out.len() < 5 {
                out.clear();
            }
        }
        MatchKey::Gen => match input.as_bytes()[0].to_ascii_lowercase() {
            b'm' => out.push('m'),
            b'f' => out.push('f'),
            _ => {}
        },
        MatchKey::Doby => {
            if let Some(year) = parse_number(input).filter(|y| (1900..=max_year as u32).contains(y))
            {
                let _ = write!(out, "{year:04}");
            }
        }
        MatchKey::Dobm => {
            if let Some(month) = parse_number(input).filter(|m| (1..=12).contains(m)) {
                let _ = write!(out, "{month:02}");
            }
        }
        MatchKey::Dobd => {
            if let Some(day) = parse_number(input).filter(|d| (1..=31).contains(d)) {
                let _ = write!(out, "{day:02}");
            }
        }
        MatchKey::Fn | MatchKey::Ln => {
            // Lowercase letters only; names keep their non-Roman (UTF-8) letters.
            for c in input.chars() {
                if c.is_ascii_alphabetic() {
                    out.push(c.to_ascii_lowercase());
                } else if !c.is_ascii() && c.is_alphabetic() {
                    out.extend(c.to_lowercase());
                }
            }
        }
        MatchKey::Fi => {
            if let Some(c) = input.chars().find(|c| c.is_alphabetic()) {
                out.extend(c.to_lowercase());
            }
        }
        MatchKey::Ct | MatchKey::St => {
            // a–z only, no punctuation or spaces; Latin-1 accents folded ("São" → "sao").
            for c in input.chars() {
                if c.is_ascii_alphabetic() {
                    out.push(c.to_ascii_lowercase());
                } else if let Some(f) = fold_latin1(c) {
                    out.push(f);
                }
            }
        }
        MatchKey::Zip => {
            for c in input.chars() {
                if c.is_alphanumeric() {
                    out.extend(c.to_lowercase());
                }
            }
            // US ZIP and ZIP+4: the first five digits.
            let digits = out.bytes().all(|b| b.is_ascii_digit());
            if digits && (out.len() == 9 || (out.len() == 5)) {
                out.truncate(5);
            }
        }
        MatchKey::Country => {
            for c in input.chars() {
                if c.is_ascii_alphabetic() {
                    out.push(c.to_ascii_lowercase());
                }
            }
            if out.len() != 2 {
                out.clear();
            }
        }
        MatchKey::Madid => lowercase_into(input, out),
        MatchKey::ExternId => out.push_str(input),
    }
}

fn lowercase_into(input: &str, out: &mut String) {
    if input.is_ascii() {
        out.extend(input.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.extend(input.chars().flat_map(char::to_lowercase));
    }
}

fn parse_number(input: &str) -> Option<u32> {
    if input.len() > 4 || !input.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    input.parse().ok()
}

fn fold_latin1(c: char) -> Option<char> {
    Some(match c {
        'à'..='å' | 'À'..='Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è'..='ë' | 'È'..='Ë' => 'e',
        'ì'..='ï' | 'Ì'..='Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => 'o',
        'ù'..='ü' | 'Ù'..='Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => 's',
        _ => return None,
    })
}

/// Whether `value` is what Meta accepts for a hashed key: 64 lowercase hex digits.
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lowercase hex SHA-256 of `value`, appended to `out` without allocating.
pub fn push_sha256_hex(value: &[u8], out: &mut String) {
    let buf = sha256_hex_bytes(value);
    // Hex digits are ASCII.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

fn sha256_hex_bytes(value: &[u8]) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(value);
    let mut buf = [0u8; 64];
    for (i, byte) in digest.iter().enumerate() {
        buf[2 * i] = HEX[(byte >> 4) as usize];
        buf[2 * i + 1] = HEX[(byte & 0xf) as usize];
    }
    buf
}

/// FxHash-style hashing for in-memory sets keyed by digests and short names (the sandbox's
/// member sets, the hash memo): SipHash's protection against crafted keys buys little there
/// and costs a large share of the time.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

pub type FastBuild = std::hash::BuildHasherDefault<FastHasher>;

/// Hashes of values already seen, for the keys whose values repeat across people (names,
/// city, state, ZIP, country, gender, date-of-birth parts): a lookup is several times cheaper
/// than a SHA-256. E-mail and phone are nearly unique and skip it. Bounded per column.
struct Memo {
    columns: Vec<Option<std::collections::HashMap<String, [u8; 64], FastBuild>>>,
}

impl Memo {
    const MAX_ENTRIES: usize = 4096;

    fn new(schema: &[MatchKey]) -> Self {
        Self {
            columns: schema
                .iter()
                .map(|k| {
                    (k.is_hashed() && !matches!(k, MatchKey::Email | MatchKey::Phone))
                        .then(std::collections::HashMap::default)
                })
                .collect(),
        }
    }

    fn push_hash(&mut self, col: usize, norm: &str, out: &mut String) {
        let Some(Some(map)) = self.columns.get_mut(col) else {
            push_sha256_hex(norm.as_bytes(), out);
            return;
        };
        let hex = match map.get(norm) {
            Some(hex) => *hex,
            None => {
                let hex = sha256_hex_bytes(norm.as_bytes());
                if map.len() >= Self::MAX_ENTRIES {
                    map.clear();
                }
                map.insert(norm.to_owned(), hex);
                hex
            }
        };
        out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
    }
}

/// Lowercase hex SHA-256 of `value` (convenience for tests and single values).
pub fn sha256_hex(value: &str) -> String {
    let mut out = String::with_capacity(64);
    push_sha256_hex(value.as_bytes(), &mut out);
    out
}

/// Rows ready to send: `schema` columns, every cell normalised and hashed where Meta wants it.
#[derive(Debug, Clone, Default)]
pub struct HashedBatch {
    pub schema: Vec<MatchKey>,
    parts: Vec<Part>,
    /// Indexes (into the input) of rows left out because every key was empty after normalisation.
    pub invalid_rows: Vec<usize>,
}

/// One thread's share of the output: all cells in one buffer, `ends[i]` the end of cell `i`.
#[derive(Debug, Clone, Default)]
struct Part {
    buf: String,
    ends: Vec<u32>,
}

impl HashedBatch {
    /// The number of rows kept (invalid rows excluded).
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.ends.len()).sum::<usize>() / self.schema.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every kept row, as its cells in schema order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        let width = self.schema.len().max(1);
        self.parts.iter().flat_map(move |part| {
            (0..part.ends.len() / width).map(move |r| Row {
                part,
                first: r * width,
                width,
            })
        })
    }

    /// The rows in `range` (row indexes among kept rows), serialisable as `payload.data`.
    pub fn slice(&self, start: usize, end: usize) -> RowSlice<'_> {
        RowSlice {
            batch: self,
            start,
            end: end.min(self.len()),
        }
    }
}

/// One row of a [`HashedBatch`].
#[derive(Clone, Copy)]
pub struct Row<'a> {
    part: &'a Part,
    first: usize,
    width: usize,
}

impl<'a> Row<'a> {
    pub fn cell(&self, col: usize) -> &'a str {
        let i = self.first + col;
        let start = if i == 0 {
            0
        } else {
            self.part.ends[i - 1] as usize
        };
        &self.part.buf[start..self.part.ends[i] as usize]
    }

    pub fn cells(self) -> impl Iterator<Item = &'a str> {
        (0..self.width).map(move |c| self.cell(c))
    }
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.width))?;
        for cell in self.cells() {
            seq.serialize_element(cell)?;
        }
        seq.end()
    }
}

/// A run of rows serialised as `[[…],[…]]` straight from the batch's buffers.
pub struct RowSlice<'a> {
    batch: &'a HashedBatch,
    start: usize,
    end: usize,
}

impl RowSlice<'_> {
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for RowSlice<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        let width = self.batch.schema.len().max(1);
        // Skip whole parts instead of walking every row before `start`.
        let mut skip = self.start;
        let mut left = self.len();
        for part in &self.batch.parts {
            let rows = part.ends.len() / width;
            if skip >= rows {
                skip -= rows;
                continue;
            }
            for r in skip..rows {
                if left == 0 {
                    break;
                }
                let row = Row {
                    part,
                    first: r * width,
                    width,
                };
                seq.serialize_element(&row)?;
                left -= 1;
            }
            skip = 0;
        }
        seq.end()
    }
}

/// The year `DOBY` may not exceed.
pub fn current_year() -> u16 {
    let year = jiff::Zoned::now().year();
    u16::try_from(year).unwrap_or(9999)
}

/// Normalises and hashes `rows` (each with one value per `schema` column) on up to two threads.
pub fn hash_rows<R, S>(schema: &[MatchKey], rows: &[R]) -> HashedBatch
where
    R: AsRef<[S]> + Sync,
    S: AsRef<str>,
{
    let threads = if rows.len() >= 4096 { 2 } else { 1 };
    hash_rows_with_threads(schema, rows, threads)
}

/// [`hash_rows`] with an explicit thread count (1 = on the calling thread).
pub fn hash_rows_with_threads<R, S>(schema: &[MatchKey], rows: &[R], threads: usize) -> HashedBatch
where
    R: AsRef<[S]> + Sync,
    S: AsRef<str>,
{
    let max_year = current_year();
    let threads = threads.clamp(1, 16);
    let chunk = rows.len().div_ceil(threads).max(1);
    let results: Vec<(Part, Vec<usize>)> = if threads == 1 {
        vec![hash_chunk(schema, rows, 0, max_year)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = rows
                .chunks(chunk)
                .enumerate()
                .map(|(i, part)| scope.spawn(move || hash_chunk(schema, part, i * chunk, max_year)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut batch = HashedBatch {
        schema: schema.to_vec(),
        ..HashedBatch::default()
    };
    for (part, invalid) in results {
        batch.invalid_rows.extend(invalid);
        batch.parts.push(part);
    }
    batch
}

fn hash_chunk<R, S>(
    schema: &[MatchKey],
    rows: &[R],
    offset: usize,
    max_year: u16,
) -> (Part, Vec<usize>)
where
    R: AsRef<[S]>,
    S: AsRef<str>,
{
    let width = schema.len();
    let mut part = Part {
        buf: String::with_capacity(rows.len() * width * 64),
        ends: Vec::with_capacity(rows.len() * width),
    };
    let mut invalid = Vec::new();
    let mut norm = String::with_capacity(128);
    let mut memo = Memo::new(schema);
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_ref();
        let row_start_buf = part.buf.len();
        let row_start_ends = part.ends.len();
        let mut any = false;
        for (col, key) in schema.iter().enumerate() {
            let raw = row.get(col).map(AsRef::as_ref).unwrap_or("");
            let trimmed = raw.trim();
            if key.is_hashed()
                && trimmed.len() == 64
                && trimmed.bytes().all(|b| b.is_ascii_hexdigit())
            {
                // Already hashed upstream: pass through (lowercased), never hash twice.
                part.buf
                    .extend(trimmed.bytes().map(|b| b.to_ascii_lowercase() as char));
                any = true;
            } else {
                normalize_into(*key, raw, max_year, &mut norm);
                if !norm.is_empty() {
                    any = true;
                    if key.is_hashed() {
                        memo.push_hash(col, &norm, &mut part.buf);
                    } else {
                        part.buf.push_str(&norm);
                    }
                }
            }
            part.ends.push(part.buf.len() as u32);
        }
        if !any {
            part.buf.truncate(row_start_buf);
            part.ends.truncate(row_start_ends);
            invalid.push(offset + i);
        }
    }
    (part, invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(key: MatchKey, input: &str) -> String {
        let mut out = String::new();
        normalize_into(key, input, 2026, &mut out);
        out
    }

    #[test]
    fn metas_published_vectors() {
        assert_eq!(
            sha256_hex("mary@example.com"),
            "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
        );
        assert_eq!(
            sha256_hex("15559876543"),
            "1ef970831d7963307784fa8688e8fce101a15685d62aa765fed23f3a2c576a4e"
        );
        let batch = hash_rows(
            &[MatchKey::Email, MatchKey::Phone],
            &[["  Mary@Example.COM ", "+1 (555) 987-6543"]],
        );
        let row = batch.rows().next().unwrap();
        assert_eq!(
            row.cell(0),
            "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
        );
        assert_eq!(
            row.cell(1),
            "1ef970831d7963307784fa8688e8fce101a15685d62aa765fed23f3a2c576a4e"
        );
    }

    #[test]
    fn email_is_trimmed_and_lowercased_and_must_look_like_one() {
        assert_eq!(
            norm(MatchKey::Email, " John.Doe@Mail.COM\t"),
            "john.doe@mail.com"
        );
        assert_eq!(norm(MatchKey::Email, "not-an-email"), "");
        assert_eq!(norm(MatchKey::Email, "@example.com"), "");
    }

    #[test]
    fn phone_keeps_digits_without_leading_zeros() {
        assert_eq!(norm(MatchKey::Phone, "+1 (555) 987-6543"), "15559876543");
        assert_eq!(norm(MatchKey::Phone, "0044 20 7946 0958"), "442079460958");
        assert_eq!(norm(MatchKey::Phone, "ext"), "");
    }

    #[test]
    fn names_cities_states_zip_country() {
        assert_eq!(norm(MatchKey::Fn, "  Mary-Jane "), "maryjane");
        assert_eq!(norm(MatchKey::Ln, "O'Brien"), "obrien");
        assert_eq!(norm(MatchKey::Fn, "Élodie"), "élodie");
        assert_eq!(norm(MatchKey::Fi, " élodie"), "é");
        assert_eq!(norm(MatchKey::Ct, "São Paulo"), "saopaulo");
        assert_eq!(norm(MatchKey::Ct, "New York, NY"), "newyorkny");
        assert_eq!(norm(MatchKey::St, "CA"), "ca");
        assert_eq!(norm(MatchKey::Zip, "94025-1234"), "94025");
        assert_eq!(norm(MatchKey::Zip, "940251234"), "94025");
        assert_eq!(norm(MatchKey::Zip, "SW1A 1AA"), "sw1a1aa");
        assert_eq!(norm(MatchKey::Country, "US"), "us");
        assert_eq!(norm(MatchKey::Country, "USA"), "");
    }

    #[test]
    fn gender_and_dates() {
        assert_eq!(norm(MatchKey::Gen, "Female"), "f");
        assert_eq!(norm(MatchKey::Gen, "M"), "m");
        assert_eq!(norm(MatchKey::Gen, "x"), "");
        assert_eq!(norm(MatchKey::Doby, "1985"), "1985");
        assert_eq!(norm(MatchKey::Doby, "1885"), "");
        assert_eq!(norm(MatchKey::Doby, "2099"), "");
        assert_eq!(norm(MatchKey::Dobm, "3"), "03");
        assert_eq!(norm(MatchKey::Dobm, "13"), "");
        assert_eq!(norm(MatchKey::Dobd, "7"), "07");
        assert_eq!(norm(MatchKey::Dobd, "32"), "");
    }

    #[test]
    fn extern_id_and_madid_are_not_hashed() {
        let batch = hash_rows(
            &[MatchKey::ExternId, MatchKey::Madid],
            &[["User-42", " 6D92078A-8246-4BA4-AE5B-76104861E7DC "]],
        );
        let row = batch.rows().next().unwrap();
        assert_eq!(row.cell(0), "User-42");
        assert_eq!(row.cell(1), "6d92078a-8246-4ba4-ae5b-76104861e7dc");
    }

    #[test]
    fn already_hashed_values_are_not_hashed_twice() {
        let h = "F1904CF1A9D73A55FA5DE0AC823C4403DED71AFD4C3248D00BDCD0866552BB79";
        let batch = hash_rows(&[MatchKey::Email], &[[h]]);
        assert_eq!(batch.rows().next().unwrap().cell(0), h.to_ascii_lowercase());
    }

    #[test]
    fn rows_empty_after_normalisation_are_reported_not_sent() {
        let rows = vec![
            vec!["a@b.co", "", "Ann"],
            vec!["not-an-email", "+", "  "],
            vec!["", "555 123 4567", ""],
        ];
        let batch = hash_rows(&[MatchKey::Email, MatchKey::Phone, MatchKey::Fn], &rows);
        assert_eq!(batch.invalid_rows, vec![1]);
        assert_eq!(batch.len(), 2);
        let second: Vec<_> = batch.rows().nth(1).unwrap().cells().collect();
        assert_eq!(second[0], "");
        assert_eq!(second[1], sha256_hex("5551234567"));
        assert_eq!(second[2], "");
    }

    #[test]
    fn remembered_hashes_equal_fresh_ones_even_past_the_memo_bound() {
        // 6,000 distinct first names (more than the memo holds), each seen several times.
        let letters = |mut i: usize| {
            let mut s = String::new();
            for _ in 0..4 {
                s.push((b'a' + (i % 26) as u8) as char);
                i /= 26;
            }
            s
        };
        let rows: Vec<[String; 2]> = (0..20_000)
            .map(|i| [letters(i % 6000), "US".to_owned()])
            .collect();
        let batch = hash_rows_with_threads(&[MatchKey::Fn, MatchKey::Country], &rows, 1);
        for (row, input) in batch.rows().zip(&rows) {
            assert_eq!(row.cell(0), sha256_hex(&input[0]));
            assert_eq!(row.cell(1), sha256_hex("us"));
        }
    }

    #[test]
    fn two_threads_give_the_same_rows_in_the_same_order() {
        let rows: Vec<[String; 2]> = (0..10_001)
            .map(|i| {
                let email = if i % 1000 == 7 {
                    String::new()
                } else {
                    format!("user{i}@example.com")
                };
                [email, String::new()]
            })
            .collect();
        let schema = [MatchKey::Email, MatchKey::Phone];
        let one = hash_rows_with_threads(&schema, &rows, 1);
        let two = hash_rows_with_threads(&schema, &rows, 2);
        assert_eq!(one.invalid_rows, two.invalid_rows);
        assert_eq!(one.invalid_rows.len(), 10);
        let a: Vec<_> = one.rows().map(|r| r.cell(0)).collect();
        let b: Vec<_> = two.rows().map(|r| r.cell(0)).collect();
        assert_eq!(a, b);
        // A slice across the two threads' parts equals the single-threaded one.
        assert_eq!(
            serde_json::to_string(&two.slice(4990, 5010)).unwrap(),
            serde_json::to_string(&one.slice(4990, 5010)).unwrap()
        );
        assert_eq!(two.slice(9980, 20_000).len(), 11);
        let json = serde_json::to_string(&two.slice(0, 2)).unwrap();
        assert_eq!(
            json,
            format!(
                r#"[["{}",""],["{}",""]]"#,
                sha256_hex("user0@example.com"),
                sha256_hex("user1@example.com")
            )
        );
    }
}
