//! Customer data: profiles and events uploaded in CleverTap's shape ([`record`] parses,
//! [`store`] writes), and what the segment builder reads back ([`catalog`]).

pub mod activity;
pub mod catalog;
pub mod erase;
pub mod person;
pub mod record;
pub mod saved;
pub mod seed;
pub mod segment_api;
pub mod store;
pub mod writer;

use serde_json::value::RawValue;
use shared::data_overview::IngestSource;

use self::activity::{Bookkeeping, Refusal};
use self::record::{Code, Record, RecordError, parse_record_text};
use crate::db::Db;

/// Most records in one upload, as CleverTap.
pub const MAX_RECORDS: usize = 1000;

/// What happened to an upload: the records stored, and the others with their errors.
#[derive(Debug, Default)]
pub struct UploadOutcome {
    pub processed: usize,
    /// `(index in the upload, error)`.
    pub unprocessed: Vec<(usize, RecordError)>,
}

/// Parses every record and stores the valid ones in one transaction (with the uploads that
/// arrived meanwhile, see [`writer`]), with the upload's counts and refused records for the
/// Data page (`source`). A bad record never blocks the others; a database failure fails the
/// whole upload (nothing stored, safe to resend).
pub async fn upload(
    db: &Db,
    records: &[Box<RawValue>],
    source: IngestSource,
    now: i64,
) -> sqlx::Result<UploadOutcome> {
    let mut outcome = UploadOutcome::default();
    let mut valid: Vec<Record> = Vec::with_capacity(records.len());
    for (i, raw) in records.iter().enumerate() {
        match parse_record_text(raw.get(), now) {
            Ok(r) => valid.push(r),
            Err(e) => outcome.unprocessed.push((i, e)),
        }
    }
    let processed = valid.len();
    let refusals: Vec<Refusal<'_>> = outcome
        .unprocessed
        .iter()
        .map(|(i, e)| Refusal {
            code: e.code.number(),
            error: &e.message,
            record: records[*i].get(),
        })
        .collect();
    let books = Bookkeeping::new(source, processed, &refusals);
    drop(refusals);
    writer::write(db, valid, books, now).await?;
    outcome.processed = processed;
    Ok(outcome)
}

impl Code {
    pub fn number(self) -> u16 {
        self as u16
    }
}
