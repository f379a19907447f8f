//! One error type for every way a module can be refused: a one-line message,
//! with the byte offset in the input where the problem is, when there is one.

use std::fmt;

/// A refused input or a failed operation, shown as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the input file, when the problem has a place.
    pub offset: Option<usize>,
    /// What is wrong, without a trailing period or newline.
    pub message: String,
}

impl Error {
    /// An error at byte `offset` of the input.
    pub fn at(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset: Some(offset),
            message: one_line(message.into()),
        }
    }

    /// An error about the whole input or the command line.
    pub fn whole(message: impl Into<String>) -> Self {
        Self {
            offset: None,
            message: one_line(message.into()),
        }
    }
}

/// Newlines in a message would break "one line per error".
fn one_line(s: String) -> String {
    if s.contains('\n') {
        s.replace('\n', " ")
    } else {
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "at byte {off} (0x{off:x}): {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Self::at(e.offset(), e.message())
    }
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
