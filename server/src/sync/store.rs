//! The confirmed membership of each campaign's audience, in chunks by profile id (table
//! `sync_members`): chunk `n` holds the members whose profile id is in
//! `[n × CHUNK_IDS, (n + 1) × CHUNK_IDS)`, packed as [`members::encode`] packs them, ascending.
//!
//! One blob per audience (260 MB at 10M members) had to be read, decoded into 10M entries and
//! written again whole on every run. Now a run's plan reads one chunk at a time alongside the
//! segment's members, and its finish rewrites only the chunks its removals and additions touch
//! (or, for a replace, writes the new membership chunk by chunk as it reads the run's batches),
//! in the transaction that marks the run succeeded — the membership still changes atomically
//! with the run's confirmation.

use std::collections::HashSet;

use super::members::{self, Entry};
use crate::db::{Db, with_pool};

/// Profile ids per chunk: ~100 kB per chunk of a dense audience (2,442 chunks at 10M members).
pub const CHUNK_IDS: i64 = if cfg!(test) { 8 } else { 4096 };

/// Writes one chunk of a campaign's membership, replacing what the chunk held, in the
/// caller's transaction `$tx`. A macro because the transaction's type is the backend's, as
/// inside `with_pool!`.
macro_rules! put_chunk {
    ($tx:expr, $campaign_id:expr, $chunk:expr, $packed:expr) => {
        sqlx::query(
            "insert into sync_members (campaign_id, chunk, members) values ($1, $2, $3) \
             on conflict (campaign_id, chunk) do update set members = excluded.members",
        )
        .bind($campaign_id)
        .bind($chunk)
        .bind($packed)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use put_chunk;

/// The chunk holding profile `id`.
pub fn chunk_of(id: i64) -> i64 {
    id.div_euclid(CHUNK_IDS)
}

/// The first stored chunk of the campaign after chunk `after` (from the first with `None`).
pub async fn next_chunk(
    db: &Db,
    campaign_id: i64,
    after: Option<i64>,
) -> anyhow::Result<Option<(i64, Vec<Entry>)>> {
    let row: Option<(i64, Vec<u8>)> = with_pool!(db, pool => sqlx::query_as(
        "select chunk, members from sync_members where campaign_id = $1 and chunk > $2 \
         order by chunk limit 1",
    )
    .bind(campaign_id)
    .bind(after.unwrap_or(i64::MIN))
    .fetch_optional(pool)
    .await?);
    row.map(|(chunk, blob)| Ok((chunk, members::decode(&blob)?)))
        .transpose()
}

/// The stored chunk `chunk` of the campaign (its packed members), if any.
pub async fn chunk(db: &Db, campaign_id: i64, chunk: i64) -> sqlx::Result<Option<Vec<u8>>> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select members from sync_members where campaign_id = $1 and chunk = $2",
    )
    .bind(campaign_id)
    .bind(chunk)
    .fetch_optional(pool)
    .await)
}

/// Whether the campaign has a confirmed member at all.
pub async fn has_members(db: &Db, campaign_id: i64) -> sqlx::Result<bool> {
    let n: i64 = with_pool!(db, pool => sqlx::query_scalar(
        "select count(*) from (select 1 from sync_members where campaign_id = $1 limit 1) c",
    )
    .bind(campaign_id)
    .fetch_one(pool)
    .await?);
    Ok(n > 0)
}

