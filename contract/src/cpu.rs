//! CPU features compiled code may require beyond its target's baseline, as bits of a module
//! descriptor's `flags`: the compiler sets the bits of the features it let Cranelift use
//! (`weld compile --cpu`), the runtime refuses to load a module whose bits name a feature the
//! CPU it runs on lacks — a clear error instead of an illegal instruction.
//!
//! The x86-64 baseline is x86-64-v2 (SSE4.2, POPCNT): no bits. Other architectures have no
//! optional features here.

/// One optional CPU feature: its descriptor bit, Cranelift's setting and its common name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuFeature {
    /// Bit in the descriptor's `flags`.
    pub flag: u32,
    /// The Cranelift x64 setting that enables it.
    pub setting: &'static str,
    /// Its name (as `is_x86_feature_detected!` and `/proc/cpuinfo` spell it).
    pub name: &'static str,
}

const fn f(bit: u32, setting: &'static str, name: &'static str) -> CpuFeature {
    CpuFeature {
        flag: 1 << bit,
        setting,
        name,
    }
}

/// Every optional x86-64 feature, in bit order (bits 8 and up; bit 0 is the bounds-check flag).
pub const X86_FEATURES: &[CpuFeature] = &[
    f(8, "has_avx", "avx"),
    f(9, "has_avx2", "avx2"),
    f(10, "has_fma", "fma"),
    f(11, "has_bmi1", "bmi1"),
    f(12, "has_bmi2", "bmi2"),
    f(13, "has_lzcnt", "lzcnt"),
    f(14, "has_avx512f", "avx512f"),
    f(15, "has_avx512vl", "avx512vl"),
    f(16, "has_avx512dq", "avx512dq"),
    f(17, "has_avx512bitalg", "avx512bitalg"),
    f(18, "has_avx512vbmi", "avx512vbmi"),
];

/// All feature bits.
pub const CPU_FLAGS_MASK: u32 = {
    let mut m = 0;
    let mut i = 0;
    while i < X86_FEATURES.len() {
        m |= X86_FEATURES[i].flag;
        i += 1;
    }
    m
};

/// x86-64-v3: AVX, AVX2, FMA, BMI1, BMI2, LZCNT.
pub const X86_64_V3: &[&str] = &["avx", "avx2", "fma", "bmi1", "bmi2", "lzcnt"];

/// x86-64-v4 (the part Cranelift uses): v3 plus AVX-512 F, VL, DQ.
pub const X86_64_V4: &[&str] = &[
    "avx", "avx2", "fma", "bmi1", "bmi2", "lzcnt", "avx512f", "avx512vl", "avx512dq",
];

/// The features named by the bits of `flags`.
pub fn features_in(flags: u32) -> impl Iterator<Item = &'static CpuFeature> {
    X86_FEATURES.iter().filter(move |f| flags & f.flag != 0)
}

/// The feature called `name`.
pub fn by_name(name: &str) -> Option<&'static CpuFeature> {
    X86_FEATURES.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_bits_are_distinct_and_clear_of_the_bounds_flag() {
        let mut seen = 0u32;
        for f in X86_FEATURES {
            assert_eq!(f.flag.count_ones(), 1, "{}", f.name);
            assert_eq!(seen & f.flag, 0, "{}", f.name);
            seen |= f.flag;
        }
        assert_eq!(seen, CPU_FLAGS_MASK);
        assert_eq!(CPU_FLAGS_MASK & crate::descriptor::FLAG_EXPLICIT_BOUNDS, 0);
        for n in X86_64_V3.iter().chain(X86_64_V4) {
            assert!(by_name(n).is_some(), "{n}");
        }
        let names: alloc::vec::Vec<&str> = features_in(by_name("avx2").unwrap().flag | 1)
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["avx2"]);
    }
}
