//! `wasi:io` 0.2: `error`, `poll` and `streams`.
//!
//! All I/O is blocking, so every stream pollable is ready at once and `read`/`write` behave like
//! their `blocking-*` forms; only clock pollables ([`Pollable::Deadline`]) ever wait. Reads are
//! capped at [`MAX_READ`] bytes per call (a guest-chosen length never sizes an allocation).

use super::table::{bad_args, bad_handle, Obj, Registrar, WasiState};
use super::vals::{arg, bytes, bytes_arg, ok, ok_unit, own, rep, ret, string, u64_arg};
use crate::component::Val;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;

/// `wasi:io/error`.
pub const ERROR: &str = "wasi:io/error@0.2";
/// `wasi:io/poll`.
pub const POLL: &str = "wasi:io/poll@0.2";
/// `wasi:io/streams`.
pub const STREAMS: &str = "wasi:io/streams@0.2";

/// Most bytes one `read` returns. Reads cross the boundary as `list<u8>` values, one `Val` per
/// byte: at 1 MiB a read was a 32 MiB allocation, mapped and unmapped every time (a 3 MB file
/// cost 34,000 page faults); 64 KiB stays in the heap, and programs loop over short reads.
pub const MAX_READ: u64 = 1 << 16;
/// What `check-write` permits per write.
pub const WRITE_BUDGET: u64 = 1 << 20;

/// An `input-stream`.
#[derive(Debug)]
pub enum InputStream {
    /// The context's stdin.
    Stdin,
    /// A file read from `pos` on.
    File {
        /// The open file.
        file: Rc<File>,
        /// Next offset.
        pos: u64,
    },
}

/// An `output-stream`.
#[derive(Debug)]
pub enum OutputStream {
    /// The context's stdout.
    Stdout,
    /// The context's stderr.
    Stderr,
    /// A file written at `pos` (or at its end when appending).
    File {
        /// The open file.
        file: Rc<File>,
        /// Next offset.
        pos: u64,
        /// Write at the end of the file.
        append: bool,
    },
}

/// A `pollable`.
#[derive(Debug, Clone, Copy)]
pub enum Pollable {
    /// Always ready (streams: all I/O blocks).
    Ready,
    /// Ready once the monotonic clock reaches this many nanoseconds.
    Deadline(u64),
}

/// Why a stream operation failed.
#[derive(Debug)]
pub enum StreamError {
    /// End of stream.
    Closed,
    /// An I/O error, described, with its `wasi:filesystem` error code.
    Failed(String, Option<&'static str>),
}

impl StreamError {
    /// The `stream-error` variant (an `error` resource for `last-operation-failed`).
    fn into_val(self, st: &mut WasiState) -> Val {
        match self {
            StreamError::Closed => Val::Variant("closed".into(), None),
            StreamError::Failed(m, code) => {
                let e = st.error(m, code);
                Val::Variant("last-operation-failed".into(), Some(Box::new(own(e))))
            }
        }
    }
}

fn io_err(e: &std::io::Error) -> StreamError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        StreamError::Closed
    } else {
        StreamError::Failed(e.to_string(), Some(super::fsmeta::error_code(e)))
    }
}

/// `result<T, stream-error>` from a stream outcome.
fn stream_result(st: &mut WasiState, r: Result<Option<Val>, StreamError>) -> Val {
    match r {
        Ok(Some(v)) => ok(v),
        Ok(None) => ok_unit(),
        Err(e) => Val::Result(Err(Some(Box::new(e.into_val(st))))),
    }
}

/// Read up to `len` bytes (at least one unless `len` is 0) from input stream `r`.
pub fn read(st: &mut WasiState, r: u32, len: u64) -> Result<Result<Vec<u8>, StreamError>, Trap> {
    let mut buf = vec![0u8; len.min(MAX_READ) as usize];
    if buf.is_empty() {
        return Ok(Ok(buf));
    }
    let n = match st.get(r)? {
        Obj::Input(InputStream::Stdin) => loop {
            match st.ctx.stdin.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        },
        Obj::Input(InputStream::File { file, pos }) => file.read_at(&mut buf, *pos),
        _ => return Err(bad_handle()),
    };
    let n = match n {
        Ok(0) => return Ok(Err(StreamError::Closed)),
        Ok(n) => n,
        Err(e) => return Ok(Err(io_err(&e))),
    };
    buf.truncate(n);
    if let Obj::Input(InputStream::File { pos, .. }) = st.get_mut(r)? {
        *pos += n as u64;
    }
    Ok(Ok(buf))
}

