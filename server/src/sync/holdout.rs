//! The campaign's holdout in the sync (`shared::holdout`): the segment's members whose
//! (campaign, identity) hash falls in the holdout are taken out of what is sent, and the run
//! records who they were, so the stats can measure the same conversions for them.

use shared::holdout::in_holdout;

use super::members::{self, Entry};
use crate::db::{Db, with_pool};

/// What the holdout takes out of a run's diff.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// The segment's members to keep in (or bring into) the audience.
    pub members: Vec<Entry>,
    pub joined: Vec<Entry>,
    pub changed_old: Vec<Entry>,
    pub changed_new: Vec<Entry>,
    /// Additional removals: members Facebook holds who are now in the holdout (the percentage
    /// was raised), by their confirmed entry.
    pub newly_held: Vec<Entry>,
    /// The segment's members in the holdout, ascending by profile id.
    pub held_out: Vec<Entry>,
}

/// Splits a run's diff by the holdout of `percent` % of campaign `campaign_id`.
///
/// Every member of `members` (the segment, ascending by profile id) is either in `joined`, in
/// `changed_new` (its old entry at the same index of `changed_old`), or unchanged and already
/// in the audience. A held-out member is then dropped from the additions; one already in the
/// audience is removed (unchanged: by its confirmed entry; changed: by its old one). The
/// identity decides, as it is now.
pub fn split(
    campaign_id: i64,
    percent: u8,
    members: Vec<Entry>,
    joined: Vec<Entry>,
    changed_old: Vec<Entry>,
    changed_new: Vec<Entry>,
) -> Split {
    split_by(members, joined, changed_old, changed_new, |e| {
        in_holdout(campaign_id, &e.identity, percent)
    })
}

/// Splits a run's diff by `held`, as [`split`] does for the holdout: the ads consent filter
/// (`sync::consent`) takes people out of what is sent the same way.
pub fn split_by(
    members: Vec<Entry>,
    joined: Vec<Entry>,
    changed_old: Vec<Entry>,
    changed_new: Vec<Entry>,
    held: impl Fn(&Entry) -> bool,
) -> Split {
    let mut out = Split::default();
    let mut not_confirmed: std::collections::HashSet<i64> =
        joined.iter().map(|e| e.profile_id).collect();
    for e in joined {
        if !held(&e) {
            out.joined.push(e);
        }
    }
    for (old, new) in changed_old.into_iter().zip(changed_new) {
        if held(&new) {
            out.newly_held.push(old);
            not_confirmed.insert(new.profile_id);
        } else {
            out.changed_old.push(old);
            out.changed_new.push(new);
        }
    }
    for e in members {
        if held(&e) {
            if !not_confirmed.contains(&e.profile_id) {
                out.newly_held.push(e.clone());
            }
            out.held_out.push(e);
        } else {
            out.members.push(e);
        }
    }
    out.newly_held.sort_by_key(|e| e.profile_id);
    out
}

/// Records who run `run_id` held out (replacing what a crashed attempt at the same instant
/// recorded); with `None` the run held nobody out.
pub async fn save(db: &Db, run_id: i64, held_out: Option<&[Entry]>) -> anyhow::Result<()> {
    let blob = held_out.map(members::encode);
    let count = held_out.map(|h| h.len() as i64);
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("delete from sync_holdouts where run_id = $1")
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        if let Some(blob) = &blob {
            sqlx::query("insert into sync_holdouts (run_id, members) values ($1, $2)")
                .bind(run_id)
                .bind(blob)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("update sync_runs set held_out = $1 where id = $2")
            .bind(count)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Records how many people dry run `run_id` would hold out (who they are is not kept: nothing
/// was sent, so there is nothing to measure).
pub async fn save_count(db: &Db, run_id: i64, count: usize) -> anyhow::Result<()> {
    with_pool!(db, pool => {
        sqlx::query("update sync_runs set held_out = $1 where id = $2")
            .bind(count as i64)
            .bind(run_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, identity: &str, fingerprint: u64) -> Entry {
        Entry {
            profile_id: id,
            fingerprint,
            identity: identity.into(),
        }
    }

    #[test]
    fn held_out_members_are_neither_added_nor_kept() {
        // Campaign 7 at 85 %: "alice" (bucket 88) stays in, "bob" (bucket 81) is held out
        // (buckets from shared::holdout's pinned figures).
        let (alice, bob) = ("alice", "bob");
        // bob unchanged and confirmed; alice joined.
        let s = split(
            7,
            85,
            vec![entry(1, bob, 5), entry(2, alice, 6)],
            vec![entry(2, alice, 6)],
            vec![],
            vec![],
        );
        assert_eq!(s.members, vec![entry(2, alice, 6)]);
        assert_eq!(s.joined, vec![entry(2, alice, 6)]);
        assert_eq!(s.held_out, vec![entry(1, bob, 5)]);
        assert_eq!(
            s.newly_held,
            vec![entry(1, bob, 5)],
            "removed from Facebook"
        );
        // bob joins: held out, never added, nothing to remove.
        let s = split(
            7,
            85,
            vec![entry(1, bob, 5)],
            vec![entry(1, bob, 5)],
            vec![],
            vec![],
        );
        assert!(s.joined.is_empty() && s.newly_held.is_empty() && s.members.is_empty());
        assert_eq!(s.held_out.len(), 1);
        // bob's keys changed while confirmed: removed by the old entry, not added again.
        let s = split(
            7,
            85,
            vec![entry(1, bob, 9)],
            vec![],
            vec![entry(1, bob, 5)],
            vec![entry(1, bob, 9)],
        );
        assert!(s.changed_new.is_empty() && s.changed_old.is_empty());
        assert_eq!(s.newly_held, vec![entry(1, bob, 5)]);
        // Below bob's bucket nobody here is held out: the diff is unchanged.
        let s = split(
            7,
            81,
            vec![entry(1, bob, 9)],
            vec![],
            vec![entry(1, bob, 5)],
            vec![entry(1, bob, 9)],
        );
        assert_eq!(s.changed_new, vec![entry(1, bob, 9)]);
        assert!(s.held_out.is_empty() && s.newly_held.is_empty());
    }
}
