//! Entries placed in bulk, as the allocator ([`super::allocate`]) would place them one by one:
//! shards filled to 90 % at random indices (one random permutation of a shard, rotated per shard
//! so shards do not share one pattern), and the packed 2-bit entries of each shard computed in
//! memory. Shared by `epermit seed` and the status-list benchmark, which both write many
//! versions at once instead of one allocation each.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::{Entry, EntryStatus, shards};
use crate::store::Result;

/// A per-shard rotation of the scatter, so shards do not share one pattern.
pub const SHARD_OFFSET: i64 = 7919;

/// A small deterministic generator (xorshift64*), enough to scatter entries.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Where `versions` new versions go: shards `first_shard..` of `size` entries, each filled to the
/// allocator's 90 % before the next is opened.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The first shard opened.
    pub first_shard: i32,
    /// How many versions are placed.
    pub versions: i64,
    /// Entries per shard.
    pub size: i64,
    /// Entries taken per full shard (90 %, the allocator's threshold).
    pub fill: i64,
    /// A random permutation of `0..size`: where the `j`-th entry taken in a shard lies.
    pub scatter: Vec<i64>,
}

impl Layout {
    /// The layout of `versions` versions in shards of `size` entries from `first_shard` on.
    pub fn new(first_shard: i32, versions: i64, size: i64, rng: &mut Rng) -> Self {
        let size = size.max(4);
        let mut scatter: Vec<i64> = (0..size).collect();
        for i in (1..scatter.len()).rev() {
            scatter.swap(i, rng.below(i as u64 + 1) as usize);
        }
        Layout {
            first_shard,
            versions,
            size,
            fill: (size * 9 / 10).max(1),
            scatter,
        }
    }

    /// How many shards the versions fill.
    pub fn shards(&self) -> i64 {
        (self.versions + self.fill - 1) / self.fill
    }

    /// The entry of version number `k` (0-based): its shard, counted from `first_shard`, and index.
    pub fn entry(&self, k: i64) -> Entry {
        let shard = k / self.fill;
        let j = (k % self.fill + shard * SHARD_OFFSET) % self.size;
        Entry {
            shard: self.first_shard + shard as i32,
            idx: self.scatter[j as usize] as i32,
        }
    }

    /// Entries taken in the `n`-th shard of the layout (0-based).
    pub fn used(&self, n: i64) -> i64 {
        Ord::min(self.fill, self.versions - n * self.fill)
    }

    /// The packed entries of every shard of the layout, each version `k` with its status (entries
    /// not named stay 0, valid, as in a fresh shard).
    pub fn pack(&self, statuses: impl IntoIterator<Item = (i64, EntryStatus)>) -> Vec<Vec<u8>> {
        let bytes = usize::try_from(self.size / 4).unwrap_or(0);
        let mut shards = vec![vec![0u8; bytes]; usize::try_from(self.shards()).unwrap_or(0)];
        for (k, status) in statuses {
            let entry = self.entry(k);
            let shard = (entry.shard - self.first_shard) as usize;
            let idx = entry.idx as usize;
            let (byte, shift) = (idx / 4, (idx % 4) * 2);
            shards[shard][byte] = (shards[shard][byte] & !(3 << shift)) | (status.bits() << shift);
        }
        shards
    }

    /// Writes the shards of the layout with their packed entries `bits` (from [`Layout::pack`]),
    /// stamped with the status sequence `sequence` at `now`: shard 0, which the migration made,
    /// is updated; the others are inserted.
    pub async fn write<C: ConnectionTrait>(
        &self,
        db: &C,
        bits: Vec<Vec<u8>>,
        sequence: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (n, packed) in bits.into_iter().enumerate() {
            let n = n as i64;
            let row = shards::ActiveModel {
                id: Set(self.first_shard + n as i32),
                size: Set(self.size as i32),
                used: Set(self.used(n) as i32),
                bits: Set(packed),
                sequence: Set(sequence),
                changed_at: Set(now.timestamp_micros()),
            };
            if self.first_shard + n as i32 == 0 {
                shards::Entity::update(row).exec(db).await?;
            } else {
                shards::Entity::insert(row)
                    .exec_without_returning(db)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_distinct_and_fill_to_ninety_percent() {
        let layout = Layout::new(3, 250, 100, &mut Rng(42));
        assert_eq!(layout.shards(), 3);
        let entries: std::collections::HashSet<Entry> = (0..250).map(|k| layout.entry(k)).collect();
        assert_eq!(entries.len(), 250, "no two versions share an entry");
        assert!(
            entries
                .iter()
                .all(|e| (3..6).contains(&e.shard) && e.idx < 100)
        );
        assert_eq!(
            [layout.used(0), layout.used(1), layout.used(2)],
            [90, 90, 70]
        );
        let bits = layout.pack([(0, EntryStatus::Suspended), (249, EntryStatus::Invalid)]);
        let get = |k: i64| {
            let e = layout.entry(k);
            let b = bits[(e.shard - 3) as usize][e.idx as usize / 4];
            (b >> ((e.idx % 4) * 2)) & 3
        };
        assert_eq!((get(0), get(249), get(1)), (2, 1, 0));
    }
}
