//! Where the status of every signed version of a permit lives (SPEC §2, issue 11): fixed-size
//! shards of 2-bit entries, each published as its own Status List Token, and one row per signed
//! version pointing at its entry.
//!
//! - A new version ([`allocate`]) takes an entry at a random index of the first shard that is
//!   less than 90 % full (herd privacy, as the Token Status List draft advises), opening a new
//!   shard when all are. The unique `(shard, idx)` of the version row keeps two allocations off
//!   one entry, so picking locks nothing shared; the shard row is written (its count of entries
//!   taken, and its entries when the new one is not *valid*) only when the allocation is
//!   [settled](Allocation::settle), among the last writes of the transaction, so concurrent
//!   issuances queue on it for a few statements, not for the whole signing.
//! - A status change ([`set`]) rewrites one entry of one shard and stamps the shard with the new
//!   global status sequence (`list_sequences`), so readers reload only the shards that changed.
//! - Shard 0 is the legacy shard (index = permit id, URI `<public url>/sl`), carried over from the
//!   single status list of the first release.

pub mod layout;
pub mod shards;
pub mod versions;

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::{Result, lists};

/// The 2-bit status of an entry (SPEC §2; the draft's values, 3 used for *superseded*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// 0: the version is in force.
    Valid,
    /// 1: revoked.
    Invalid,
    /// 2: suspended.
    Suspended,
    /// 3: a newer version of the permit exists; this one is no longer in force.
    Superseded,
}

impl EntryStatus {
    /// The two bits.
    pub fn bits(self) -> u8 {
        match self {
            EntryStatus::Valid => 0,
            EntryStatus::Invalid => 1,
            EntryStatus::Suspended => 2,
            EntryStatus::Superseded => 3,
        }
    }
}

impl From<super::permits::Status> for EntryStatus {
    fn from(status: super::permits::Status) -> Self {
        match status {
            super::permits::Status::Active => EntryStatus::Valid,
            super::permits::Status::Suspended => EntryStatus::Suspended,
            super::permits::Status::Revoked => EntryStatus::Invalid,
        }
    }
}

/// An entry: a shard and an index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The shard.
    pub shard: i32,
    /// The index within the shard.
    pub idx: i32,
}

/// A fresh entry taken by [`allocate`] and recorded for its version, not yet counted in its
/// shard: [`Allocation::settle`] it in the same transaction, as late as can be.
#[derive(Debug)]
#[must_use = "an allocation is counted in its shard only when settled"]
pub struct Allocation {
    /// The entry.
    pub entry: Entry,
    status: EntryStatus,
}

impl Allocation {
    /// Counts the entry in its shard and gives it its status: the entries of a shard never taken
    /// are 0 (*valid*: a new shard is all zeros, and only [`set`] on an entry taken changes one),
    /// so a valid entry leaves the shard's entries, sequence and change time as they are (the
    /// published list does not change); any other status is [`set`]. Locks the shard row until
    /// the transaction ends.
    pub async fn settle(self, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<Entry> {
        if self.status != EntryStatus::Valid {
            set(txn, self.entry, self.status, now).await?;
        }
        shards::take(txn, self.entry.shard).await?;
        Ok(self.entry)
    }
}

/// How many indexes [`allocate`] draws in a shard before it takes the next: a shard is taken
/// while less than 90 % full, so a draw finds a free entry with a chance of a tenth at least
/// (less the allocations under way at once), and 64 misses in a row (a chance of 0.12 % at most)
/// mean the shard filled meanwhile, or nearly: the next one (or a new one) does as well.
const DRAWS_PER_SHARD: usize = 64;

/// Takes a fresh entry for a new version of permit `permit_id`, to have status `status`, in a
/// shard of `shard_entries` entries (for shards opened now), and records the version: an index
/// drawn at random in the first shard with room until one is free (the version row's unique
/// `(shard, idx)` decides). Nothing shared is locked; [`Allocation::settle`] the result before
/// the commit.
pub async fn allocate(
    txn: &DatabaseTransaction,
    permit_id: i64,
    status: EntryStatus,
    shard_entries: i32,
    now: DateTime<Utc>,
) -> Result<Allocation> {
    let mut after = None;
    loop {
        let (shard, size) = match shards::open_with_room(txn, after).await? {
            Some(open) => open,
            None => shards::create(txn, shard_entries, now).await?,
        };
        let size = u32::try_from(size.max(1)).unwrap_or(1);
        for _ in 0..DRAWS_PER_SHARD {
            let idx = i32::try_from(OsRng.next_u32() % size).unwrap_or(0);
            let entry = Entry { shard, idx };
            if versions::insert_if_free(txn, permit_id, entry, now).await? {
                return Ok(Allocation { entry, status });
            }
        }
        after = Some(shard);
    }
}

/// Sets the status of `entry`: one entry of one shard rewritten, the shard stamped with the new
/// global status sequence and a change time at least a second after its last one (so each
/// content of a shard is signed at its own `iat`).
pub async fn set(
    txn: &DatabaseTransaction,
    entry: Entry,
    status: EntryStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let shard = shards::lock(txn, entry.shard).await?;
    let last_changed = shard.changed();
    let mut bits = shard.bits;
    let idx = usize::try_from(entry.idx).unwrap_or(usize::MAX);
    let (byte, shift) = (idx / 4, (idx % 4) * 2);
    if byte >= bits.len() {
        bits.resize(byte + 1, 0);
    }
    if let Some(b) = bits.get_mut(byte) {
        *b = (*b & !(3 << shift)) | (status.bits() << shift);
    }
    let sequence = lists::bump(txn, lists::ListName::StatusList).await?;
    // At least a second after the last change: the shard is signed at whole seconds, and a
    // verifier takes a list for one URI only with a later `iat` than the one it holds.
    let changed_at = now.max(last_changed + chrono::Duration::seconds(1));
    shards::store_bits(txn, entry.shard, bits, sequence, changed_at).await
}

/// The entry of the current (latest) version of permit `permit_id`, if it has one.
pub async fn current<C: ConnectionTrait>(db: &C, permit_id: i64) -> Result<Option<Entry>> {
    Ok(versions::latest(db, permit_id).await?.map(|v| Entry {
        shard: v.shard,
        idx: v.idx,
    }))
}
