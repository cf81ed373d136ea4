//! Where the status of every signed version of a permit lives (SPEC §2, issue 11): fixed-size
//! shards of 2-bit entries, each published as its own Status List Token, and one row per signed
//! version pointing at its entry.
//!
//! - A new version ([`allocate`]) takes an entry at a random index of the first shard that is
//!   less than 90 % full (herd privacy, as the Token Status List draft advises), opening a new
//!   shard when all are; the shard row is locked while it picks, so two allocations never take
//!   one entry.
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

/// Takes a fresh entry for a new version of permit `permit_id`, with status `status`, in a shard
/// of `shard_entries` entries (for shards opened now); records the version. Returns the entry.
pub async fn allocate(
    txn: &DatabaseTransaction,
    permit_id: i64,
    status: EntryStatus,
    shard_entries: i32,
    now: DateTime<Utc>,
) -> Result<Entry> {
    let shard = match shards::open_with_room(txn).await? {
        Some(shard) => shard,
        None => shards::create(txn, shard_entries, now).await?,
    };
    let shard = shards::lock(txn, shard).await?;
    let size = u32::try_from(shard.size.max(1)).unwrap_or(1);
    let idx = loop {
        let idx = i32::try_from(OsRng.next_u32() % size).unwrap_or(0);
        if !versions::taken(txn, shard.id, idx).await? {
            break idx;
        }
    };
    let entry = Entry {
        shard: shard.id,
        idx,
    };
    versions::insert(txn, permit_id, entry, now).await?;
    shards::take(txn, shard.id).await?;
    set(txn, entry, status, now).await?;
    Ok(entry)
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
