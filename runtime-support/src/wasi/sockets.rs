//! `wasi:sockets` 0.2: present so that components importing it link, refusing everything.
use super::table::Registrar;

/// Register `wasi:sockets`.
pub(crate) fn register(_reg: &mut Registrar<'_>) {}
