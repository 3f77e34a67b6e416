//! Host file metadata and errors as `wasi:filesystem/types` values: `error-code` names for
//! `errno`s, `descriptor-type`, `descriptor-stat`, `metadata-hash-value`, `new-timestamp`.

use super::vals::{case, datetime, record, some};
use crate::component::Val;
use std::fs::{FileType, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::SystemTime;

/// The `error-code` case for a host I/O error.
pub fn error_code(e: &std::io::Error) -> &'static str {
    let Some(errno) = e.raw_os_error() else {
        return match e.kind() {
            std::io::ErrorKind::NotFound => "no-entry",
            std::io::ErrorKind::PermissionDenied => "access",
            std::io::ErrorKind::AlreadyExists => "exist",
            std::io::ErrorKind::InvalidInput => "invalid",
            _ => "io",
        };
    };
    match errno {
        libc::EACCES => "access",
        libc::EAGAIN => "would-block",
        libc::EALREADY => "already",
        libc::EBADF => "bad-descriptor",
        libc::EBUSY => "busy",
        libc::EDEADLK => "deadlock",
        libc::EDQUOT => "quota",
        libc::EEXIST => "exist",
        libc::EFBIG => "file-too-large",
        libc::EILSEQ => "illegal-byte-sequence",
        libc::EINPROGRESS => "in-progress",
        libc::EINTR => "interrupted",
        libc::EINVAL => "invalid",
        libc::EISDIR => "is-directory",
        libc::ELOOP => "loop",
        libc::EMLINK => "too-many-links",
        libc::EMSGSIZE => "message-size",
        libc::ENAMETOOLONG => "name-too-long",
        libc::ENODEV => "no-device",
        libc::ENOENT => "no-entry",
        libc::ENOLCK => "no-lock",
        libc::ENOMEM => "insufficient-memory",
        libc::ENOSPC => "insufficient-space",
        libc::ENOTDIR => "not-directory",
        libc::ENOTEMPTY => "not-empty",
        libc::ENOTRECOVERABLE => "not-recoverable",
        libc::ENOTSUP => "unsupported",
        libc::ENOTTY => "no-tty",
        libc::ENXIO => "no-such-device",
        libc::EOVERFLOW => "overflow",
        libc::EPERM => "not-permitted",
        libc::EPIPE => "pipe",
        libc::EROFS => "read-only",
        libc::ESPIPE => "invalid-seek",
        libc::ETXTBSY => "text-file-busy",
        libc::EXDEV => "cross-device",
        _ => "io",
    }
}

/// The `descriptor-type` case of a host file type.
pub fn type_name(t: FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "regular-file"
    } else if t.is_symlink() {
        "symbolic-link"
    } else if t.is_block_device() {
        "block-device"
    } else if t.is_char_device() {
        "character-device"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else {
        "unknown"
    }
}

fn timestamp(secs: i64, nsecs: i64) -> Val {
    match (u64::try_from(secs), u32::try_from(nsecs)) {
        (Ok(s), Ok(n)) => some(datetime(s, n)),
        _ => Val::Option(None),
    }
}

/// `descriptor-stat`.
pub fn stat(m: &Metadata) -> Val {
    record([
        ("type", case(type_name(m.file_type()))),
        ("link-count", Val::U64(m.nlink())),
        ("size", Val::U64(m.size())),
        (
            "data-access-timestamp",
            timestamp(m.atime(), m.atime_nsec()),
        ),
        (
            "data-modification-timestamp",
            timestamp(m.mtime(), m.mtime_nsec()),
        ),
        (
            "status-change-timestamp",
            timestamp(m.ctime(), m.ctime_nsec()),
        ),
    ])
}

/// `metadata-hash-value`: device and inode, mixed.
pub fn metadata_hash(m: &Metadata) -> Val {
    let mix = |x: u64| x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31);
    record([
        ("lower", Val::U64(mix(m.ino()) ^ m.dev())),
        ("upper", Val::U64(mix(m.dev()) ^ m.ino())),
    ])
}

/// A `new-timestamp`: `None` for `no-change`.
pub fn new_timestamp(v: &Val) -> Option<Option<SystemTime>> {
    let Val::Variant(case, payload) = v else {
        return None;
    };
    match (case.as_str(), payload.as_deref()) {
        ("no-change", None) => Some(None),
        ("now", None) => Some(Some(SystemTime::now())),
        ("timestamp", Some(Val::Record(fields))) => {
            let (Some((_, Val::U64(s))), Some((_, Val::U32(n)))) = (fields.first(), fields.get(1))
            else {
                return None;
            };
            if *n >= 1_000_000_000 {
                return None;
            }
            let d = core::time::Duration::new(*s, *n);
            Some(Some(SystemTime::UNIX_EPOCH.checked_add(d)?))
        }
        _ => None,
    }
}
