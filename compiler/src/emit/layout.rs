//! Where each function starts in `.text`: at its required alignment, or — for a function with
//! small loops — at the 16-byte offset within a 64-byte line that keeps those loops from
//! straddling fetch-window boundaries.
//!
//! Cranelift does not align loop headers, so whether a hot loop of a few instructions fits one
//! 64-byte (AMD, recent Intel) or 32-byte (older Intel) fetch window depends on where its
//! function happens to start. A loop that straddles a boundary needs two fetch windows per
//! iteration; measured on shootout-sieve, whose inner loop is six instructions, that made the
//! whole program 1.5x slower than the identical machine code placed elsewhere. Function code is
//! position-independent within the function, so moving the start by a multiple of 16 keeps
//! every internal alignment Cranelift relies on and changes only where the loops fall.

/// Loops longer than this cannot fit one 64-byte window whatever the placement.
pub const MAX_LOOP: u32 = 64;

/// The offset at which to place a function whose code must be aligned to `align` and whose
/// small loops are `loops` (`(start, end)` offsets in the function, end exclusive), when
/// `.text` is `at` bytes long (`.text` itself is 64-byte aligned).
pub fn place(at: u64, align: u32, loops: &[(u32, u32)]) -> u64 {
    let align = u64::from(align.max(16));
    let natural = at.next_multiple_of(align);
    if loops.is_empty() || align > 16 {
        return natural;
    }
    // Candidates: the next four 16-byte-aligned positions, one per offset within a 64-byte
    // line; the cheapest wins, ties going to the nearest (least padding).
    (0..4)
        .map(|k| natural + 16 * k)
        .min_by_key(|&start| (cost(start, loops), start))
        .unwrap_or(natural)
}

/// How badly `loops` straddle fetch windows if the function starts at `start`: two per
/// crossed 64-byte boundary, one per crossed 32-byte boundary.
fn cost(start: u64, loops: &[(u32, u32)]) -> u32 {
    let crosses = |a: u64, b: u64, w: u64| u32::from(a / w != (b - 1) / w);
    loops
        .iter()
        .filter(|(a, b)| b > a)
        .map(|&(a, b)| {
            let (a, b) = (start + u64::from(a), start + u64::from(b));
            2 * crosses(a, b, 64) + crosses(a, b, 32)
        })
        .sum()
}

/// The small loops of a function from Cranelift's block layout: for each back edge
/// `(from, to)` (block start offsets, `to <= from`), the span from the loop header `to` to the
/// end of the block holding the branch, if at most [`MAX_LOOP`] bytes.
pub fn small_loops(bb_starts: &[u32], bb_edges: &[(u32, u32)], code_len: u32) -> Vec<(u32, u32)> {
    let block_end = |from: u32| {
        bb_starts
            .iter()
            .copied()
            .find(|&s| s > from)
            .unwrap_or(code_len)
    };
    let mut loops: Vec<(u32, u32)> = bb_edges
        .iter()
        .filter(|(from, to)| to <= from)
        .map(|&(from, to)| (to, block_end(from)))
        .filter(|(a, b)| b > a && b - a <= MAX_LOOP)
        .collect();
    loops.sort_unstable();
    loops.dedup();
    loops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_without_loops_goes_at_its_natural_alignment() {
        assert_eq!(place(100, 16, &[]), 112);
        assert_eq!(place(128, 16, &[]), 128);
        assert_eq!(place(100, 64, &[(0, 8)]), 128);
    }

    #[test]
    fn a_loop_straddling_a_line_is_moved_inside_one() {
        // The sieve's inner loop: 26 bytes at 0xb5 of its function. At 0x40 it would cover
        // 0xf5..0x10f, across the 0x100 boundary.
        let loops = [(0xb5, 0xcf)];
        assert!(cost(0x40, &loops) > 0);
        let start = place(0x40, 16, &loops);
        assert_eq!(cost(start, &loops), 0);
        assert!((0x40..0x80).contains(&start) && start.is_multiple_of(16));
    }

    #[test]
    fn ties_take_the_nearest_position() {
        // Fits a window at every candidate: no padding beyond the natural alignment.
        assert_eq!(place(0x30, 16, &[(0, 4)]), 0x30);
    }

    #[test]
    fn loops_come_from_back_edges_only_and_only_small_ones() {
        let starts = [0, 10, 30, 200, 300];
        // 30 -> 10 is a back edge (loop 10..200 is too long); 30 -> 30 a one-block loop
        // (30..200, too long); 300 -> 200: loop 200..code end; 10 -> 30 is forward.
        let edges = [(10, 30), (30, 10), (300, 200), (30, 30)];
        assert_eq!(small_loops(&starts, &edges, 320), vec![]);
        assert_eq!(small_loops(&starts, &edges, 310), vec![]);
        let starts = [0, 10, 30, 200, 230];
        let edges = [(230, 200)];
        assert_eq!(small_loops(&starts, &edges, 250), vec![(200, 250)]);
        let starts = [0, 16, 40];
        assert_eq!(small_loops(&starts, &[(16, 16)], 60), vec![(16, 40)]);
    }
}
