//! [`Trap`]: why a call into wasm stopped, as returned to the embedder. Its `Display` is the
//! spec's `assert_trap` text.

use weld_contract::trap::TrapCode;

/// A wasm trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub code: TrapCode,
}

impl Trap {
    /// A trap with `code`.
    pub fn new(code: TrapCode) -> Trap {
        Trap { code }
    }
}

impl core::fmt::Display for Trap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.code.message())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Trap {}
