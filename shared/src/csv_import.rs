//! Profiles from a CSV file (Segments → Import): the browser turns each row into an upload
//! record (`{"type":"profile","identity":…,"profileData":{…}}`) and keeps its line number, so
//! the server's per-record errors and the parse errors here are both reported by line.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

/// A problem with one line of the file (1-based, the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// The records of a CSV file, each with its line, and the lines that could not become one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvProfiles {
    pub records: Vec<(usize, Json)>,
    pub errors: Vec<RowError>,
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

/// Turns a CSV file with a header row into profile upload records. The header must name an
/// `identity` column; every other column is a profile property (`Email`, `Phone`, `City`…), and
/// an empty cell leaves the property unset.
pub fn profiles_from_csv(text: &str) -> CsvProfiles {
    let mut out = CsvProfiles::default();
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
    let Some(identity_col) = header
        .iter()
        .position(|h| h.eq_ignore_ascii_case("identity"))
    else {
        out.errors.push(RowError {
            line: header_line,
            message: "The first line must name an \"identity\" column.".into(),
        });
        return out;
    };
    for (line, cells) in rows {
        if cells.len() != header.len() {
            out.errors.push(RowError {
                line,
                message: format!(
                    "This line has {} values; the header names {} columns.",
                    cells.len(),
                    header.len()
                ),
            });
            continue;
        }
        let identity = cells[identity_col].trim();
        if identity.is_empty() {
            out.errors.push(RowError {
                line,
                message: "The identity is missing.".into(),
            });
            continue;
        }
        let mut data = Map::new();
        for (i, (column, cell)) in header.iter().zip(&cells).enumerate() {
            let cell = cell.trim();
            if i == identity_col || cell.is_empty() || column.is_empty() {
                continue;
            }
            data.insert(column.clone(), value(column, cell));
        }
        out.records.push((
            line,
            json!({"type": "profile", "identity": identity, "profileData": data}),
        ));
    }
    out
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
        let (line, r) = &got.records[0];
        assert_eq!(*line, 2);
        assert_eq!(r["identity"], "u1");
        assert_eq!(r["profileData"]["Phone"], "+14155551234");
        assert_eq!(r["profileData"]["Age"], 31.0);
        assert_eq!(r["profileData"]["Vip"], true);
        assert_eq!(r["profileData"]["Zip"], "0123");
        let (line, r) = &got.records[1];
        assert_eq!(*line, 4);
        assert_eq!(r["profileData"], json!({"Email": "b@x.com"}));
    }

    #[test]
    fn bad_lines_are_reported_by_line_and_the_rest_imported() {
        let got = profiles_from_csv("identity,City\nu1,Pune\n,Delhi\nu3\nu4,Mumbai\n");
        let lines: Vec<usize> = got.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(got.records.len(), 2);
        assert_eq!(got.records[1].0, 5);
    }

    #[test]
    fn a_header_without_identity_is_refused() {
        let got = profiles_from_csv("email,city\na@x.com,Pune\n");
        assert_eq!(got.errors[0].line, 1);
        assert!(got.records.is_empty());
    }
}
