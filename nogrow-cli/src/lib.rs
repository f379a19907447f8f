//! `nogrow check` proves (or refutes) that a WebAssembly module cannot grow its
//! linear memory, or grows it only through nogrow's signalled path;
//! `nogrow seal` makes the engine enforce it by fixing the memory's maximum.
//! A separate verdict says whether the module can grow a table. A component
//! (a `wasm32-wasip2` build) is judged and sealed core module by core module
//! ([`component`]).
//!
//! Built on `wasmparser` (validation, reading) and `wasm-encoder` (the
//! re-encoded sections). See the README for the command line.

pub mod check;
pub mod cli;
pub mod component;
pub mod error;
pub mod fuzz;
pub mod graph;
pub mod module;
pub mod render;
pub mod seal;
pub mod tables;

pub use crate::check::{Level, Report, Verdict, check};
pub use crate::component::ComponentReport;
pub use crate::error::{Error, Result};
pub use crate::seal::{Sealed, seal};
pub use crate::tables::TableVerdict;
