//! One component instance's handle table: the Canonical ABI's single `handles` table, holding
//! resource handles, stream and future ends, waitable sets, subtasks and error contexts.
//!
//! In: the entries the built-ins and crossings create. Out: indices core wasm sees, with the
//! spec's allocation order — index 0 is never used, a freed index is reused last-freed first,
//! and no index reaches [`MAX_TABLE_LENGTH`] — so the numbers a component observes are the
//! same as under any other implementation that follows the spec (tests compare them). Kind
//! checks (`trap_if(not isinstance(...))`) are the callers': this file only stores.

use super::concurrency::{End, Subtask, WaitableSet};
use crate::trap::Trap;
use alloc::vec::Vec;
use weld_contract::component::concurrency::MAX_TABLE_LENGTH;
use weld_contract::trap::TrapCode;

/// One resource handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    /// Resource type.
    pub resource: u32,
    /// Representation.
    pub rep: u32,
    /// Own (true) or borrow.
    pub own: bool,
    /// Outstanding loans of an own handle.
    pub lends: u32,
    /// For a borrow: the call that received it and must drop it before it returns (0: the
    /// instance's synchronous calls, counted per instance; else an async task's scope).
    pub scope: u32,
}

/// What a table slot holds.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A resource handle.
    Resource(Handle),
    /// One end of a stream or future.
    End(End),
    /// A waitable set.
    Set(WaitableSet),
    /// A call this instance made with `canon lower async` that had not returned at once.
    Subtask(Subtask),
    /// An error context (the store's id of the immutable value).
    ErrorContext(u32),
    /// A thread (the runtime's id of it), in an instance's thread table: a table of its own,
    /// with the same allocation rules as the handle table.
    Thread(u32),
}

/// One component instance's handles.
#[derive(Clone, Debug, Default)]
pub struct HandleTable {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
}

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

impl HandleTable {
    /// Insert `e`; its index (never 0).
    pub fn add(&mut self, e: Entry) -> Result<u32, Trap> {
        if self.slots.is_empty() {
            self.slots.push(None);
        }
        if let Some(i) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(i as usize) {
                *slot = Some(e);
                return Ok(i);
            }
        }
        if self.slots.len() >= MAX_TABLE_LENGTH as usize {
            return Err(trap(TrapCode::UnknownHandle));
        }
        self.slots.push(Some(e));
        Ok((self.slots.len() - 1) as u32)
    }

    /// The entry at `i` ("unknown handle index" if there is none).
    pub fn get(&self, i: u32) -> Result<&Entry, Trap> {
        self.slots
            .get(i as usize)
            .and_then(Option::as_ref)
            .ok_or(trap(TrapCode::UnknownHandle))
    }

    /// The entry at `i`, mutably.
    pub fn get_mut(&mut self, i: u32) -> Result<&mut Entry, Trap> {
        self.slots
            .get_mut(i as usize)
            .and_then(Option::as_mut)
            .ok_or(trap(TrapCode::UnknownHandle))
    }

    /// Take the entry at `i` out; its index becomes the next one handed out.
    pub fn remove(&mut self, i: u32) -> Result<Entry, Trap> {
        let e = self
            .slots
            .get_mut(i as usize)
            .and_then(Option::take)
            .ok_or(trap(TrapCode::UnknownHandle))?;
        self.free.push(i);
        Ok(e)
    }

    /// The resource handle at `i`, of type `resource`.
    pub fn resource(&self, i: u32, resource: u32) -> Result<Handle, Trap> {
        match self.get(i)? {
            Entry::Resource(h) if h.resource == resource => Ok(*h),
            _ => Err(trap(TrapCode::HandleWrongType)),
        }
    }

    /// The resource handle at `i`, mutably (any resource type).
    pub fn resource_mut(&mut self, i: u32) -> Result<&mut Handle, Trap> {
        match self.get_mut(i)? {
            Entry::Resource(h) => Ok(h),
            _ => Err(trap(TrapCode::HandleWrongType)),
        }
    }

    /// Remove resource handle `i` of `resource` (checking type and loans, not own/borrow).
    pub fn remove_resource(&mut self, i: u32, resource: u32) -> Result<Handle, Trap> {
        let h = self.resource(i, resource)?;
        if h.lends != 0 {
            return Err(trap(TrapCode::OwnedResourceBorrowed));
        }
        self.remove(i)?;
        Ok(h)
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(rep: u32) -> Entry {
        Entry::Resource(Handle {
            resource: 0,
            rep,
            own: true,
            lends: 0,
            scope: 0,
        })
    }

    #[test]
    fn indices_start_at_one_and_the_last_freed_is_reused_first() {
        let mut t = HandleTable::default();
        assert_eq!(t.add(res(10)), Ok(1));
        assert_eq!(t.add(res(11)), Ok(2));
        assert_eq!(t.add(res(12)), Ok(3));
        t.remove(1).unwrap();
        t.remove(3).unwrap();
        assert_eq!(t.add(res(13)), Ok(3));
        assert_eq!(t.add(res(14)), Ok(1));
        assert_eq!(t.add(res(15)), Ok(4));
        assert!(t.get(0).is_err());
    }

    #[test]
    fn a_resource_lookup_of_another_kind_of_entry_is_the_wrong_type() {
        let mut t = HandleTable::default();
        let i = t.add(Entry::ErrorContext(0)).unwrap();
        assert_eq!(
            t.resource(i, 0).map_err(|e| e.code),
            Err(TrapCode::HandleWrongType)
        );
    }
}
