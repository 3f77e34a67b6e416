//! Where each function starts in `.text`: at its required alignment, or — for a function with
//! small loops — at the 16-byte offset within a 64-byte line that keeps those loops from
//! straddling fetch-window boundaries.
//!
//! Cranelift does not align loop headers, so whether a hot loop of a few instructions fits one
//! 32-byte fetch block (the instruction fetch of AMD Zen and of many Intel cores) and one
//! 64-byte line depends on where its function happens to start. A loop that straddles a
//! boundary needs two fetches per iteration; measured on shootout-sieve, whose inner loop is six
//! instructions, that made the whole program 1.5x slower than the identical machine code placed
//! elsewhere. Function code is position-independent, so moving its start by a multiple of its
//! required alignment (the alignment of its constant pool) changes only where the loops fall.

/// Loops longer than this are left where they fall (they span several windows anyway and run
/// longer per iteration, so a fetch more matters less).
pub const MAX_LOOP: u32 = 128;

/// The offset at which to place a function whose code must be aligned to `align` and whose
/// small loops are `loops` (`(start, end)` offsets in the function, end exclusive), when
/// `.text` is `at` bytes long (`.text` itself is 64-byte aligned). Functions without small
/// loops start at 16-byte boundaries; the others anywhere their own alignment allows within the
/// next 64 bytes, wherever their loops straddle the fewest windows (nearest first).
pub fn place(at: u64, align: u32, loops: &[(u32, u32)]) -> u64 {
    if loops.is_empty() {
        return at.next_multiple_of(u64::from(align.max(16)));
    }
    let step = u64::from(align.max(1));
    let first = at.next_multiple_of(step);
    (0..64u64.div_ceil(step))
        .map(|k| first + step * k)
        .min_by_key(|&start| (cost(start, loops), start))
        .unwrap_or(first)
}

/// How badly `loops` straddle fetch windows if the function starts at `start`: for each loop,
/// the 32-byte blocks and 64-byte lines it touches beyond the fewest it could, weighted by how
/// small (and so, likely, how innermost and hot) the loop is.
fn cost(start: u64, loops: &[(u32, u32)]) -> u32 {
    let spanned = |a: u64, b: u64, w: u64| ((b - 1) / w - a / w + 1) as u32;
    loops
        .iter()
        .filter(|(a, b)| b > a)
        .map(|&(a, b)| {
            let len = u64::from(b - a);
            let weight = match len {
                0..=32 => 4,
                33..=64 => 2,
                _ => 1,
            };
            let (a, b) = (start + u64::from(a), start + u64::from(b));
            let extra = |w: u64| spanned(a, b, w) - len.div_ceil(w) as u32;
            weight * (extra(32) + extra(64))
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
        assert_eq!(place(100, 1, &[]), 112);
        assert_eq!(place(128, 16, &[]), 128);
        assert_eq!(place(100, 64, &[]), 128);
    }

    #[test]
    fn a_loop_straddling_a_fetch_block_is_moved_inside_one() {
        // The sieve's inner loop: 27 bytes at 0xbd of its function. At 0xa0 it would cover
        // 0x15d..0x178, across the 32-byte boundary at 0x160.
        let loops = [(0xbd, 0xd8)];
        assert!(cost(0xa0, &loops) > 0);
        let start = place(0xa0, 1, &loops);
        assert_eq!(cost(start, &loops), 0);
        assert!((0xa0..0xe0).contains(&start));
        // A function whose constants need 16-byte alignment moves in steps of 16.
        let start = place(0xa0, 16, &[(0xb5, 0xcf)]);
        assert_eq!((start % 16, cost(start, &[(0xb5, 0xcf)])), (0, 0));
    }

    #[test]
    fn ties_take_the_nearest_position() {
        // Fits a block where it is: no padding.
        assert_eq!(place(0x30, 1, &[(0, 4)]), 0x30);
        assert_eq!(place(0x31, 16, &[(0, 4)]), 0x40);
    }

    #[test]
    fn loops_come_from_back_edges_only_and_only_small_ones() {
        let starts = [0, 10, 30, 200, 400];
        // 30 -> 10 is a back edge (loop 10..200 is too long); 30 -> 30 a one-block loop
        // (30..200, too long); 400 -> 200: loop 200..code end; 10 -> 30 is forward.
        let edges = [(10, 30), (30, 10), (400, 200), (30, 30)];
        assert_eq!(small_loops(&starts, &edges, 500), vec![]);
        assert_eq!(small_loops(&starts, &edges, 410), vec![]);
        let starts = [0, 10, 30, 200, 230];
        let edges = [(230, 200)];
        assert_eq!(small_loops(&starts, &edges, 250), vec![(200, 250)]);
        let starts = [0, 16, 40];
        assert_eq!(small_loops(&starts, &[(16, 16)], 60), vec![(16, 40)]);
    }
}