/// The confirmed membership read in profile-id order, one packed chunk in memory at a time:
/// the plan merges it with the segment's members. Records are unpacked into entries only when
/// the plan keeps them (members that left or changed); an unchanged member costs a comparison.
pub struct Cursor<'a> {
    db: &'a Db,
    campaign_id: i64,
    /// The current chunk, packed, and where its next record starts.
    chunk: Vec<u8>,
    pos: usize,
    /// The record [`Self::take`] returned last.
    taken: (usize, usize),
    last: Option<i64>,
    done: bool,
    /// Confirmed members read so far (all of them once [`Self::rest`] returned).
    pub count: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(db: &'a Db, campaign_id: i64) -> Self {
        Self {
            db,
            campaign_id,
            chunk: Vec::new(),
            pos: 0,
            taken: (0, 0),
            last: None,
            done: false,
            count: 0,
        }
    }

    /// Moves the confirmed members below profile `id` to `passed` and returns the confirmed
    /// fingerprint of `id`, if it is a member ([`Self::taken`] unpacks its entry). `id`s must
    /// ascend from call to call.
    pub async fn take(&mut self, id: i64, passed: &mut Vec<Entry>) -> anyhow::Result<Option<u64>> {
        loop {
            while let Some((pid, _, end)) = self.peek() {
                if pid >= id {
                    break;
                }
                passed.push(unpack(&self.chunk[self.pos..end])?);
                self.pos = end;
            }
            if self.pos < self.chunk.len() || self.done {
                break;
            }
            self.load().await?;
        }
        match self.peek() {
            Some((pid, fingerprint, end)) if pid == id => {
                self.taken = (self.pos, end);
                self.pos = end;
                Ok(Some(fingerprint))
            }
            _ => Ok(None),
        }
    }

    /// The confirmed entry [`Self::take`] found last.
    pub fn taken(&self) -> anyhow::Result<Entry> {
        unpack(&self.chunk[self.taken.0..self.taken.1])
    }

    /// Moves every confirmed member not taken yet to `passed`.
    pub async fn rest(&mut self, passed: &mut Vec<Entry>) -> anyhow::Result<()> {
        loop {
            while let Some((_, _, end)) = self.peek() {
                passed.push(unpack(&self.chunk[self.pos..end])?);
                self.pos = end;
            }
            if self.done {
                return Ok(());
            }
            self.load().await?;
        }
    }

    /// (profile id, fingerprint, end) of the record at `pos`.
    fn peek(&self) -> Option<(i64, u64, usize)> {
        let rest = self.chunk.get(self.pos..)?;
        if rest.len() < 18 {
            return None;
        }
        let id = i64::from_le_bytes(rest[0..8].try_into().ok()?);
        let fingerprint = u64::from_le_bytes(rest[8..16].try_into().ok()?);
        let len = u16::from_le_bytes(rest[16..18].try_into().ok()?) as usize;
        Some((id, fingerprint, self.pos + 18 + len))
    }

    async fn load(&mut self) -> anyhow::Result<()> {
        let row: Option<(i64, Vec<u8>)> = with_pool!(self.db, pool => sqlx::query_as(
            "select chunk, members from sync_members where campaign_id = $1 and chunk > $2 \
             order by chunk limit 1",
        )
        .bind(self.campaign_id)
        .bind(self.last.unwrap_or(i64::MIN))
        .fetch_optional(pool)
        .await?);
        match row {
            Some((chunk, packed)) => {
                // Checked whole here, so that reading it record by record cannot go wrong.
                self.count += members::records(&packed)?.len();
                self.last = Some(chunk);
                self.chunk = packed;
                self.pos = 0;
            }
            None => self.done = true,
        }
        Ok(())
    }
}

/// One record as an entry.
fn unpack(record: &[u8]) -> anyhow::Result<Entry> {
    members::decode(record)?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("an empty membership record"))
}

/// Packs members arriving in ascending profile-id order into chunks.
#[derive(Default)]
pub struct ChunkBuilder {
    current: Option<(i64, Vec<u8>)>,
    last_id: Option<i64>,
}

impl ChunkBuilder {
    /// Adds one packed record (see [`members::records`]); returns the chunk it completed, if
    /// it starts a new one.
    pub fn push(&mut self, id: i64, record: &[u8]) -> anyhow::Result<Option<(i64, Vec<u8>)>> {
        anyhow::ensure!(
            self.last_id.is_none_or(|last| last < id),
            "members out of order: {id} after {:?}",
            self.last_id
        );
        self.last_id = Some(id);
        let chunk = chunk_of(id);
        let done = match &mut self.current {
            Some((c, blob)) if *c == chunk => {
                blob.extend_from_slice(record);
                return Ok(None);
            }
            _ => self.current.replace((chunk, record.to_vec())),
        };
        Ok(done)
    }

    /// The last chunk.
    pub fn finish(self) -> Option<(i64, Vec<u8>)> {
        self.current
    }
}

/// `old` (a packed chunk, ascending) without the members of `removed`, with `added` (entries of
/// the same chunk, ascending, unique) put in; a profile both kept and added keeps its
/// confirmed record.
pub fn apply(old: &[u8], removed: &HashSet<i64>, added: &[Entry]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(old.len() + added.len() * 32);
    let mut added = added.iter().peekable();
    for (id, record) in members::records(old)? {
        if removed.contains(&id) {
            continue;
        }
        while let Some(a) = added.next_if(|a| a.profile_id < id) {
            members::encode_into(&mut out, a);
        }
        added.next_if(|a| a.profile_id == id);
        out.extend_from_slice(record);
    }
    for a in added {
        members::encode_into(&mut out, a);
    }
    Ok(out)
}

