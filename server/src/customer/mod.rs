//! Customer data: profiles and events uploaded in CleverTap's shape ([`record`] parses,
//! [`store`] writes), and what the segment builder reads back ([`catalog`]).

pub mod catalog;
pub mod record;
pub mod saved;
pub mod seed;
pub mod store;

use serde_json::Value as Json;
use sqlx::SqlitePool;

use self::record::{Code, Record, RecordError, parse_record};

/// Uploads write one at a time (see [`upload`]); parsing and validation run outside it.
static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Most records in one upload, as CleverTap.
pub const MAX_RECORDS: usize = 1000;

/// What happened to an upload: the records stored, and the others with their errors.
#[derive(Debug, Default)]
pub struct UploadOutcome {
    pub processed: usize,
    /// `(index in the upload, error)`.
    pub unprocessed: Vec<(usize, RecordError)>,
}

/// Parses every record and stores the valid ones in one transaction. A bad record never blocks
/// the others; a database failure fails the whole upload (nothing stored, safe to resend).
pub async fn upload(pool: &SqlitePool, records: &[Json], now: i64) -> sqlx::Result<UploadOutcome> {
    let mut outcome = UploadOutcome::default();
    let mut valid: Vec<Record> = Vec::with_capacity(records.len());
    for (i, json) in records.iter().enumerate() {
        match parse_record(json, now) {
            Ok(r) => valid.push(r),
            Err(e) => outcome.unprocessed.push((i, e)),
        }
    }
    {
        // SQLite has one writer at a time. Queueing here instead of in SQLite's busy handler
        // (which sleeps and retries) keeps concurrent uploads from idling while the file is free.
        let _writer = WRITER.lock().await;
        store::store_records(pool, &valid, now).await?;
    }
    outcome.processed = valid.len();
    Ok(outcome)
}

impl Code {
    pub fn number(self) -> u16 {
        self as u16
    }
}
