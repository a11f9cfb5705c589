//! Profiles and events from a file (Data → Import): the browser turns each CSV row (or NDJSON
//! line) into an upload record (`{"type":"profile","identity":…,"profileData":{…}}` or
//! `{"type":"event",…}`) and keeps its line number, so the server's per-record errors and the
//! parse errors here are both reported by line, in the file's column names.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

/// A problem with one line of the file (1-based, the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// Columns kept as text even when they look like numbers (a leading zero or `+` matters).
const TEXT_COLUMNS: [&str; 5] = ["phone", "zip", "pincode", "postal code", "identity"];

/// Splits CSV text (RFC 4180: quoted fields, `""` for a quote, newlines inside quotes) into rows,
/// each with the line it starts on. Blank lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].trim().is_empty()) {
                    rows.push((row_line, std::mem::take(&mut row)));
                }
                row.clear();
                line += 1;
                row_line = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(RowError {
            line: row_line,
            message: "A quoted value is never closed.".into(),
        });
    }
    row.push(field);
    if !(row.len() == 1 && row[0].trim().is_empty()) {
        rows.push((row_line, row));
    }
    Ok(rows)
}

/// A cell as an upload value: numbers become numbers (unless the column is a phone, zip or
/// identity, or the text has a leading zero or `+`), `true`/`false` booleans, the rest text.
fn value(column: &str, cell: &str) -> Json {
    let lower = column.to_lowercase();
    if TEXT_COLUMNS.contains(&lower.as_str()) {
        return json!(cell);
    }
    if cell == "true" || cell == "false" {
        return json!(cell == "true");
    }
    // "+1…" and "007" are identifiers, not numbers.
    let leading_zero = cell.starts_with('0') && cell.len() > 1 && !cell.starts_with("0.");
    let plain = !(cell.starts_with('+') || leading_zero);
    match cell.parse::<f64>() {
        Ok(x) if plain && x.is_finite() => json!(x),
        _ => json!(cell),
    }
}

/// What a file holds, as the user chose it on the import page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// One profile a row: an `identity` column, every other column a profile property.
    Profiles,
    /// One event a row: `identity`, the event's name and its time, every other column an event
    /// property.
    Events,
}

/// The import's closing line: `302 rows read: 300 profiles imported, 2 not imported (listed
/// below).` `kind` is `None` for an NDJSON file, whose lines may be profiles and events alike.
pub fn import_summary(
    kind: Option<ImportKind>,
    rows: usize,
    imported: usize,
    failed: usize,
) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let (one, many) = match kind {
        Some(ImportKind::Profiles) => ("profile", "profiles"),
        Some(ImportKind::Events) => ("event", "events"),
        None => ("record", "records"),
    };
    let mut text = format!(
        "{} read: {} imported",
        plural(rows, "row", "rows"),
        plural(imported, one, many)
    );
    if failed > 0 {
        text.push_str(&format!(", {failed} not imported (listed below)"));
    }
    text.push('.');
    text
}

/// Header names accepted for an events file's name and time columns (compared without case).
const EVENT_NAME_COLUMNS: [&str; 4] = ["event", "event name", "evtname", "name"];
const TIME_COLUMNS: [&str; 4] = ["timestamp", "ts", "time", "date"];

/// One record to send, with the line it came from and how its fields map back to the file's
/// columns (so the server's errors can be told in the file's words).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    pub line: usize,
    pub record: Json,
}

/// A file turned into upload records: what to send, the lines that could not become a record,
/// how many data rows the file has (every line after the header that is not blank, whether it
/// became a record or not), and the names of its columns for the upload API's fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportFile {
    pub records: Vec<ImportRecord>,
    pub errors: Vec<RowError>,
    pub rows: usize,
    pub columns: FieldColumns,
}

/// The file's column for each upload API field that is not a property: `identity`, `evtName`
/// and `ts`. Property fields (`profileData.X`, `evtData.X`) are the column `X` itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldColumns {
    pub identity: Option<String>,
    pub event_name: Option<String>,
    pub time: Option<String>,
}

