//! [`ShardKey`] (a key's canonical form and hash slot), [`ShardMap`]
//! (which shard holds which keys), and what a shard's [`Db`](crate::Db)
//! keeps of its shard set ([`Pin`]) so its writes can be checked. Below
//! `db` and `entity`; [`Shards`](crate::Shards) builds on it.

use std::cmp::Ordering;

use dal_schema::Dialect;
use serde::{Deserialize, Serialize};

use crate::codec::{ArgsInner, Arguments, Encode, SqliteArg};
use crate::error::{Error, Result};

/// A shard key in its canonical form: what a row is routed by.
///
/// Made from any value dal can bind ([`ShardKey::of`]): integers of every
/// width become [`ShardKey::Int`] (so `5_i32` and `5_i64` are the same key),
/// strings [`ShardKey::Text`], UUIDs and byte strings [`ShardKey::Bytes`]
/// (a UUID as its 16 bytes). NULL, booleans, floats and other kinds cannot
/// be keys. An entity's key and a key given to [`Shards::for_key`](crate::Shards::for_key)
/// go through the same conversion, so they always agree.
///
/// ```
/// use dal::ShardKey;
/// assert_eq!(ShardKey::of(&5_i32)?, ShardKey::of(&5_i64)?);
/// assert_eq!(ShardKey::of("acme")?, ShardKey::Text("acme".into()));
/// assert!(ShardKey::of(&1.5_f64).is_err());
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardKey {
    /// An integer key.
    Int(i64),
    /// A text key (compared by code point, hashed as UTF-8).
    Text(String),
    /// A binary key (a UUID is its 16 bytes).
    Bytes(Vec<u8>),
}

impl ShardKey {
    /// The canonical key of a value: `Err(`[`Error::InvalidInput`]`)` for a
    /// value that cannot route rows (NULL, a boolean, a float, a JSON
    /// document, a date).
    pub fn of<T: Encode + ?Sized>(value: &T) -> Result<ShardKey> {
        let mut args =
            Arguments::from_inner(ArgsInner::Scalar(Dialect::Sqlite, Vec::with_capacity(1)));
        value.encode(&mut args)?;
        use crate::codec::SqlKind as K;
        let kind = args.single_kind();
        let scalar = args.sqlite_args().and_then(|a| a.first());
        let wrong = |what: &str| {
            Error::invalid_input(
                "shard key",
                format!("{what} cannot route rows: a shard key is an integer, a string or a UUID"),
            )
        };
        match (scalar, kind) {
            (Some(SqliteArg::Integer(i)), Some(K::SmallInt | K::Int | K::BigInt)) => {
                Ok(ShardKey::Int(*i))
            }
            (Some(SqliteArg::Text(t)), Some(K::Text)) => Ok(ShardKey::Text(t.to_string())),
            (Some(SqliteArg::Text(t)), Some(K::Uuid)) => match uuid::Uuid::parse_str(t) {
                Ok(u) => Ok(ShardKey::Bytes(u.as_bytes().to_vec())),
                Err(_) => Err(wrong("a malformed UUID")),
            },
            (Some(SqliteArg::Blob(b)), Some(K::Bytes | K::Uuid)) => Ok(ShardKey::Bytes(b.to_vec())),
            (Some(SqliteArg::Null), _) | (None, _) => Err(wrong("NULL")),
            (_, Some(K::Bool)) => Err(wrong("a boolean")),
            (_, Some(K::Float | K::Double)) => Err(wrong("a float")),
            (_, Some(k)) => Err(wrong(&format!("a value of kind {k:?}"))),
            (_, None) => Err(wrong("a value of unknown kind")),
        }
    }

