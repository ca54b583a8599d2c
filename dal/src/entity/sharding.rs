//! An entity's shard key, and the check that a shard's `Db` writes only the
//! rows its shard holds (the routing itself is [`Shards`](crate::Shards)).

use super::Entity;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::shard_key::{Place, ShardKey};

/// The shard key of `entity` (its `#[dal(shard_key)]` field), canonical.
pub(crate) fn shard_key_of<E: Entity>(entity: &E) -> Result<ShardKey> {
    let Some(column) = E::__SHARD_KEY else {
        return Err(Error::invalid_input(
            "shard key",
            format!(
                "entity `{}` declares no shard key: mark one field `#[dal(shard_key)]`",
                E::INFO.table
            ),
        ));
    };
    let value = entity
        .__value_of(column)
        .ok_or_else(|| Error::invalid_input("shard key", format!("`{column}` has no value")))?;
    ShardKey::of(&*value)
}

/// Refuse a write of `entity` through `db` when `db` is a shard that does
/// not hold the entity's key, or the key's slot is being moved.
pub(crate) fn check_write<E: Entity>(db: &Db, entity: &E) -> Result<()> {
    if E::__SHARD_KEY.is_none() {
        return Ok(());
    }
    let Some(pin) = db.inner.shard.get() else {
        return Ok(());
    };
    let Some(router) = pin.router.upgrade() else {
        return Ok(());
    };
    let key = shard_key_of(entity)?;
    let holder = match router.place(&key)? {
        Place::Frozen(slot, to) => return Err(Error::ShardMoving { slot, to }),
        Place::Holder(holder) => holder,
    };
    if holder != pin.index {
        return Err(Error::WrongShard {
            message: format!(
                "{} row with key {key} belongs to shard `{}`, not `{}` (a transaction stays on one shard; route writes with `Shards::of`)",
                E::INFO.table,
                router.name(holder),
                router.name(pin.index)
            ),
        });
    }
    Ok(())
}
