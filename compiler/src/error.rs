//! Typed errors of the compiler core. `Display` gives one line that names what went wrong and
//! where (a byte offset in the input); the CLI adds the file name.

use std::fmt;

/// Everything that can stop a compilation.
#[derive(Debug)]
pub enum Error {
    /// The input is not valid WebAssembly (malformed or invalid).
    Invalid {
        /// What is wrong.
        message: String,
        /// Byte offset in the input.
        offset: u64,
    },
    /// The input is valid but uses something weld does not support yet.
    Unsupported {
        /// What is not supported.
        message: String,
        /// Byte offset in the input, when known.
        offset: Option<u64>,
    },
    /// An implementation limit was exceeded.
    Limit {
        /// Which limit.
        message: String,
    },
    /// Cranelift rejected a function (a bug in weld, reported rather than panicking).
    Codegen {
        /// Function index.
        func: u32,
        /// Cranelift's message.
        message: String,
    },
    /// The system linker failed or could not be run.
    Link(String),
    /// A command component imports functions the WASI host does not provide (their names).
    MissingImports(Vec<String>),
    /// A build-time policy (`weld compile --policy`) is broken, or the policy file is wrong.
    Policy(String),
    /// `weld run --invoke` names no function it can call, as Wasmtime words it.
    Invoke(String),
    /// Drawing the component graph failed.
    Render(String),
    /// Reading or writing a file failed.
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// An "unsupported" error at an offset.
    pub fn unsupported(message: impl Into<String>, offset: u64) -> Error {
        Error::Unsupported {
            message: message.into(),
            offset: Some(offset),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid { message, offset } => {
                write!(
                    f,
                    "invalid WebAssembly at byte offset {offset:#x}: {message}"
                )
            }
            Error::Unsupported {
                message,
                offset: Some(offset),
            } => write!(f, "unsupported at byte offset {offset:#x}: {message}"),
            Error::Unsupported {
                message,
                offset: None,
            } => write!(f, "unsupported: {message}"),
            Error::Limit { message } => write!(f, "implementation limit exceeded: {message}"),
            Error::Codegen { func, message } => {
                write!(
                    f,
                    "internal code generation error in function {func}: {message}"
                )
            }
            Error::Link(message) => write!(f, "linking failed: {message}"),
            Error::MissingImports(names) => write!(
                f,
                "the component imports {} that weld's WASI host does not provide: {} \
                 (--trap-unknown-imports makes calls to them trap instead)",
                if names.len() == 1 {
                    "a function"
                } else {
                    "functions"
                },
                names.join(", ")
            ),
            Error::Policy(message) => write!(f, "policy: {message}"),
            Error::Invoke(message) => write!(f, "--invoke: {message}"),
            Error::Render(message) => write!(f, "drawing the graph: {message}"),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::Invalid {
            message: e.message().to_string(),
            offset: e.offset(),
        }
    }
}

/// Result alias for the compiler core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