    /// The key's bytes as hashed: an integer's decimal digits (with `-`),
    /// a text's UTF-8, a binary key's bytes.
    pub fn canonical_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            ShardKey::Int(i) => std::borrow::Cow::Owned(i.to_string().into_bytes()),
            ShardKey::Text(t) => std::borrow::Cow::Borrowed(t.as_bytes()),
            ShardKey::Bytes(b) => std::borrow::Cow::Borrowed(b),
        }
    }

    /// The key's hash slot among `slots`: the first 8 bytes of the SHA-256
    /// of [`canonical_bytes`](ShardKey::canonical_bytes), read big-endian,
    /// modulo `slots` (stable across versions, platforms and languages).
    ///
    /// ```
    /// let k = dal::ShardKey::Int(42);
    /// assert!(k.slot(1024) < 1024);
    /// assert_eq!(k.slot(1024), dal::ShardKey::of(&42_u16).unwrap().slot(1024));
    /// ```
    pub fn slot(&self, slots: u32) -> u32 {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.canonical_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(slots.max(1))) as u32
    }

    /// Order within one kind (integers by value, text by code point, bytes
    /// lexicographically); `None` across kinds.
    pub(crate) fn compare(&self, other: &ShardKey) -> Option<Ordering> {
        match (self, other) {
            (ShardKey::Int(a), ShardKey::Int(b)) => Some(a.cmp(b)),
            (ShardKey::Text(a), ShardKey::Text(b)) => Some(a.cmp(b)),
            (ShardKey::Bytes(a), ShardKey::Bytes(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ShardKey::Int(_) => "an integer",
            ShardKey::Text(_) => "a text",
            ShardKey::Bytes(_) => "a binary (UUID)",
        }
    }
}

impl std::fmt::Display for ShardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShardKey::Int(i) => write!(f, "{i}"),
            ShardKey::Text(t) => write!(f, "{t:?}"),
            ShardKey::Bytes(b) if b.len() == 16 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(b);
                write!(f, "{}", uuid::Uuid::from_bytes(u))
            }
            ShardKey::Bytes(b) => {
                f.write_str("0x")?;
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Slots `from..to` (end excluded) held by one shard, in a hash map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRange {
    /// First slot.
    pub from: u32,
    /// One past the last slot.
    pub to: u32,
    /// The shard's name.
    pub shard: String,
}

/// Keys from `from` (included) up to the next range's start, held by one
/// shard, in a range map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRange {
    /// The range's first key.
    pub from: ShardKey,
    /// The shard's name.
    pub shard: String,
}

/// How keys are laid out over the shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layout {
    /// A fixed number of hash slots ([`ShardKey::slot`]), each held by one
    /// shard. The slot count never changes; moving slots moves keys.
    Hash {
        /// How many slots.
        slots: u32,
        /// Which shard holds which slots (every slot exactly once).
        ranges: Vec<SlotRange>,
    },
    /// Ranges of keys, sorted by their first key; a key below the first
    /// range has no shard.
    Range {
        /// The ranges.
        ranges: Vec<KeyRange>,
    },
}

/// Which shard holds which keys: a fixed number of hash slots, or key
/// ranges. Versioned (each change makes the next version) and
/// serializable with serde, so applications keep it where their
/// configuration lives.
///
/// ```
/// use dal::ShardMap;
/// let map = ShardMap::hash(1024, &["eu", "us"])?;
/// assert_eq!(map.shard_of_slot(0), Some("eu"));
/// assert_eq!(map.shard_of_slot(1023), Some("us"));
/// // move slots 1000..1024 to a third shard: a new version of the map
/// let next = map.with_slots(1000..1024, "ap")?;
/// assert_eq!(next.version(), map.version() + 1);
/// assert_eq!(next.shard_of_slot(1010), Some("ap"));
///
/// let by_range = ShardMap::ranges(vec![(0_i64.into(), "old"), (1_000_000_i64.into(), "new")])?;
/// assert_eq!(by_range.shard_of_key(&dal::ShardKey::Int(5)), Some("old"));
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMap {
    version: u64,
    layout: Layout,
}

impl From<i64> for ShardKey {
    fn from(v: i64) -> Self {
        ShardKey::Int(v)
    }
}