impl FieldColumns {
    /// The server's per-record message in the words of the file: `'profileData.Email' is not a
    /// valid e-mail address.` becomes `Column "Email" is not a valid e-mail address.` The
    /// upload API names its own fields, which a CSV user never saw.
    pub fn explain(&self, message: &str) -> String {
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        while let Some(start) = rest.find('\'') {
            let Some(len) = rest[start + 1..].find('\'') else {
                break;
            };
            let field = &rest[start + 1..start + 1 + len];
            out.push_str(&rest[..start]);
            match self.column_of(field) {
                Some(column) => {
                    let word = if out.trim().is_empty() {
                        "Column"
                    } else {
                        "column"
                    };
                    out.push_str(&format!("{word} \"{column}\""));
                }
                None => out.push_str(&rest[start..start + len + 2]),
            }
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        out
    }

    fn column_of(&self, field: &str) -> Option<String> {
        if let Some(key) = field
            .strip_prefix("profileData.")
            .or_else(|| field.strip_prefix("evtData."))
        {
            return Some(key.to_owned());
        }
        match field {
            "identity" => self.identity.clone(),
            "evtName" => self.event_name.clone(),
            "ts" => self.time.clone(),
            _ => None,
        }
    }
}

fn find_column(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// An event's time from a CSV cell, in epoch seconds: RFC 3339 with an offset
/// (`2026-12-01T09:30:00+05:30`, `…Z`), a date and time without one (`2026-12-01 09:30:00`,
/// read as UTC, as exports from databases and analytics tools write them), a date (midnight
/// UTC), or epoch seconds — or epoch milliseconds, which spreadsheets and JavaScript exports
/// write (13 digits; a CSV column says what it is, unlike the upload API's `ts`, which refuses
/// them).
pub fn parse_time(cell: &str) -> Result<i64, String> {
    let cell = cell.trim();
    if let Ok(n) = cell.parse::<i64>() {
        // Below this bound epoch seconds reach year 5138; above it they are milliseconds.
        return Ok(if n.unsigned_abs() > 99_999_999_999 {
            n / 1000
        } else {
            n
        });
    }
    if let Ok(ts) = cell.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(dt) = cell.parse::<jiff::civil::DateTime>()
        && let Ok(zoned) = dt.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(zoned.timestamp().as_second());
    }
    Err(
        "is not a time: write 2026-12-01T09:30:00Z (or with an offset such as +05:30), \
         2026-12-01 09:30:00 (read as UTC), or epoch seconds."
            .into(),
    )
}

/// Turns a CSV file with a header row into profile upload records. The header must name an
/// `identity` column; every other column is a profile property (`Email`, `Phone`, `City`…), and
/// an empty cell leaves the property unset.
pub fn profiles_from_csv(text: &str) -> ImportFile {
    records_from_csv(text, ImportKind::Profiles)
}

/// Turns a CSV file with a header row into upload records of `kind`. Every file needs an
/// `identity` column; an events file also an event name column (`event`, `event name`, `name`)
/// and a time column (`timestamp`, `ts`, `time`, `date`). Every other column is a property of
/// the profile or the event, and an empty cell leaves it unset.
pub fn records_from_csv(text: &str, kind: ImportKind) -> ImportFile {
    let mut out = ImportFile::default();
    let rows = match parse_csv(text) {
        Ok(rows) => rows,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let mut rows = rows.into_iter();
    let Some((header_line, header)) = rows.next() else {
        out.errors.push(RowError {
            line: 1,
            message: "The file is empty; the first line must name the columns.".into(),
        });
        return out;
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let header_error = |message: String| RowError {
        line: header_line,
        message,
    };
    let Some(identity_col) = find_column(&header, &["identity"]) else {
        out.errors.push(header_error(
            "The first line must name an \"identity\" column.".into(),
        ));
        return out;
    };
    let (name_col, time_col) = match kind {
        ImportKind::Profiles => (None, None),
        ImportKind::Events => {
            let Some(name) = find_column(&header, &EVENT_NAME_COLUMNS) else {
                out.errors.push(header_error(
                    "An events file must name the event's column \"event\" on its first line."
                        .into(),
                ));
                return out;
            };
            let Some(time) = find_column(&header, &TIME_COLUMNS) else {
                out.errors.push(header_error(
                    "An events file must name the time's column \"timestamp\" on its first line."
                        .into(),
                ));
                return out;
            };
            (Some(name), Some(time))
        }
    };
    out.columns = FieldColumns {
        identity: Some(header[identity_col].clone()),
        event_name: name_col.map(|i| header[i].clone()),
        time: time_col.map(|i| header[i].clone()),
    };
    for (line, cells) in rows {
        out.rows += 1;
        match row_record(kind, &header, &cells, identity_col, name_col, time_col) {
            Ok(record) => out.records.push(ImportRecord { line, record }),
            Err(message) => out.errors.push(RowError { line, message }),
        }
    }
    out
}

fn row_record(
    kind: ImportKind,
    header: &[String],
    cells: &[String],
    identity_col: usize,
    name_col: Option<usize>,
    time_col: Option<usize>,
) -> Result<Json, String> {
    if cells.len() != header.len() {
        return Err(format!(
            "This line has {} values; the header names {} columns.",
            cells.len(),
            header.len()
        ));
    }
    let identity = cells[identity_col].trim();
    if identity.is_empty() {
        return Err(format!("Column \"{}\" is empty.", header[identity_col]));
    }
    let mut data = Map::new();
    for (i, (column, cell)) in header.iter().zip(cells).enumerate() {
        let cell = cell.trim();
        let structural = i == identity_col || Some(i) == name_col || Some(i) == time_col;
        if structural || cell.is_empty() || column.is_empty() {
            continue;
        }
        data.insert(column.clone(), value(column, cell));
    }
    match (kind, name_col, time_col) {
        (ImportKind::Events, Some(name_col), Some(time_col)) => {
            let name = cells[name_col].trim();
            if name.is_empty() {
                return Err(format!("Column \"{}\" is empty.", header[name_col]));
            }
            let ts = parse_time(&cells[time_col])
                .map_err(|why| format!("Column \"{}\" {why}", header[time_col]))?;
            Ok(
                json!({"type": "event", "identity": identity, "ts": ts, "evtName": name, "evtData": data}),
            )
        }
        _ => Ok(json!({"type": "profile", "identity": identity, "profileData": data})),
    }
}

/// Newline-delimited JSON in the upload API's record shape (`{"type":"profile",…}` or
/// `{"type":"event",…}`, one a line), as `POST /api/v1/upload` takes them in `d`. Each line is
/// checked only for being a JSON object here; the server validates the record and reports it by
/// line like a CSV row.
pub fn records_from_ndjson(text: &str) -> ImportFile {
    let mut out = ImportFile::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        out.rows += 1;
        match serde_json::from_str::<Json>(line) {
            Ok(record @ Json::Object(_)) => out.records.push(ImportRecord {
                line: line_no,
                record,
            }),
            Ok(_) => out.errors.push(RowError {
                line: line_no,
                message: "This line is not a JSON object: each line must be one record such as \
                          {\"type\":\"event\",\"identity\":\"u1\",\"evtName\":\"Charged\",…}."
                    .into(),
            }),
            Err(e) => out.errors.push(RowError {
                line: line_no,
                message: format!("This line is not valid JSON ({e})."),
            }),
        }
    }
    out
}

/// Whether a file is NDJSON rather than CSV: by its name (`.ndjson`, `.jsonl`), or by its first
/// non-blank character when the name says nothing (a CSV header never starts with `{`).
pub fn is_ndjson(file_name: &str, text: &str) -> bool {
    let name = file_name.to_ascii_lowercase();
    if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
        return true;
    }
    if name.ends_with(".csv") {
        return false;
    }
    text.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let rows = parse_csv("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\n").unwrap();
        assert_eq!(
            rows[1],
            (2, vec!["x, y".to_owned(), "say \"hi\"".to_owned()])
        );
        assert_eq!(rows[2], (3, vec!["two\nlines".to_owned(), "z".to_owned()]));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn rows_become_profile_records_with_typed_values_and_their_line() {
        let csv = "identity,Email,Phone,Age,Vip,Zip\r\nu1,a@x.com,+14155551234,31,true,0123\r\n\r\nu2,b@x.com,,,,\r\n";
        let got = profiles_from_csv(csv);
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.records.len(), 2);
        let ImportRecord { line, record: r } = &got.records[0];
        assert_eq!(*line, 2);
        assert_eq!(r["identity"], "u1");
        assert_eq!(r["profileData"]["Phone"], "+14155551234");
        assert_eq!(r["profileData"]["Age"], 31.0);
        assert_eq!(r["profileData"]["Vip"], true);
        assert_eq!(r["profileData"]["Zip"], "0123");
        let ImportRecord { line, record: r } = &got.records[1];
        assert_eq!(*line, 4);
        assert_eq!(r["profileData"], json!({"Email": "b@x.com"}));
    }