/// How a run's finish changes the confirmed membership.
pub enum NewMembership {
    /// The run's replace batches (ascending by profile id) become the membership, less these
    /// erased people.
    Replace { erased: HashSet<i64> },
    /// The confirmed membership with `removed` taken out and `added` (ascending, unique by
    /// profile id) put in: only the chunks they touch are rewritten.
    Apply {
        removed: HashSet<i64>,
        added: Vec<Entry>,
    },
}

/// Splits memberships an earlier version stored as one blob (`sync_audiences.members`) into
/// chunks, an audience at a time, each in one transaction that also clears the blob. Runs when
/// the server starts (after the migrations); nothing to do once done.
pub async fn convert_legacy(db: &Db) -> anyhow::Result<u64> {
    let campaigns: Vec<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "select campaign_id from sync_audiences where members is not null order by campaign_id",
    )
    .fetch_all(pool)
    .await?);
    for &campaign_id in &campaigns {
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            let blob: Option<Vec<u8>> = sqlx::query_scalar(
                "select members from sync_audiences where campaign_id = $1",
            )
            .bind(campaign_id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            if let Some(blob) = blob {
                sqlx::query("delete from sync_members where campaign_id = $1")
                    .bind(campaign_id)
                    .execute(&mut *tx)
                    .await?;
                let mut builder = ChunkBuilder::default();
                let mut chunks = Vec::new();
                for (id, record) in members::records(&blob)? {
                    chunks.extend(builder.push(id, record)?);
                    // Written as they fill, so the chunks never add up to a second copy.
                    for (chunk, packed) in chunks.drain(..) {
                        put_chunk!(tx, campaign_id, chunk, packed)?;
                    }
                }
                if let Some((chunk, packed)) = builder.finish() {
                    put_chunk!(tx, campaign_id, chunk, packed)?;
                }
                sqlx::query("update sync_audiences set members = null where campaign_id = $1")
                    .bind(campaign_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
    }
    if !campaigns.is_empty() {
        tracing::info!(
            audiences = campaigns.len(),
            "confirmed memberships split into chunks"
        );
    }
    Ok(campaigns.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64) -> Entry {
        Entry {
            profile_id: id,
            fingerprint: id as u64 * 7,
            identity: format!("u{id}"),
        }
    }

    #[test]
    fn a_chunk_loses_its_removed_members_and_gains_the_added_in_order() {
        let old = members::encode(&[entry(1), entry(3), entry(5), entry(7)]);
        let removed: HashSet<i64> = [3, 7].into();
        let mut changed = entry(5);
        changed.fingerprint = 1;
        let out = apply(&old, &removed, &[entry(0), entry(4), changed, entry(6)]).unwrap();
        let ids: Vec<(i64, u64)> = members::decode(&out)
            .unwrap()
            .iter()
            .map(|e| (e.profile_id, e.fingerprint))
            .collect();
        // 5 was kept and added: its confirmed record stays.
        assert_eq!(ids, [(0, 0), (1, 7), (4, 28), (5, 35), (6, 42)]);
    }

    #[test]
    fn the_builder_cuts_chunks_by_id_range_and_refuses_disorder() {
        let mut b = ChunkBuilder::default();
        let mut done = Vec::new();
        for id in [1, 2, 9, 30] {
            let record = members::encode(&[entry(id)]);
            done.extend(b.push(id, &record).unwrap());
        }
        done.extend(b.finish());
        let chunks: Vec<(i64, Vec<i64>)> = done
            .iter()
            .map(|(c, blob)| {
                let ids = members::decode(blob)
                    .unwrap()
                    .iter()
                    .map(|e| e.profile_id)
                    .collect();
                (*c, ids)
            })
            .collect();
        assert_eq!(chunks, [(0, vec![1, 2]), (1, vec![9]), (3, vec![30])]);
        let mut b = ChunkBuilder::default();
        b.push(5, &members::encode(&[entry(5)])).unwrap();
        assert!(b.push(4, &members::encode(&[entry(4)])).is_err());
    }
}