impl From<&str> for ShardKey {
    fn from(v: &str) -> Self {
        ShardKey::Text(v.to_string())
    }
}

impl From<String> for ShardKey {
    fn from(v: String) -> Self {
        ShardKey::Text(v)
    }
}

impl From<uuid::Uuid> for ShardKey {
    fn from(v: uuid::Uuid) -> Self {
        ShardKey::Bytes(v.as_bytes().to_vec())
    }
}

impl ShardMap {
    /// `slots` hash slots split evenly, in order, over `shards` (the first
    /// shard takes the first slots; earlier shards take one more when the
    /// division leaves a remainder). Version 1.
    pub fn hash(slots: u32, shards: &[&str]) -> Result<ShardMap> {
        if shards.is_empty() {
            return Err(Error::invalid_input(
                "shard map",
                "no shards to hold the slots",
            ));
        }
        if slots < shards.len() as u32 {
            return Err(Error::invalid_input(
                "shard map",
                format!(
                    "{slots} slots cannot be split over {} shards: give each shard at least one",
                    shards.len()
                ),
            ));
        }
        let n = shards.len() as u32;
        let (each, extra) = (slots / n, slots % n);
        let mut from = 0;
        let mut ranges = Vec::new();
        for (i, s) in shards.iter().enumerate() {
            let take = each + u32::from((i as u32) < extra);
            ranges.push(SlotRange {
                from,
                to: from + take,
                shard: (*s).to_string(),
            });
            from += take;
        }
        ShardMap::from_layout(1, Layout::Hash { slots, ranges })
    }

    /// Key ranges: each `(first key, shard)` holds the keys from its first
    /// key up to the next one's. Sorted here; all keys of one kind. Version 1.
    pub fn ranges(starts: Vec<(ShardKey, &str)>) -> Result<ShardMap> {
        let ranges = starts
            .into_iter()
            .map(|(from, s)| KeyRange {
                from,
                shard: s.to_string(),
            })
            .collect();
        ShardMap::from_layout(1, Layout::Range { ranges })
    }

    /// A map of this version and layout, checked (what a map read back with
    /// serde goes through too: see [`check`](ShardMap::check)).
    pub fn from_layout(version: u64, layout: Layout) -> Result<ShardMap> {
        let mut map = ShardMap { version, layout };
        if let Layout::Range { ranges } = &mut map.layout {
            ranges.sort_by(|a, b| a.from.compare(&b.from).unwrap_or(Ordering::Equal));
        }
        map.check()?;
        Ok(map)
    }

