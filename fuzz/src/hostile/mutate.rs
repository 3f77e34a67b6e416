//! Damaging inputs: the byte-level mutations of the hostile-input campaign, and the minimiser that
//! shrinks a finding's input while it still gives the same finding.
//!
//! In: an input's bytes, a second input to splice with, a seeded [`Rng`]. Out: the damaged bytes
//! and a short description of what was done (for the finding's report). Everything is a pure
//! function of the seed, so a case replays from its number.

use crate::Rng;

/// One mutation of `bytes` (`other`: a second input, for splices).
pub fn mutate(bytes: &[u8], other: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let mut b = bytes.to_vec();
    let len = b.len().max(1) as u64;
    let at = |rng: &mut Rng| rng.below(len) as usize;
    let what = match rng.below(8) {
        0 => {
            let n = at(rng);
            b.truncate(n);
            format!("truncated to {n} bytes")
        }
        1 => {
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                if !b.is_empty() {
                    let i = at(rng) % b.len();
                    b[i] ^= 1 << rng.below(8);
                }
            }
            format!("{flips} bits flipped")
        }
        2 => {
            // A LEB128 length or index made huge.
            let i = at(rng).min(b.len());
            let end = (i + 4).min(b.len());
            b.splice(i..end, [0xff, 0xff, 0xff, 0x7f]);
            format!("LEB overwritten with ff ff ff 7f at {i}")
        }
        3 if b.len() >= 32 => {
            let (x, y) = (at(rng) % (b.len() - 16), at(rng) % (b.len() - 16));
            let block: Vec<u8> = b[x..x + 16].to_vec();
            let other_block: Vec<u8> = b[y..y + 16].to_vec();
            b[y..y + 16].copy_from_slice(&block);
            b[x..x + 16].copy_from_slice(&other_block);
            format!("16-byte blocks at {x} and {y} swapped")
        }
        4 => {
            let (i, j) = (
                at(rng).min(b.len()),
                rng.below(other.len() as u64 + 1) as usize,
            );
            b.truncate(i);
            b.extend_from_slice(other.get(j..).unwrap_or(&[]));
            format!("spliced: first {i} bytes, then another input from {j}")
        }
        5 => {
            let i = at(rng).min(b.len());
            let n = 1 + rng.below(16) as usize;
            let junk: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            b.splice(i..i, junk);
            format!("{n} random bytes inserted at {i}")
        }
        6 if !b.is_empty() => {
            let i = at(rng) % b.len();
            let n = (1 + rng.below(64) as usize).min(b.len() - i);
            let copy: Vec<u8> = b[i..i + n].to_vec();
            b.splice(i..i, copy);
            format!("{n} bytes at {i} duplicated")
        }
        _ => {
            // Text inputs: a line removed (also works on binary, as a cut at a 0x0a byte).
            let lines: Vec<&[u8]> = bytes.split(|c| *c == b'\n').collect();
            let drop = rng.below(lines.len() as u64) as usize;
            b = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, l)| l.to_vec())
                .collect::<Vec<_>>()
                .join(&b'\n');
            format!("line {drop} removed")
        }
    };
    (what, b)
}

/// A structure-aware change of a core module by `wasm-mutate` (the result is usually still
/// valid, so it reaches code generation); `None` for components and inputs it cannot parse.
pub fn wasm_mutate(bytes: &[u8], rng: &mut Rng) -> Option<(String, Vec<u8>)> {
    let seed = rng.next_u64();
    let mut m = wasm_mutate::WasmMutate::default();
    m.seed(seed).fuel(1000);
    let out = m.run(bytes).ok()?.next()?.ok()?;
    Some((format!("wasm-mutate, seed {seed}"), out))
}

/// Shrink `input` while `still_fails` holds: remove chunks of halving sizes, then truncate.
/// At most `budget` calls of `still_fails`.
pub fn minimise(
    input: &[u8],
    mut budget: u32,
    mut still_fails: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let mut best = input.to_vec();
    let mut chunk = best.len() / 2;
    while chunk > 0 && budget > 0 {
        let mut i = 0;
        while i < best.len() && budget > 0 {
            let end = (i + chunk).min(best.len());
            let mut candidate = best[..i].to_vec();
            candidate.extend_from_slice(&best[end..]);
            budget -= 1;
            if !candidate.is_empty() && still_fails(&candidate) {
                best = candidate;
            } else {
                i += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutation_is_a_function_of_the_seed() {
        let input: Vec<u8> = (0..200u8).collect();
        for seed in 0..200 {
            let a = mutate(&input, b"other", &mut Rng::new(seed));
            let b = mutate(&input, b"other", &mut Rng::new(seed));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn the_minimiser_keeps_only_what_the_failure_needs() {
        let input = b"aaaaaaaaaaXbbbbbbbbbbbbbYcccccccc".to_vec();
        let min = minimise(&input, 1000, |c| c.contains(&b'X') && c.contains(&b'Y'));
        assert_eq!(min, b"XY");
    }
}