    #[test]
    fn bad_lines_are_reported_by_line_and_the_rest_imported() {
        let got = profiles_from_csv("identity,City\nu1,Pune\n,Delhi\nu3\nu4,Mumbai\n");
        let lines: Vec<usize> = got.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(got.records.len(), 2);
        assert_eq!(got.records[1].line, 5);
        // Every data line counts as a row, imported or not (the header does not).
        assert_eq!(got.rows, 4);
    }

    #[test]
    fn a_header_without_identity_is_refused() {
        let got = profiles_from_csv("email,city\na@x.com,Pune\n");
        assert_eq!(got.errors[0].line, 1);
        assert!(got.records.is_empty());
    }

    #[test]
    fn rows_count_every_data_line_including_the_ones_that_fail() {
        let mut csv = String::from("identity,City\n");
        for i in 0..301 {
            csv.push_str(&format!("u{i},Pune\n"));
        }
        csv.push_str(",NoIdentity\n");
        let got = profiles_from_csv(&csv);
        assert_eq!(got.rows, 302);
        assert_eq!(got.records.len(), 301);
        assert_eq!(got.errors.len(), 1);
        assert_eq!(got.errors[0].message, "Column \"identity\" is empty.");
    }

    #[test]
    fn event_rows_become_event_records_with_their_time() {
        let csv = "identity,Event,Timestamp,Amount,Currency\n\
                   u1,Charged,2026-12-01T09:30:00+05:30,300,INR\n\
                   u2,Product Viewed,2026-12-01 04:00:00,,\n\
                   u3,Charged,1796097600,12.5,EUR\n\
                   u4,Charged,1796097600000,1,EUR\n";
        let got = records_from_csv(csv, ImportKind::Events);
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.rows, 4);
        let r = &got.records[0].record;
        assert_eq!(r["type"], "event");
        assert_eq!(r["identity"], "u1");
        assert_eq!(r["evtName"], "Charged");
        // 09:30 at +05:30 is 04:00 UTC.
        assert_eq!(r["ts"], 1_796_097_600);
        assert_eq!(r["evtData"], json!({"Amount": 300.0, "Currency": "INR"}));
        // Without an offset the time is UTC; an empty cell leaves the property out.
        assert_eq!(got.records[1].record["ts"], 1_796_097_600);
        assert_eq!(got.records[1].record["evtData"], json!({}));
        assert_eq!(got.records[2].record["ts"], 1_796_097_600);
        // Milliseconds (13 digits) are read as such.
        assert_eq!(got.records[3].record["ts"], 1_796_097_600);
        assert_eq!(got.columns.time.as_deref(), Some("Timestamp"));
        assert_eq!(parse_time("2026-12-01"), Ok(1_796_083_200));
    }

    #[test]
    fn event_files_name_the_missing_column_and_bad_cells_by_column() {
        let got = records_from_csv("identity,Timestamp\nu1,1\n", ImportKind::Events);
        assert_eq!(got.errors[0].line, 1);
        assert!(
            got.errors[0].message.contains("\"event\""),
            "{:?}",
            got.errors
        );
        let got = records_from_csv(
            "identity,event,when,ts\nu1,Charged,x,yesterday\nu2,,x,5\n",
            ImportKind::Events,
        );
        assert_eq!(got.rows, 2);
        assert!(got.records.is_empty());
        assert!(
            got.errors[0]
                .message
                .starts_with("Column \"ts\" is not a time")
        );
        assert_eq!(got.errors[1].message, "Column \"event\" is empty.");
    }

    #[test]
    fn server_messages_are_told_in_the_files_column_names() {
        let csv = records_from_csv("identity,name,date,Email\nu,X,5,a\n", ImportKind::Events);
        let c = &csv.columns;
        assert_eq!(
            c.explain("'profileData.Email' is not a valid e-mail address."),
            "Column \"Email\" is not a valid e-mail address."
        );
        assert_eq!(
            c.explain("'evtName' must be at most 120 bytes long."),
            "Column \"name\" must be at most 120 bytes long."
        );
        assert_eq!(
            c.explain("Value of 'evtData.Tags' and 'ts' are wrong"),
            "Value of column \"Tags\" and column \"date\" are wrong"
        );
        // Anything that is not a field of the record stays as it was.
        assert_eq!(c.explain("'x' isn't known"), "'x' isn't known");
    }

    #[test]
    fn the_summary_counts_rows_and_names_what_was_imported() {
        assert_eq!(
            import_summary(Some(ImportKind::Profiles), 302, 300, 2),
            "302 rows read: 300 profiles imported, 2 not imported (listed below)."
        );
        assert_eq!(
            import_summary(Some(ImportKind::Events), 1, 1, 0),
            "1 row read: 1 event imported."
        );
        assert_eq!(
            import_summary(None, 2, 1, 1),
            "2 rows read: 1 record imported, 1 not imported (listed below)."
        );
    }

    #[test]
    fn ndjson_lines_are_records_and_the_rest_is_reported_by_line() {
        let text = "{\"type\":\"event\",\"identity\":\"u1\",\"evtName\":\"A\"}\n\n[1]\n{oops\n{\"type\":\"profile\",\"identity\":\"u2\",\"profileData\":{}}\n";
        let got = records_from_ndjson(text);
        assert_eq!(got.rows, 4);
        let lines: Vec<usize> = got.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 5]);
        let bad: Vec<usize> = got.errors.iter().map(|e| e.line).collect();
        assert_eq!(bad, [3, 4]);
        assert!(is_ndjson("events.jsonl", ""));
        assert!(is_ndjson("upload", " {\"type\":1}"));
        assert!(!is_ndjson("data.csv", "{weird header"));
    }
}