/// Write all of `data` to output stream `w`.
pub fn write(st: &mut WasiState, w: u32, data: &[u8]) -> Result<Result<(), StreamError>, Trap> {
    let r = match st.get(w)? {
        Obj::Output(OutputStream::Stdout) => st.ctx.stdout.write_all(data),
        Obj::Output(OutputStream::Stderr) => st.ctx.stderr.write_all(data),
        Obj::Output(OutputStream::File { file, pos, append }) => {
            let file = file.clone();
            let at = if *append {
                file.metadata().map(|m| m.len())
            } else {
                Ok(*pos)
            };
            let r = at.and_then(|at| file.write_all_at(data, at).map(|()| at));
            if let (Ok(at), Obj::Output(OutputStream::File { pos, .. })) = (&r, st.get_mut(w)?) {
                *pos = at + data.len() as u64;
            }
            r.map(|_| ())
        }
        _ => return Err(bad_handle()),
    };
    Ok(r.map_err(|e| io_err(&e)))
}

/// Flush output stream `w`.
pub fn flush(st: &mut WasiState, w: u32) -> Result<Result<(), StreamError>, Trap> {
    let r = match st.get(w)? {
        Obj::Output(OutputStream::Stdout) => st.ctx.stdout.flush(),
        Obj::Output(OutputStream::Stderr) => st.ctx.stderr.flush(),
        Obj::Output(OutputStream::File { .. }) => Ok(()),
        _ => return Err(bad_handle()),
    };
    Ok(r.map_err(|e| io_err(&e)))
}

/// Whether pollable `p` is ready now.
pub(crate) fn ready(st: &WasiState, p: u32) -> Result<bool, Trap> {
    match st.get(p)? {
        Obj::Pollable(Pollable::Ready) => Ok(true),
        Obj::Pollable(Pollable::Deadline(t)) => Ok(super::clocks::monotonic_now(st) >= *t),
        _ => Err(bad_handle()),
    }
}

fn deadline(st: &WasiState, p: u32) -> Result<u64, Trap> {
    match st.get(p)? {
        Obj::Pollable(Pollable::Deadline(t)) => Ok(*t),
        Obj::Pollable(Pollable::Ready) => Ok(0),
        _ => Err(bad_handle()),
    }
}

/// Sleep until the monotonic clock reaches `t`.
fn sleep_until(st: &WasiState, t: u64) {
    let now = super::clocks::monotonic_now(st);
    if t > now {
        std::thread::sleep(core::time::Duration::from_nanos(t - now));
    }
}

/// `poll`: the indices of the ready pollables, waiting for the first if none is.
pub fn poll(st: &mut WasiState, ps: &[u32]) -> Result<Vec<u32>, Trap> {
    if ps.is_empty() {
        return Err(bad_args());
    }
    let first = ps
        .iter()
        .map(|p| deadline(st, *p))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .min()
        .unwrap_or(0);
    sleep_until(st, first);
    let mut out = Vec::new();
    for (i, p) in ps.iter().enumerate() {
        if ready(st, *p)? {
            out.push(i as u32);
        }
    }
    Ok(out)
}

fn subscribe_ready(st: &mut WasiState, args: &[Val]) -> Result<Option<Val>, Trap> {
    rep(args, 0)?;
    let p = st.push(Obj::Pollable(Pollable::Ready));
    ret(own(p))
}

