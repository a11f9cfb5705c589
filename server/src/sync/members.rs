//! Audience membership as the sync stores it: per member, the profile id, a fingerprint of its
//! match keys and its identity (the EXTERN_ID), packed into blobs (a batch's members, a chunk of
//! the confirmed membership: `sync::store`).
//!
//! A million members take ~30 MB and load in milliseconds, where a row per member would cost
//! seconds to write on every full sync. The fingerprint is FNV-1a over the stored keys: stable
//! across releases (it is persisted), and it only has to notice that a member's keys changed,
//! not resist an adversary.
//!
//! Each profile also stores its fingerprint (`profiles.key_fingerprint`), so a run reads one
//! number per member and the keys only of the members that joined or changed. A run stores it
//! for the profiles that had none (reading their keys again under a lock), and a trigger clears
//! it whenever a key changes, by any path: a stored fingerprint is never stale, and a missing
//! one (an upgraded database, a profile just written) is computed from the keys.

use crate::engine::Member;
use crate::facebook::hashing::{HashedBatch, MatchKey, hash_rows};

/// One member of an audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub profile_id: i64,
    pub fingerprint: u64,
    pub identity: String,
}

/// Packs entries: per entry `profile_id` (i64 LE), `fingerprint` (u64 LE), identity length (u16
/// LE) and its UTF-8 bytes.
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 32);
    for e in entries {
        encode_into(&mut out, e);
    }
    out
}

/// Appends one entry to a blob, as [`encode`] packs it.
pub fn encode_into(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(&e.profile_id.to_le_bytes());
    out.extend_from_slice(&e.fingerprint.to_le_bytes());
    // Identities are at most 120 characters (upload rule), so this never truncates.
    let id = &e.identity.as_bytes()[..e.identity.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(id.len() as u16).to_le_bytes());
    out.extend_from_slice(id);
}

/// Unpacks [`encode`]'s output; a damaged blob is an error, never a silent partial list.
pub fn decode(blob: &[u8]) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(blob.len() / 32);
    let mut rest = blob;
    while !rest.is_empty() {
        anyhow::ensure!(rest.len() >= 18, "a membership record is cut short");
        let profile_id = i64::from_le_bytes(rest[0..8].try_into()?);
        let fingerprint = u64::from_le_bytes(rest[8..16].try_into()?);
        let len = u16::from_le_bytes(rest[16..18].try_into()?) as usize;
        anyhow::ensure!(rest.len() >= 18 + len, "a membership identity is cut short");
        let identity = std::str::from_utf8(&rest[18..18 + len])?.to_owned();
        out.push(Entry {
            profile_id,
            fingerprint,
            identity,
        });
        rest = &rest[18 + len..];
    }
    Ok(out)
}

/// The records of an [`encode`]d blob as (profile id, the record's bytes), checked as [`decode`]
/// checks them, without unpacking them: the run's finish rebuilds a million-member membership
/// by copying records.
pub fn records(blob: &[u8]) -> anyhow::Result<Vec<(i64, &[u8])>> {
    let mut out = Vec::with_capacity(blob.len() / 32);
    let mut rest = blob;
    while !rest.is_empty() {
        anyhow::ensure!(rest.len() >= 18, "a membership record is cut short");
        let profile_id = i64::from_le_bytes(rest[0..8].try_into()?);
        let len = u16::from_le_bytes(rest[16..18].try_into()?) as usize;
        anyhow::ensure!(rest.len() >= 18 + len, "a membership identity is cut short");
        std::str::from_utf8(&rest[18..18 + len])?;
        let (record, tail) = rest.split_at(18 + len);
        out.push((profile_id, record));
        rest = tail;
    }
    Ok(out)
}

