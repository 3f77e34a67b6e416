//! Error contexts: immutable values a component makes (`error-context.new`), passes by copying
//! the handle, reads the message of (`error-context.debug-message`) and drops.
//!
//! In: messages (already decoded from the maker's memory). Out: store-wide ids that table
//! entries refer to, counted so that the message is freed with the last handle.

use alloc::string::String;
use alloc::vec::Vec;

/// One error context.
#[derive(Clone, Debug)]
struct ErrorContext {
    message: String,
    handles: u32,
}

/// The store's error contexts by id.
#[derive(Clone, Debug, Default)]
pub struct ErrorContexts {
    slots: Vec<Option<ErrorContext>>,
    free: Vec<u32>,
}

impl ErrorContexts {
    /// A new error context with one handle; its id.
    pub fn new_context(&mut self, message: String) -> u32 {
        let e = ErrorContext {
            message,
            handles: 1,
        };
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(e);
                id
            }
            None => {
                self.slots.push(Some(e));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The message of `id`.
    pub fn message(&self, id: u32) -> Option<&str> {
        self.slots
            .get(id as usize)
            .and_then(Option::as_ref)
            .map(|e| e.message.as_str())
    }

    /// One more handle refers to `id`.
    pub fn retain(&mut self, id: u32) {
        if let Some(Some(e)) = self.slots.get_mut(id as usize) {
            e.handles = e.handles.saturating_add(1);
        }
    }

    /// One handle of `id` is gone; the context is freed with the last.
    pub fn release(&mut self, id: u32) {
        let Some(Some(e)) = self.slots.get_mut(id as usize) else {
            return;
        };
        e.handles = e.handles.saturating_sub(1);
        if e.handles == 0 {
            self.slots[id as usize] = None;
            self.free.push(id);
        }
    }
}

impl crate::component::resources::ResourceState {
    /// The error context at handle `i` of `inst`'s table.
    pub fn error_context(&mut self, inst: u32, i: u32) -> Result<u32, crate::trap::Trap> {
        match self.inst(inst)?.table.get(i)? {
            crate::component::table::Entry::ErrorContext(id) => Ok(*id),
            _ => Err(crate::trap::Trap::new(
                weld_contract::trap::TrapCode::WrongHandleKind,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorContexts;

    #[test]
    fn a_context_lives_until_its_last_handle_is_released() {
        let mut e = ErrorContexts::default();
        let id = e.new_context("boom".into());
        e.retain(id);
        e.release(id);
        assert_eq!(e.message(id), Some("boom"));
        e.release(id);
        assert_eq!(e.message(id), None);
        assert_eq!(e.new_context("again".into()), id, "ids are reused");
    }
}