/// Register `wasi:io/{error,poll,streams}`.
pub(crate) fn register(reg: &mut Registrar<'_>) {
    reg.resource(ERROR, "error");
    reg.func(ERROR, "[method]error.to-debug-string", |st, a| {
        match st.get(rep(a, 0)?)? {
            Obj::Error { message, .. } => ret(string(message.clone())),
            _ => Err(bad_handle()),
        }
    });

    reg.resource(POLL, "pollable");
    for r in ["pollable", "error"] {
        reg.resource(STREAMS, r);
    }
    reg.func(POLL, "[method]pollable.ready", |st, a| {
        ret(Val::Bool(ready(st, rep(a, 0)?)?))
    });
    reg.func(POLL, "[method]pollable.block", |st, a| {
        let t = deadline(st, rep(a, 0)?)?;
        sleep_until(st, t);
        Ok(None)
    });
    reg.func(POLL, "poll", |st, a| {
        let Val::List(list) = arg(a, 0)? else {
            return Err(bad_args());
        };
        let ps = (0..list.len())
            .map(|i| rep(list, i))
            .collect::<Result<Vec<_>, _>>()?;
        ret(Val::List(
            poll(st, &ps)?.into_iter().map(Val::U32).collect(),
        ))
    });

    reg.resource(STREAMS, "input-stream");
    for m in ["read", "blocking-read"] {
        reg.method(STREAMS, "[method]input-stream.", m, |st, a| {
            let r = read(st, rep(a, 0)?, u64_arg(a, 1)?)?.map(|b| Some(bytes(&b)));
            ret(stream_result(st, r))
        });
    }
    for m in ["skip", "blocking-skip"] {
        reg.method(STREAMS, "[method]input-stream.", m, |st, a| {
            let r = read(st, rep(a, 0)?, u64_arg(a, 1)?)?.map(|b| Some(Val::U64(b.len() as u64)));
            ret(stream_result(st, r))
        });
    }
    reg.func(STREAMS, "[method]input-stream.subscribe", subscribe_ready);

    reg.resource(STREAMS, "output-stream");
    reg.func(STREAMS, "[method]output-stream.check-write", |st, a| {
        st.get(rep(a, 0)?)?;
        ret(ok(Val::U64(WRITE_BUDGET)))
    });
    reg.func(STREAMS, "[method]output-stream.write", |st, a| {
        let r = write(st, rep(a, 0)?, &bytes_arg(a, 1)?)?.map(|()| None);
        ret(stream_result(st, r))
    });
    reg.func(
        STREAMS,
        "[method]output-stream.blocking-write-and-flush",
        |st, a| {
            let w = rep(a, 0)?;
            let r = match write(st, w, &bytes_arg(a, 1)?)? {
                Ok(()) => flush(st, w)?,
                e => e,
            };
            ret(stream_result(st, r.map(|()| None)))
        },
    );
    for m in ["flush", "blocking-flush"] {
        reg.method(STREAMS, "[method]output-stream.", m, |st, a| {
            let r = flush(st, rep(a, 0)?)?.map(|()| None);
            ret(stream_result(st, r))
        });
    }
    for m in ["write-zeroes", "blocking-write-zeroes-and-flush"] {
        reg.method(STREAMS, "[method]output-stream.", m, |st, a| {
            let w = rep(a, 0)?;
            let mut left = u64_arg(a, 1)?;
            let zeroes = vec![0u8; left.min(MAX_READ) as usize];
            let mut r = Ok(());
            while left > 0 && r.is_ok() {
                let n = left.min(MAX_READ) as usize;
                r = write(st, w, &zeroes[..n])?;
                left -= n as u64;
            }
            let r = match r {
                Ok(()) => flush(st, w)?,
                e => e,
            };
            let r = r.map(|()| None);
            ret(stream_result(st, r))
        });
    }
    for m in ["splice", "blocking-splice"] {
        reg.method(STREAMS, "[method]output-stream.", m, |st, a| {
            let (w, src) = (rep(a, 0)?, rep(a, 1)?);
            let r = match read(st, src, u64_arg(a, 2)?)? {
                Ok(b) => write(st, w, &b)?.map(|()| Some(Val::U64(b.len() as u64))),
                Err(e) => Err(e),
            };
            ret(stream_result(st, r))
        });
    }
    reg.func(STREAMS, "[method]output-stream.subscribe", subscribe_ready);
}
