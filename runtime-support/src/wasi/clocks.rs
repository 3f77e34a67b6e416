//! `wasi:clocks` 0.2 (`wall-clock`, `monotonic-clock`) and `wasi:random` 0.2 (`random`,
//! `insecure`, `insecure-seed`). Secure random bytes come from `/dev/urandom`; the insecure
//! generator is xorshift64* seeded from it. Guest-chosen lengths above [`MAX_RANDOM`] trap.

use super::io::Pollable;
use super::table::{bad_args, Obj, Registrar, WasiState};
use super::vals::{bytes, datetime, own, ret, u64_arg};
use crate::component::Val;
use crate::trap::Trap;
use alloc::vec;
use alloc::vec::Vec;
use std::io::Read;
use weld_contract::trap::TrapCode;

/// `wasi:clocks/monotonic-clock`.
pub const MONOTONIC: &str = "wasi:clocks/monotonic-clock@0.2";
/// `wasi:clocks/wall-clock`.
pub const WALL: &str = "wasi:clocks/wall-clock@0.2";

/// Most random bytes one call returns.
pub const MAX_RANDOM: u64 = 1 << 26;

/// Nanoseconds since the state was made (WASI's monotonic clock has an arbitrary origin).
pub(crate) fn monotonic_now(st: &WasiState) -> u64 {
    u64::try_from(st.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// `len` bytes from the operating system's generator.
pub(crate) fn os_random(len: usize) -> Result<Vec<u8>, Trap> {
    let mut buf = vec![0u8; len];
    if !fill_from_getrandom(&mut buf) {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut buf))
            .map_err(|_| Trap::new(TrapCode::Unreachable))?;
    }
    Ok(buf)
}

/// Fill `buf` with Linux's `getrandom` (one system call, where `/dev/urandom` takes four);
/// false when it is not there (an old kernel) or would block (early boot, before the kernel's
/// pool is ready: `/dev/urandom` never blocks), and `/dev/urandom` is read instead.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn fill_from_getrandom(buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is writable for `rest.len()` bytes.
        let n =
            unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), libc::GRND_NONBLOCK) };
        if n > 0 {
            done += n as usize;
        } else if n == 0
            || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            return false;
        }
        // Interrupted by a signal before any byte: try again.
    }
    true
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn fill_from_getrandom(_: &mut [u8]) -> bool {
    false
}

/// Two random words (zero if the operating system gives none).
pub(crate) fn os_random_u64s() -> (u64, u64) {
    let b = os_random(16).unwrap_or_else(|_| vec![0; 16]);
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    (word(0), word(8))
}

fn insecure_u64(st: &mut WasiState) -> u64 {
    let state = &mut st.insecure().0;
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn random_len(a: &[Val]) -> Result<usize, Trap> {
    let len = u64_arg(a, 0)?;
    if len > MAX_RANDOM {
        return Err(bad_args());
    }
    Ok(len as usize)
}

fn subscribe(st: &mut WasiState, deadline: u64) -> Result<Option<Val>, Trap> {
    ret(own(st.push(Obj::Pollable(Pollable::Deadline(deadline)))))
}

/// Register `wasi:clocks` and `wasi:random`.
pub(crate) fn register(reg: &mut Registrar<'_>) {
    reg.func(MONOTONIC, "now", |st, _| ret(Val::U64(monotonic_now(st))));
    reg.func(MONOTONIC, "resolution", |_, _| ret(Val::U64(1)));
    reg.func(MONOTONIC, "subscribe-instant", |st, a| {
        subscribe(st, u64_arg(a, 0)?)
    });
    reg.func(MONOTONIC, "subscribe-duration", |st, a| {
        let at = monotonic_now(st).saturating_add(u64_arg(a, 0)?);
        subscribe(st, at)
    });
    reg.resource(MONOTONIC, "pollable");

    reg.func(WALL, "now", |_, _| {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        ret(datetime(d.as_secs(), d.subsec_nanos()))
    });
    reg.func(WALL, "resolution", |_, _| ret(datetime(0, 1)));

    reg.func("wasi:random/random@0.2", "get-random-bytes", |_, a| {
        ret(bytes(&os_random(random_len(a)?)?))
    });
    reg.func("wasi:random/random@0.2", "get-random-u64", |_, _| {
        ret(Val::U64(os_random_u64s().0))
    });
    reg.func(
        "wasi:random/insecure@0.2",
        "get-insecure-random-bytes",
        |st, a| {
            let len = random_len(a)?;
            let mut out = Vec::with_capacity(len);
            while out.len() < len {
                out.extend(insecure_u64(st).to_le_bytes());
            }
            out.truncate(len);
            ret(bytes(&out))
        },
    );
    reg.func(
        "wasi:random/insecure@0.2",
        "get-insecure-random-u64",
        |st, _| ret(Val::U64(insecure_u64(st))),
    );
    reg.func("wasi:random/insecure-seed@0.2", "insecure-seed", |st, _| {
        let (a, b) = st.insecure().1;
        ret(Val::Tuple(vec![Val::U64(a), Val::U64(b)]))
    });
}
