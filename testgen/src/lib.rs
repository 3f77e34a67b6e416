//! `weld-testgen`: test generators shared by weld's test drivers (the normal test suite runs a bounded number of
//! cases; long runs use the same code with other seeds).
//!
//! [`roundtrip`] builds random interface types, a composed component that sends a value of
//! such a type from the host through a caller component into a callee component and back (each
//! side with its own memory, allocator and string encoding), and random values of the type. The
//! oracle is identity: what comes back must equal what went in.

pub mod roundtrip;

/// A small deterministic PRNG (xorshift64*), so every case is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}