    /// Check the layout: a hash map's ranges cover every slot exactly once,
    /// a range map's first keys are of one kind and distinct.
    pub fn check(&self) -> Result<()> {
        let bad = |why: String| Err(Error::invalid_input("shard map", why));
        match &self.layout {
            Layout::Hash { slots, ranges } => {
                if *slots == 0 {
                    return bad("a hash map needs at least one slot".into());
                }
                let mut sorted: Vec<&SlotRange> = ranges.iter().collect();
                sorted.sort_by_key(|r| r.from);
                let mut next = 0;
                for r in sorted {
                    if r.from != next || r.to <= r.from {
                        return bad(format!(
                            "slot ranges must cover 0..{slots} once each, in non-empty ranges; found {}..{} after slot {next}",
                            r.from, r.to
                        ));
                    }
                    next = r.to;
                }
                if next != *slots {
                    return bad(format!("slots {next}..{slots} belong to no shard"));
                }
            }
            Layout::Range { ranges } => {
                if ranges.is_empty() {
                    return bad("a range map needs at least one range".into());
                }
                for w in ranges.windows(2) {
                    match w[0].from.compare(&w[1].from) {
                        None => {
                            return bad(format!(
                                "range starts mix kinds: {} is {} key, {} is {} key",
                                w[0].from,
                                w[0].from.kind(),
                                w[1].from,
                                w[1].from.kind()
                            ));
                        }
                        Some(Ordering::Equal) => {
                            return bad(format!("two ranges start at {}", w[0].from));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The map's version (1 when made; each change adds one).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The number of hash slots (`None` for a range map).
    pub fn slots(&self) -> Option<u32> {
        match &self.layout {
            Layout::Hash { slots, .. } => Some(*slots),
            Layout::Range { .. } => None,
        }
    }

    /// The shard holding hash slot `slot` (`None` for a range map or a slot
    /// out of range).
    pub fn shard_of_slot(&self, slot: u32) -> Option<&str> {
        match &self.layout {
            Layout::Hash { ranges, .. } => ranges
                .iter()
                .find(|r| r.from <= slot && slot < r.to)
                .map(|r| r.shard.as_str()),
            Layout::Range { .. } => None,
        }
    }

    /// The shard holding `key` (`None` when no range holds it, or the key
    /// is of another kind than the ranges').
    pub fn shard_of_key(&self, key: &ShardKey) -> Option<&str> {
        match &self.layout {
            Layout::Hash { slots, .. } => self.shard_of_slot(key.slot(*slots)),
            Layout::Range { ranges } => {
                let mut found = None;
                for r in ranges {
                    match key.compare(&r.from) {
                        Some(Ordering::Less) => break,
                        Some(_) => found = Some(r.shard.as_str()),
                        None => return None,
                    }
                }
                found
            }
        }
    }

    /// The shards the map names, in the order they first appear.
    pub fn shard_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let names: Vec<&str> = match &self.layout {
            Layout::Hash { ranges, .. } => ranges.iter().map(|r| r.shard.as_str()).collect(),
            Layout::Range { ranges } => ranges.iter().map(|r| r.shard.as_str()).collect(),
        };
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// The hash slots `shard` holds.
    pub fn slots_of(&self, shard: &str) -> Vec<u32> {
        match &self.layout {
            Layout::Hash { ranges, .. } => ranges
                .iter()
                .filter(|r| r.shard == shard)
                .flat_map(|r| r.from..r.to)
                .collect(),
            Layout::Range { .. } => Vec::new(),
        }
    }

    /// The next version of this hash map, with `slots` held by `shard`
    /// (the step that switches slots after a move: see
    /// [`Shards::begin_move`](crate::Shards::begin_move)).
    pub fn with_slots(&self, slots: std::ops::Range<u32>, shard: &str) -> Result<ShardMap> {
        let Layout::Hash {
            slots: total,
            ranges,
        } = &self.layout
        else {
            return Err(Error::invalid_input(
                "shard map",
                "slots belong to hash maps; this map is by key ranges",
            ));
        };
        if slots.start >= slots.end || slots.end > *total {
            return Err(Error::invalid_input(
                "slots",
                format!(
                    "{}..{} is not a non-empty range of this map's 0..{total} slots",
                    slots.start, slots.end
                ),
            ));
        }
        let mut owner: Vec<&str> = vec![""; *total as usize];
        for r in ranges {
            for s in r.from..r.to {
                owner[s as usize] = &r.shard;
            }
        }
        for s in slots {
            owner[s as usize] = shard;
        }
        let mut out: Vec<SlotRange> = Vec::new();
        for (i, o) in owner.iter().enumerate() {
            match out.last_mut() {
                Some(last) if last.shard == *o => last.to = i as u32 + 1,
                _ => out.push(SlotRange {
                    from: i as u32,
                    to: i as u32 + 1,
                    shard: (*o).to_string(),
                }),
            }
        }
        ShardMap::from_layout(
            self.version + 1,
            Layout::Hash {
                slots: *total,
                ranges: out,
            },
        )
    }
}

/// Where a shard set puts a key, read from one snapshot of its map.
pub(crate) enum Place {
    /// The index of the shard holding the key.
    Holder(usize),
    /// A slot move freezes the key's slot (the slot, and the shard it moves to).
    Frozen(u32, String),
}

/// What a shard set answers about a key: where it is ([`Place`]), and its
/// shards' names.
pub(crate) trait Router: Send + Sync {
    /// Which shard holds `key`, or the move that freezes it.
    fn place(&self, key: &ShardKey) -> Result<Place>;
    /// The name of shard `index`.
    fn name(&self, index: usize) -> String;
}

/// A shard's place in its shard set (kept in the shard's `DbInner`).
pub(crate) struct Pin {
    pub(crate) router: std::sync::Weak<dyn Router>,
    pub(crate) index: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_maps_cover_every_slot_and_split_evenly() {
        let m = ShardMap::hash(10, &["a", "b", "c"]).unwrap();
        assert_eq!(m.slots_of("a"), vec![0, 1, 2, 3]);
        assert_eq!(m.slots_of("b"), vec![4, 5, 6]);
        assert_eq!(m.slots_of("c"), vec![7, 8, 9]);
        assert!(ShardMap::hash(2, &["a", "b", "c"]).is_err());
        assert!(ShardMap::hash(8, &[]).is_err());
        let gap = Layout::Hash {
            slots: 4,
            ranges: vec![SlotRange {
                from: 0,
                to: 3,
                shard: "a".into(),
            }],
        };
        let e = ShardMap::from_layout(1, gap).unwrap_err().to_string();
        assert!(e.contains("slots 3..4 belong to no shard"), "{e}");
    }

    #[test]
    fn moving_slots_makes_the_next_version() {
        let m = ShardMap::hash(8, &["a", "b"]).unwrap();
        let n = m.with_slots(2..4, "c").unwrap();
        assert_eq!(n.version(), 2);
        assert_eq!(n.slots_of("a"), vec![0, 1]);
        assert_eq!(n.slots_of("c"), vec![2, 3]);
        assert_eq!(n.shard_names(), vec!["a", "c", "b"]);
        assert!(m.with_slots(7..9, "c").is_err());
        let json = serde_json::to_string(&n).unwrap();
        let back: ShardMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn range_maps_route_by_the_last_start_at_or_below_the_key() {
        let m = ShardMap::ranges(vec![(ShardKey::Int(100), "b"), (ShardKey::Int(0), "a")]).unwrap();
        assert_eq!(m.shard_of_key(&ShardKey::Int(-1)), None);
        assert_eq!(m.shard_of_key(&ShardKey::Int(0)), Some("a"));
        assert_eq!(m.shard_of_key(&ShardKey::Int(99)), Some("a"));
        assert_eq!(m.shard_of_key(&ShardKey::Int(100)), Some("b"));
        assert_eq!(m.shard_of_key(&ShardKey::Text("x".into())), None);
        let mixed = ShardMap::ranges(vec![(ShardKey::Int(0), "a"), ("m".into(), "b")]);
        assert!(mixed.unwrap_err().to_string().contains("mix kinds"));
    }

    #[test]
    fn keys_are_canonical_and_slots_stable() {
        assert_eq!(ShardKey::of(&7_i8).unwrap(), ShardKey::Int(7));
        assert_eq!(ShardKey::of(&7_u32).unwrap(), ShardKey::Int(7));
        assert_eq!(
            ShardKey::of(&String::from("t")).unwrap(),
            ShardKey::Text("t".into())
        );
        let u = uuid::Uuid::from_u128(0x1234);
        assert_eq!(ShardKey::of(&u).unwrap(), ShardKey::from(u));
        assert!(ShardKey::of(&true).is_err());
        assert!(ShardKey::of(&Option::<i64>::None).is_err());
        // SHA-256("42") begins 73475cb40a568e8d: fixed forever
        assert_eq!(
            ShardKey::Int(42).slot(u32::MAX),
            (0x73475cb40a568e8d_u64 % u64::from(u32::MAX)) as u32
        );
    }
}
