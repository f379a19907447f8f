//! `nogrow check` proves (or refutes) that a WebAssembly module cannot grow its
//! linear memory, or grows it only through nogrow's signalled path;
//! `nogrow seal` makes the engine enforce it by fixing the memory's maximum.
//! A separate verdict says whether the module can grow a table.
//!
//! Built on `wasmparser` (validation, reading) and `wasm-encoder` (the one
//! re-encoded section). See the README for the command line.

pub mod check;
pub mod cli;
pub mod error;
pub mod fuzz;
pub mod graph;
pub mod module;
pub mod render;
pub mod seal;
pub mod tables;

pub use crate::check::{Level, Report, Verdict, check};
pub use crate::error::{Error, Result};
pub use crate::seal::{Sealed, seal};
pub use crate::tables::TableVerdict;
