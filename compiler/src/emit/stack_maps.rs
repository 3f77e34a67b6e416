//! The stack-map table of a module's descriptor: every call at which a compiled function has
//! GC references live, sorted by return address, with the frame slots that hold them
//! (`weld_contract::descriptor::VMStackMap`).
//!
//! In: each defined function's stack maps (offsets in the function) and where the function was
//! placed in the module's code. Out: the map and slot tables' bytes, return addresses relative
//! to the module's code, as the runtime's collector reads them.

use crate::codegen::CompiledFunction;
use crate::error::{Error, Result};

/// The stack-map and slot tables, encoded, with their entry counts.
pub struct StackMapTable {
    /// `VMStackMap` entries.
    pub maps: Vec<u8>,
    /// Number of maps.
    pub maps_len: usize,
    /// Slot offsets (`i32` each).
    pub slots: Vec<u8>,
    /// Number of slots.
    pub slots_len: usize,
}

/// Build the table from the defined functions and their offsets in the module's code.
pub fn build(funcs: &[CompiledFunction], placed_at: &[u64]) -> Result<StackMapTable> {
    let too_big = || Error::Limit {
        message: "a module with more than 4 GiB of code or 4 billion stack slots".into(),
    };
    let mut maps: Vec<[u32; 3]> = Vec::new();
    let mut slots: Vec<i32> = Vec::new();
    for (f, at) in funcs.iter().zip(placed_at) {
        for m in &f.stack_maps {
            let ret = u32::try_from(at + u64::from(m.ret)).map_err(|_| too_big())?;
            let start = u32::try_from(slots.len()).map_err(|_| too_big())?;
            slots.extend_from_slice(&m.slots);
            maps.push([ret, start, m.slots.len() as u32]);
        }
    }
    maps.sort_unstable_by_key(|m| m[0]);
    let mut table = StackMapTable {
        maps: Vec::with_capacity(maps.len() * 12),
        maps_len: maps.len(),
        slots: Vec::with_capacity(slots.len() * 4),
        slots_len: slots.len(),
    };
    for m in &maps {
        m.iter().for_each(|w| table.maps.extend(w.to_le_bytes()));
    }
    slots
        .iter()
        .for_each(|s| table.slots.extend(s.to_le_bytes()));
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::StackMap;

    #[test]
    fn maps_are_sorted_by_module_offset_and_point_at_their_slots() {
        let f = |ret, slots: Vec<i32>| CompiledFunction {
            stack_maps: vec![StackMap { ret, slots }],
            ..Default::default()
        };
        let t = build(&[f(4, vec![-8, -16]), f(2, vec![-24])], &[100, 10]).expect("table");
        assert_eq!((t.maps_len, t.slots_len), (2, 3));
        let word = |b: &[u8], i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
        // The second function's map (at 10 + 2) comes first.
        assert_eq!(
            [word(&t.maps, 0), word(&t.maps, 1), word(&t.maps, 2)],
            [12, 2, 1]
        );
        assert_eq!(
            [word(&t.maps, 3), word(&t.maps, 4), word(&t.maps, 5)],
            [104, 0, 2]
        );
        assert_eq!(word(&t.slots, 2) as i32, -24);
    }
}
