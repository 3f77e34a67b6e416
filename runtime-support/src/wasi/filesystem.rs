//! `wasi:filesystem` 0.2 (`types`, `preopens`) over [`super::sandbox`].
//!
//! A [`Descriptor`] is a position inside a preopen (its canonical host root plus names under
//! it) and, for a regular file, the open file. Every `*-at` function resolves its path with
//! [`resolve`] first, so it only ever touches the host below the root. Directory listings are
//! read whole when `read-directory` is called.

use super::fsmeta::{error_code, metadata_hash, new_timestamp, stat, type_name};
use super::io::{InputStream, OutputStream, MAX_READ};
use super::sandbox::{host_path, resolve, Refusal};
use super::table::{bad_args, bad_handle, Obj, Registrar, WasiState};
use super::vals::{
    arg, bytes, bytes_arg, case, err, flags_arg, has, ok, ok_unit, own, rep, ret, some, str_arg,
    string, u64_arg,
};
use crate::component::Val;
use crate::trap::Trap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use std::ffi::OsString;
use std::fs::{File, FileTimes, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

/// `wasi:filesystem/types`.
pub const TYPES: &str = "wasi:filesystem/types@0.2";
/// `wasi:filesystem/preopens`.
pub const PREOPENS: &str = "wasi:filesystem/preopens@0.2";

/// A `descriptor`.
#[derive(Debug, Clone)]
pub struct Descriptor {
    /// The preopen's canonical host path.
    pub root: Rc<PathBuf>,
    /// Where it is under the root (plain names, no symlinks).
    pub names: Vec<OsString>,
    /// The open file; `None` for a directory.
    pub file: Option<Rc<File>>,
    /// `descriptor-flags` it was opened with.
    pub flags: Vec<String>,
}

impl Descriptor {
    fn path(&self) -> PathBuf {
        host_path(&self.root, &self.names)
    }

    fn metadata(&self) -> std::io::Result<std::fs::Metadata> {
        match &self.file {
            Some(f) => f.metadata(),
            None => std::fs::metadata(self.path()),
        }
    }
}

/// A `directory-entry-stream`: the entries left, as `(descriptor-type, name)`.
#[derive(Debug)]
pub struct DirStream(pub alloc::collections::VecDeque<(&'static str, String)>);

/// The outcome of a filesystem function: a trap, or `result<T, error-code>`.
type Fs = Result<Result<Option<Val>, Refusal>, Trap>;

fn io<T>(r: std::io::Result<T>) -> Result<T, Refusal> {
    r.map_err(|e| error_code(&e))
}

/// The descriptor argument `i`.
fn desc(st: &WasiState, a: &[Val], i: usize) -> Result<Descriptor, Trap> {
    match st.get(rep(a, i)?)? {
        Obj::Descriptor(d) => Ok(d.clone()),
        _ => Err(bad_handle()),
    }
}

fn file_of(d: &Descriptor) -> Result<Rc<File>, Refusal> {
    d.file.clone().ok_or("is-directory")
}

/// Resolve path argument `i` against directory descriptor `d`.
fn at(d: &Descriptor, a: &[Val], i: usize, follow: bool) -> Result<Result<PathBuf, Refusal>, Trap> {
    let path = str_arg(a, i)?;
    if d.file.is_some() {
        return Ok(Err("not-directory"));
    }
    Ok(resolve(&d.root, &d.names, path, follow).map(|n| host_path(&d.root, &n)))
}

/// `at` giving the names rather than the host path.
fn at_names(d: &Descriptor, path: &str, follow: bool) -> Result<Vec<OsString>, Refusal> {
    if d.file.is_some() {
        return Err("not-directory");
    }
    resolve(&d.root, &d.names, path, follow)
}

fn follows(a: &[Val], i: usize) -> Result<bool, Trap> {
    Ok(has(flags_arg(a, i)?, "symlink-follow"))
}

fn set_times(path_or_file: Result<File, Refusal>, atime: &Val, mtime: &Val) -> Fs {
    let (Some(at), Some(mt)) = (new_timestamp(atime), new_timestamp(mtime)) else {
        return Err(bad_args());
    };
    let mut times = FileTimes::new();
    if let Some(t) = at {
        times = times.set_accessed(t);
    }
    if let Some(t) = mt {
        times = times.set_modified(t);
    }
    Ok(path_or_file
        .and_then(|f| io(f.set_times(times)))
        .map(|()| None))
}

/// `open-at`.
fn open_at(st: &mut WasiState, a: &[Val]) -> Fs {
    let d = desc(st, a, 0)?;
    let follow = follows(a, 1)?;
    let path = str_arg(a, 2)?;
    let (oflags, dflags) = (flags_arg(a, 3)?, flags_arg(a, 4)?.to_vec());
    let names = match at_names(&d, path, follow) {
        Ok(n) => n,
        Err(e) => return Ok(Err(e)),
    };
    let host = host_path(&d.root, &names);
    let (create, directory) = (has(oflags, "create"), has(oflags, "directory"));
    let (exclusive, truncate) = (has(oflags, "exclusive"), has(oflags, "truncate"));
    let write = has(&dflags, "write");
    if directory {
        if create || truncate || write {
            return Ok(Err("invalid"));
        }
        let m = if follow {
            std::fs::metadata(&host)
        } else {
            std::fs::symlink_metadata(&host)
        };
        return Ok(match io(m) {
            Ok(m) if m.is_dir() => {
                let d = Descriptor {
                    root: d.root.clone(),
                    names,
                    file: None,
                    flags: dflags,
                };
                Ok(Some(own(st.push(Obj::Descriptor(d)))))
            }
            Ok(m) if m.file_type().is_symlink() => Err("loop"),
            Ok(_) => Err("not-directory"),
            Err(e) => Err(e),
        });
    }
    let mut custom = 0;
    if create {
        custom |= libc::O_CREAT;
    }
    if create && exclusive {
        custom |= libc::O_EXCL;
    }
    if truncate {
        custom |= libc::O_TRUNC;
    }
    if !follow {
        custom |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(has(&dflags, "read") || !write)
        .write(write)
        .custom_flags(custom)
        .open(&host);
    let file = match io(file) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let is_dir = file.metadata().is_ok_and(|m| m.is_dir());
    let d = Descriptor {
        root: d.root.clone(),
        names,
        file: (!is_dir).then(|| Rc::new(file)),
        flags: dflags,
    };
    Ok(Ok(Some(own(st.push(Obj::Descriptor(d))))))
}

/// `read`: up to `len` bytes at `offset`, and whether the end of the file was reached.
fn read_at(d: &Descriptor, len: u64, offset: u64) -> Result<Option<Val>, Refusal> {
    let f = file_of(d)?;
    let mut buf = vec![0u8; len.min(MAX_READ) as usize];
    let n = io(f.read_at(&mut buf, offset))?;
    buf.truncate(n);
    let size = io(f.metadata())?.len();
    let eof = (n == 0 && len > 0) || offset.saturating_add(n as u64) >= size;
    Ok(Some(Val::Tuple(vec![bytes(&buf), Val::Bool(eof)])))
}

fn read_directory(d: &Descriptor) -> Result<DirStream, Refusal> {
    if d.file.is_some() {
        return Err("not-directory");
    }
    let mut out = alloc::collections::VecDeque::new();
    for e in io(std::fs::read_dir(d.path()))? {
        let e = io(e)?;
        let t = e.file_type().map_or("unknown", type_name);
        // Names that are not UTF-8 cannot be a WIT string: skip them.
        if let Ok(name) = e.file_name().into_string() {
            out.push_back((t, name));
        }
    }
    Ok(DirStream(out))
}

/// Register a `descriptor` method whose result is `result<T, error-code>`.
fn method(reg: &mut Registrar<'_>, name: &str, f: fn(&mut WasiState, &[Val]) -> Fs) {
    reg.method(TYPES, "[method]descriptor.", name, move |st, a| {
        ret(match f(st, a)? {
            Ok(Some(v)) => ok(v),
            Ok(None) => ok_unit(),
            Err(code) => err(case(code)),
        })
    });
}

/// Register `wasi:filesystem`.
pub(crate) fn register(reg: &mut Registrar<'_>) {
    for iface in [TYPES, PREOPENS] {
        reg.resource(iface, "descriptor");
    }
    for r in [
        "directory-entry-stream",
        "input-stream",
        "output-stream",
        "error",
    ] {
        reg.resource(TYPES, r);
    }

    method(reg, "read-via-stream", |st, a| {
        let (d, pos) = (desc(st, a, 0)?, u64_arg(a, 1)?);
        Ok(file_of(&d).map(|file| Some(own(st.push(Obj::Input(InputStream::File { file, pos }))))))
    });
    method(reg, "write-via-stream", |st, a| {
        let (d, pos) = (desc(st, a, 0)?, u64_arg(a, 1)?);
        Ok(file_of(&d).map(|file| {
            let s = OutputStream::File {
                file,
                pos,
                append: false,
            };
            Some(own(st.push(Obj::Output(s))))
        }))
    });
    method(reg, "append-via-stream", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(file_of(&d).map(|file| {
            let s = OutputStream::File {
                file,
                pos: 0,
                append: true,
            };
            Some(own(st.push(Obj::Output(s))))
        }))
    });
    method(reg, "advise", |st, a| desc(st, a, 0).map(|_| Ok(None)));
    method(reg, "sync-data", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(d.file.map_or(Ok(()), |f| io(f.sync_data())).map(|()| None))
    });
    method(reg, "sync", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(d.file.map_or(Ok(()), |f| io(f.sync_all())).map(|()| None))
    });
    method(reg, "get-flags", |st, a| {
        Ok(Ok(Some(Val::Flags(desc(st, a, 0)?.flags))))
    });
    method(reg, "get-type", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(io(d.metadata()).map(|m| Some(case(type_name(m.file_type())))))
    });
    method(reg, "set-size", |st, a| {
        let (d, size) = (desc(st, a, 0)?, u64_arg(a, 1)?);
        Ok(file_of(&d).and_then(|f| io(f.set_len(size))).map(|()| None))
    });
    method(reg, "set-times", |st, a| {
        let d = desc(st, a, 0)?;
        let f = match &d.file {
            Some(f) => io(f.try_clone()),
            None => io(File::open(d.path())),
        };
        set_times(f, arg(a, 1)?, arg(a, 2)?)
    });
    method(reg, "read", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(read_at(&d, u64_arg(a, 1)?, u64_arg(a, 2)?))
    });
    method(reg, "write", |st, a| {
        let (d, buf, offset) = (desc(st, a, 0)?, bytes_arg(a, 1)?, u64_arg(a, 2)?);
        Ok(file_of(&d)
            .and_then(|f| io(f.write_all_at(&buf, offset)))
            .map(|()| Some(Val::U64(buf.len() as u64))))
    });
    method(reg, "read-directory", |st, a| {
        let d = desc(st, a, 0)?;
        Ok(read_directory(&d).map(|s| Some(own(st.push(Obj::DirStream(s))))))
    });
    method(reg, "create-directory-at", |st, a| {
        let p = at(&desc(st, a, 0)?, a, 1, false)?;
        Ok(p.and_then(|p| io(std::fs::create_dir(p))).map(|()| None))
    });
    method(reg, "stat", |st, a| {
        Ok(io(desc(st, a, 0)?.metadata()).map(|m| Some(stat(&m))))
    });
    method(reg, "stat-at", |st, a| {
        let follow = follows(a, 1)?;
        let p = at(&desc(st, a, 0)?, a, 2, follow)?;
        let m = p.and_then(|p| {
            io(if follow {
                std::fs::metadata(p)
            } else {
                std::fs::symlink_metadata(p)
            })
        });
        Ok(m.map(|m| Some(stat(&m))))
    });
    method(reg, "set-times-at", |st, a| {
        let follow = follows(a, 1)?;
        let p = at(&desc(st, a, 0)?, a, 2, follow)?;
        let f = p.and_then(|p| {
            let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
            io(OpenOptions::new().read(true).custom_flags(nofollow).open(p))
        });
        set_times(f, arg(a, 3)?, arg(a, 4)?)
    });
    method(reg, "link-at", |st, a| {
        let old = at(&desc(st, a, 0)?, a, 2, follows(a, 1)?)?;
        let new = at(&desc(st, a, 3)?, a, 4, false)?;
        Ok(old
            .and_then(|o| new.map(|n| (o, n)))
            .and_then(|(o, n)| io(std::fs::hard_link(o, n)))
            .map(|()| None))
    });
    method(reg, "open-at", open_at);
    method(reg, "readlink-at", |st, a| {
        let p = at(&desc(st, a, 0)?, a, 1, false)?;
        let target = p.and_then(|p| io(std::fs::read_link(p)));
        Ok(target.and_then(|t| {
            t.into_os_string()
                .into_string()
                .map(|s| Some(string(s)))
                .map_err(|_| "illegal-byte-sequence")
        }))
    });
    method(reg, "remove-directory-at", |st, a| {
        let p = at(&desc(st, a, 0)?, a, 1, false)?;
        Ok(p.and_then(|p| io(std::fs::remove_dir(p))).map(|()| None))
    });
    method(reg, "rename-at", |st, a| {
        let old = at(&desc(st, a, 0)?, a, 1, false)?;
        let new = at(&desc(st, a, 2)?, a, 3, false)?;
        Ok(old
            .and_then(|o| new.map(|n| (o, n)))
            .and_then(|(o, n)| io(std::fs::rename(o, n)))
            .map(|()| None))
    });
    method(reg, "symlink-at", |st, a| {
        let target = str_arg(a, 1)?;
        if target.starts_with('/') {
            return Ok(Err("not-permitted"));
        }
        let p = at(&desc(st, a, 0)?, a, 2, false)?;
        Ok(p.and_then(|p| io(std::os::unix::fs::symlink(target, p)))
            .map(|()| None))
    });
    method(reg, "unlink-file-at", |st, a| {
        let p = at(&desc(st, a, 0)?, a, 1, false)?;
        Ok(p.and_then(|p| io(std::fs::remove_file(p))).map(|()| None))
    });
    method(reg, "metadata-hash", |st, a| {
        Ok(io(desc(st, a, 0)?.metadata()).map(|m| Some(metadata_hash(&m))))
    });
    method(reg, "metadata-hash-at", |st, a| {
        let follow = follows(a, 1)?;
        let p = at(&desc(st, a, 0)?, a, 2, follow)?;
        let m = p.and_then(|p| {
            io(if follow {
                std::fs::metadata(p)
            } else {
                std::fs::symlink_metadata(p)
            })
        });
        Ok(m.map(|m| Some(metadata_hash(&m))))
    });
    reg.func(TYPES, "[method]descriptor.is-same-object", |st, a| {
        let (x, y) = (desc(st, a, 0)?, desc(st, a, 1)?);
        let same = match (x.metadata(), y.metadata()) {
            (Ok(m), Ok(n)) => m.dev() == n.dev() && m.ino() == n.ino(),
            _ => false,
        };
        ret(Val::Bool(same))
    });
    reg.func(
        TYPES,
        "[method]directory-entry-stream.read-directory-entry",
        |st, a| {
            let Obj::DirStream(s) = st.get_mut(rep(a, 0)?)? else {
                return Err(bad_handle());
            };
            let entry = s
                .0
                .pop_front()
                .map(|(t, name)| super::vals::record([("type", case(t)), ("name", string(name))]));
            ret(ok(Val::Option(entry.map(alloc::boxed::Box::new))))
        },
    );
    reg.func(TYPES, "filesystem-error-code", |st, a| {
        ret(match st.get(rep(a, 0)?)? {
            Obj::Error { code: Some(c), .. } => some(case(c)),
            Obj::Error { .. } => Val::Option(None),
            _ => return Err(bad_handle()),
        })
    });

    reg.func(PREOPENS, "get-directories", |st, _| {
        let mut out = Vec::new();
        for i in 0..st.ctx.preopens.len() {
            let (host, guest) = st.ctx.preopens[i].clone();
            // A directory that cannot be opened is not offered.
            let Ok(root) = std::fs::canonicalize(&host) else {
                continue;
            };
            if !root.is_dir() {
                continue;
            }
            let d = Descriptor {
                root: Rc::new(root),
                names: Vec::new(),
                file: None,
                flags: vec!["read".into(), "mutate-directory".into()],
            };
            let r = st.push(Obj::Descriptor(d));
            out.push(Val::Tuple(vec![own(r), string(guest)]));
        }
        ret(Val::List(out))
    });
}
