//! The cross targets the tests run under qemu-user, and what each needs on this machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub triple: &'static str,
    /// The cross C compiler (links executables and shared objects).
    pub cc: &'static str,
    pub qemu: &'static str,
    /// The target's C library root, for dynamically linked programs (`qemu -L`).
    pub sysroot: &'static str,
    pub simd: bool,
}

pub const AARCH64: Target = Target {
    triple: "aarch64-unknown-linux-gnu",
    cc: "aarch64-linux-gnu-gcc",
    qemu: "qemu-aarch64",
    sysroot: "/usr/aarch64-linux-gnu",
    simd: true,
};

pub const RISCV64: Target = Target {
    triple: "riscv64gc-unknown-linux-gnu",
    cc: "riscv64-linux-gnu-gcc",
    qemu: "qemu-riscv64",
    sysroot: "/usr/riscv64-linux-gnu",
    simd: false,
};

fn runs(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `target/<triple>/release/<file>`, where `make runtime-cross` puts what it builds per target
/// (and where `weld` looks for the runtime archive, see `weld::link::runtime_archive`).
pub fn built_for(t: Target, file: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_weld"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(t.triple)
        .join("release")
        .join(file)
}

/// The runtime archive for `t`.
pub fn runtime_archive(t: Target) -> PathBuf {
    built_for(t, "libweld_runtime.a")
}

/// What is missing to test `t`, if anything: the cross compiler, qemu, and each of `files`
/// (see [`built_for`]).
pub fn missing(t: Target, files: &[&str]) -> Option<String> {
    let mut m = Vec::new();
    for tool in [t.cc, t.qemu] {
        if !runs(tool) {
            m.push(tool.to_string());
        }
    }
    for f in files {
        let p = built_for(t, f);
        if !p.is_file() {
            m.push(format!("{} (make runtime-cross)", p.display()));
        }
    }
    (!m.is_empty()).then(|| m.join(", "))
}