/// FNV-1a over every match key of `m` (with separators, so ("ab","c") ≠ ("a","bc")).
pub fn fingerprint(m: &Member) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h = OFFSET;
    for field in fields(m) {
        for b in field.unwrap_or("").bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

pub fn entry_of(m: &Member) -> Entry {
    Entry {
        profile_id: m.id,
        fingerprint: fingerprint(m),
        identity: m.identity.clone(),
    }
}

/// The multi-key schema of every row the sync adds: the identity as EXTERN_ID (so a member can
/// be removed by it alone) and every key the profile stores.
pub const ADD_SCHEMA: [MatchKey; 14] = [
    MatchKey::ExternId,
    MatchKey::Email,
    MatchKey::Phone,
    MatchKey::Gen,
    MatchKey::Doby,
    MatchKey::Dobm,
    MatchKey::Dobd,
    MatchKey::Ln,
    MatchKey::Fn,
    MatchKey::Ct,
    MatchKey::St,
    MatchKey::Zip,
    MatchKey::Country,
    MatchKey::Madid,
];

/// Removals name members by EXTERN_ID alone, which Facebook accepts for removal: the sync need
/// not keep every member's hashed keys to take them out again.
pub const REMOVE_SCHEMA: [MatchKey; 1] = [MatchKey::ExternId];

/// The 12 key fields of a member (identity, email, phone, first name, last name, gender, date
/// of birth, city, state, zip, country, madid).
fn fields(m: &Member) -> [Option<&str>; 12] {
    [
        Some(m.identity.as_str()),
        m.email.as_deref(),
        m.phone.as_deref(),
        m.first_name.as_deref(),
        m.last_name.as_deref(),
        m.gender.as_deref(),
        m.date_of_birth.as_deref(),
        m.city.as_deref(),
        m.state.as_deref(),
        m.zip.as_deref(),
        m.country.as_deref(),
        m.madid.as_deref(),
    ]
}

/// Members as rows of [`ADD_SCHEMA`], normalised and hashed.
#[cfg(test)]
pub fn add_rows(members: &[Member]) -> HashedBatch {
    let rows: Vec<[&str; 14]> = members.iter().map(|m| add_row(fields(m))).collect();
    hash_rows(&ADD_SCHEMA, &rows)
}

/// The row of [`ADD_SCHEMA`] for one member's fields (in [`fields`]' order).
fn add_row(f: [Option<&str>; 12]) -> [&str; 14] {
    let [
        identity,
        email,
        phone,
        first,
        last,
        gender,
        dob,
        city,
        state,
        zip,
        country,
        madid,
    ] = f.map(|v| v.unwrap_or(""));
    let mut parts = dob.splitn(3, '-');
    let (y, mo, d) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    [
        identity, email, phone, gender, y, mo, d, last, first, city, state, zip, country, madid,
    ]
}

/// Rows of [`ADD_SCHEMA`] for a batch's `entries`, in their order, with the keys of `loaded`
/// (the profiles as read now, ascending by id) and each entry's own identity as EXTERN_ID; an
/// entry whose profile is gone is sent by its EXTERN_ID alone.
pub fn add_rows_for(entries: &[Entry], loaded: &[Member]) -> HashedBatch {
    let rows: Vec<[&str; 14]> = entries
        .iter()
        .map(|e| {
            let mut f = match loaded.binary_search_by_key(&e.profile_id, |m| m.id) {
                Ok(i) => fields(&loaded[i]),
                Err(_) => [None; 12],
            };
            f[0] = Some(e.identity.as_str());
            add_row(f)
        })
        .collect();
    hash_rows(&ADD_SCHEMA, &rows)
}

/// Identities as rows of [`REMOVE_SCHEMA`].
pub fn remove_rows(entries: &[Entry]) -> HashedBatch {
    let rows: Vec<[&str; 1]> = entries.iter().map(|e| [e.identity.as_str()]).collect();
    hash_rows(&REMOVE_SCHEMA, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, email: &str) -> Member {
        Member {
            id,
            identity: format!("u{id}"),
            email: Some(email.into()),
            phone: None,
            first_name: None,
            last_name: None,
            gender: None,
            date_of_birth: Some("1985-03-07".into()),
            city: None,
            state: None,
            zip: None,
            country: None,
            madid: None,
        }
    }

    #[test]
    fn entries_survive_the_blob_and_damage_is_reported() {
        let entries = vec![
            entry_of(&member(1, "a@x.co")),
            entry_of(&member(42, "b@x.co")),
            Entry {
                profile_id: 7,
                fingerprint: u64::MAX,
                identity: "Zoë".into(),
            },
        ];
        let blob = encode(&entries);
        assert_eq!(decode(&blob).unwrap(), entries);
        assert!(decode(&blob[..blob.len() - 1]).is_err());
        assert!(decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn records_rejoin_to_the_same_blob_and_damage_is_reported() {
        let entries = vec![
            entry_of(&member(1, "a@x.co")),
            Entry {
                profile_id: 9,
                fingerprint: 3,
                identity: "Zoë".into(),
            },
        ];
        let blob = encode(&entries);
        let records = records(&blob).unwrap();
        assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 9]);
        assert_eq!(decode(records[1].1).unwrap(), entries[1..]);
        assert!(members_damaged(&blob[..blob.len() - 1]));
        assert!(members_damaged(&blob[..10]));
    }

    fn members_damaged(blob: &[u8]) -> bool {
        records(blob).is_err()
    }

    #[test]
    fn the_fingerprint_changes_with_any_key_and_only_then() {
        let a = member(1, "a@x.co");
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&member(1, "b@x.co")));
        let mut moved = a.clone();
        moved.city = Some("pune".into());
        assert_ne!(fingerprint(&a), fingerprint(&moved));
    }

    #[test]
    fn add_rows_split_the_date_of_birth_and_keep_the_identity_in_clear() {
        let batch = add_rows(&[member(1, "Mary@Example.com")]);
        let row: Vec<&str> = batch.rows().next().unwrap().cells().collect();
        assert_eq!(row[0], "u1");
        assert_eq!(
            row[1],
            "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
        );
        assert_eq!(row[4], crate::facebook::hashing::sha256_hex("1985"));
        assert_eq!(row[5], crate::facebook::hashing::sha256_hex("03"));
        assert_eq!(row[6], crate::facebook::hashing::sha256_hex("07"));
        // A batch's rows: its entries' identities, the keys as read now, a profile gone since
        // the plan by its EXTERN_ID alone.
        let mut other = member(3, "Zoë@Example.com");
        other.city = Some("Pune".into());
        let entries = [
            entry_of(&other),
            entry_of(&member(2, "gone@x.co")),
            Entry {
                identity: "planned".into(),
                ..entry_of(&member(1, "Mary@Example.com"))
            },
        ];
        let batch = add_rows_for(&entries, &[member(1, "Mary@Example.com"), other.clone()]);
        let cells = |b: &HashedBatch| -> Vec<Vec<String>> {
            b.rows()
                .map(|r| r.cells().map(str::to_owned).collect())
                .collect()
        };
        let mut renamed = member(1, "Mary@Example.com");
        renamed.identity = "planned".into();
        let mut gone = cells(&add_rows(&[member(2, "")]));
        gone[0][1] = String::new();
        gone[0][4..7].iter_mut().for_each(String::clear);
        let mut expected = cells(&add_rows(&[other]));
        expected.extend(gone);
        expected.extend(cells(&add_rows(&[renamed])));
        assert_eq!(cells(&batch), expected);
        let removal = remove_rows(&[entry_of(&member(1, "x@y.co"))]);
        assert_eq!(removal.rows().next().unwrap().cell(0), "u1");
    }
}
