//! Tags (exception handling): what an exception is thrown with and caught by. A tag is known by
//! its identity, one address (see `weld_contract::vmctx`): for a tag an instance defines, the
//! address of its own slot in that instance's vmctx; importers copy it into their slot. A thrown
//! exception records the identity, and a handler catches it when its tag's identity is the same.

use crate::store::Store;
use weld_contract::info::FuncType;

/// A tag's state: its identity and type (whose parameters are the payload).
#[derive(Debug)]
pub(crate) struct TagData {
    pub(crate) identity: *const u8,
    pub(crate) ty: FuncType,
    /// The canonical id of the type (`crate::types`): imports match on it.
    pub(crate) type_id: u32,
}

/// A handle to a tag of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag(pub(crate) usize);

impl Tag {
    /// The tag's type: its parameters are the payload of the exceptions thrown with it.
    pub fn ty<'s>(&self, store: &'s Store) -> &'s FuncType {
        &store.tags.get(self.0).ty
    }
}
