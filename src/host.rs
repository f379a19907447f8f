//! The host side, for embedders written in Rust: decode a guest's state block
//! from a copy or a view of its linear memory, and explain an out-of-memory
//! trap in one line.
//!
//! The host calls the guest's `nogrow_state()` export once for the block's
//! address, then reads [`Snapshot::read`] over the memory's bytes whenever it
//! wants the counters (after every call, say). Every field is a little-endian
//! `u32` at its [`state::offsets`] position; policy numbers are
//! [`PolicyKind`]'s and reserve codes are [`ReserveError`]'s, so this reader
//! has no layout of its own.
//!
//! ```
//! use nogrow::host::{Snapshot, ReadError};
//! # let mut memory = vec![0u8; 4096];
//! # let addr = 1024u32;
//! # let at = addr as usize + nogrow::state::offsets::ABI_VERSION;
//! # memory[at..at + 4].copy_from_slice(&nogrow::state::ABI_VERSION.to_le_bytes());
//! // `memory`: the guest's linear memory; `addr`: what `nogrow_state()` returned.
//! let snapshot = Snapshot::read(&memory, addr)?;
//! if let Some(why) = snapshot.explanation() {
//!     println!("{why}"); // out of heap memory: requested … bytes (align …); …
//! }
//! # Ok::<(), ReadError>(())
//! ```
//!
//! The explanation's words are constants here ([`EXPLANATION_HEAD`],
//! [`ADVICE_FAIL`], [`ADVICE_RESERVE`], [`ADVICE_SIGNAL`], [`ADVICE_UNKNOWN`],
//! [`NO_LIMIT`], joined by [`EXPLANATION_SEPARATOR`]), so hosts in other
//! languages can render the same sentence from them. Templates name their
//! values in braces: `{size}`, `{align}`, `{heap_bytes}`, `{in_use}`,
//! `{limit_pages}` (see [`PLACEHOLDERS`]).

use core::fmt;

use crate::{
    policy::{PolicyKind, ReserveError},
    state::{self, Failure, offsets},
};

/// Width in bytes of every field of the state block on wasm32 (a `u32`).
pub const FIELD_BYTES: usize = core::mem::size_of::<u32>();

/// The state block's `reserve_status` before any reserve.
pub const RESERVE_STATUS_NONE: i32 = 0;
/// The state block's `reserve_status` once a reserve is in effect (every
/// other non-zero value is a [`ReserveError`] code).
pub const RESERVE_STATUS_RESERVED: i32 = 1;

/// The policy with this number in the state block, if any.
pub fn policy_from_number(number: u32) -> Option<PolicyKind> {
    PolicyKind::ALL
        .into_iter()
        .find(|&kind| kind as u32 == number)
}

/// The reserve error with this code, if any.
pub fn reserve_error_from_code(code: i32) -> Option<ReserveError> {
    ReserveError::ALL.into_iter().find(|e| e.code() == code)
}

/// The state block's `reserve_status`, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveState {
    /// No reserve happened yet ([`RESERVE_STATUS_NONE`]).
    NotYet,
    /// A reserve is in effect ([`RESERVE_STATUS_RESERVED`]).
    Reserved,
    /// The last reserve attempt failed, for this reason.
    Failed(ReserveError),
    /// A value this reader does not know.
    Unknown(i32),
}

impl ReserveState {
    /// Decodes a `reserve_status` value.
    pub fn from_status(status: i32) -> Self {
        match status {
            RESERVE_STATUS_NONE => ReserveState::NotYet,
            RESERVE_STATUS_RESERVED => ReserveState::Reserved,
            code => reserve_error_from_code(code)
                .map_or(ReserveState::Unknown(code), ReserveState::Failed),
        }
    }
}

/// Why a state block could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The bytes given hold less than a whole block.
    TooShort {
        /// Bytes given.
        len: usize,
        /// Bytes a block takes ([`offsets::SIZE`]).
        needed: usize,
    },
    /// The address is not a multiple of [`FIELD_BYTES`] (it is not what
    /// `nogrow_state()` returned).
    Misaligned {
        /// The address.
        addr: u32,
    },
    /// The block at the address does not lie inside memory.
    OutOfBounds {
        /// The address.
        addr: u32,
        /// Bytes of memory given.
        memory_len: usize,
    },
    /// The block has another layout version than [`state::ABI_VERSION`] (or
    /// the address points at something else).
    AbiVersion {
        /// The version found.
        found: u32,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReadError::TooShort { len, needed } => {
                write!(
                    f,
                    "nogrow state block: {len} bytes given, a block takes {needed}"
                )
            }
            ReadError::Misaligned { addr } => write!(
                f,
                "nogrow state block: address {addr} is not a multiple of {FIELD_BYTES}"
            ),
            ReadError::OutOfBounds { addr, memory_len } => write!(
                f,
                "nogrow state block: {} bytes at address {addr} do not fit in memory of {memory_len} bytes",
                offsets::SIZE
            ),
            ReadError::AbiVersion { found } => write!(
                f,
                "nogrow state block: ABI version {found}, this reader reads version {}",
                state::ABI_VERSION
            ),
        }
    }
}

impl core::error::Error for ReadError {}

/// The state block at one moment, decoded. Counts and byte sizes are the
/// guest's `u32`s (wasm32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// The generation counter (renew views when it changes).
    pub generation: u32,
    /// The layout version ([`state::ABI_VERSION`]).
    pub abi_version: u32,
    /// The policy, if the block names one (0 until known in a `State::new()`).
    pub policy: Option<PolicyKind>,
    /// Memory size in pages when the guest's allocator last looked.
    pub pages: u32,
    /// Bytes the heap owns: static arena + linker heap + grown.
    pub heap_bytes: u32,
    /// Bytes requested by live allocations.
    pub in_use: u32,
    /// Highest `in_use` so far.
    pub peak_in_use: u32,
    /// Successful allocations.
    pub allocs: u32,
    /// Deallocations.
    pub frees: u32,
    /// Successful reallocations.
    pub reallocs: u32,
    /// Allocations and reallocations that returned null.
    pub failures: u32,
    /// Growths of memory the allocator performed (reserve included).
    pub growths: u32,
    /// The last failed request (`None` while `failures` is 0).
    pub last_failure: Option<Failure>,
    /// The reserve's status.
    pub reserve: ReserveState,
    /// Signal's page limit (0: only the engine's).
    pub limit_pages: u32,
}

/// A `u32` field as a `usize`: nogrow's targets have at least 32-bit `usize`.
fn widen(v: u32) -> usize {
    v as usize
}

impl Snapshot {
    /// Decodes the block at `addr` (what `nogrow_state()` returned) in
    /// `memory`, the guest's whole linear memory from address 0.
    pub fn read(memory: &[u8], addr: u32) -> Result<Self, ReadError> {
        if widen(addr) % FIELD_BYTES != 0 {
            return Err(ReadError::Misaligned { addr });
        }
        let block = widen(addr)
            .checked_add(offsets::SIZE)
            .and_then(|end| memory.get(widen(addr)..end))
            .ok_or(ReadError::OutOfBounds {
                addr,
                memory_len: memory.len(),
            })?;
        Self::decode(block)
    }

    /// Decodes a block that starts at `block[0]` (at least [`offsets::SIZE`]
    /// bytes; bytes past it are ignored).
    pub fn decode(block: &[u8]) -> Result<Self, ReadError> {
        if block.len() < offsets::SIZE {
            return Err(ReadError::TooShort {
                len: block.len(),
                needed: offsets::SIZE,
            });
        }
        let word = |offset: usize| {
            let mut bytes = [0u8; FIELD_BYTES];
            bytes.copy_from_slice(&block[offset..offset + FIELD_BYTES]);
            u32::from_le_bytes(bytes)
        };
        let abi_version = word(offsets::ABI_VERSION);
        if abi_version != state::ABI_VERSION {
            return Err(ReadError::AbiVersion { found: abi_version });
        }
        let failures = word(offsets::FAILURES);
        Ok(Snapshot {
            generation: word(offsets::GENERATION),
            abi_version,
            policy: policy_from_number(word(offsets::POLICY)),
            pages: word(offsets::PAGES),
            heap_bytes: word(offsets::HEAP_BYTES),
            in_use: word(offsets::IN_USE),
            peak_in_use: word(offsets::PEAK_IN_USE),
            allocs: word(offsets::ALLOCS),
            frees: word(offsets::FREES),
            reallocs: word(offsets::REALLOCS),
            failures,
            growths: word(offsets::GROWTHS),
            last_failure: (failures != 0).then(|| Failure {
                size: widen(word(offsets::LAST_FAIL_SIZE)),
                align: widen(word(offsets::LAST_FAIL_ALIGN)),
                in_use: widen(word(offsets::LAST_FAIL_IN_USE)),
                heap_bytes: widen(word(offsets::LAST_FAIL_HEAP_BYTES)),
            }),
            reserve: ReserveState::from_status(word(offsets::RESERVE_STATUS) as i32),
            limit_pages: word(offsets::LIMIT_PAGES),
        })
    }

    /// The explanation of the last failure, if any allocation failed.
    pub fn explanation(&self) -> Option<Explanation> {
        self.last_failure.map(|failure| Explanation {
            failure,
            policy: self.policy,
            limit_pages: self.limit_pages,
        })
    }
}

/// The first part of the explanation, a template over the failure record.
pub const EXPLANATION_HEAD: &str = "out of heap memory: requested {size} bytes (align {align}); heap {heap_bytes}, in use {in_use}";
/// Between [`EXPLANATION_HEAD`] and the policy's advice.
pub const EXPLANATION_SEPARATOR: &str = "; ";
/// The advice under [`Fail`](crate::Fail).
pub const ADVICE_FAIL: &str = "policy Fail — raise the arena or use Reserve";
/// The advice under [`Reserve`](crate::Reserve).
pub const ADVICE_RESERVE: &str = "policy Reserve — raise the reserve (Reserve::pages) or the arena";
/// The advice under [`Signal`](crate::Signal), a template over the page limit
/// (`{limit_pages}` is [`NO_LIMIT`] when the limit is 0).
pub const ADVICE_SIGNAL: &str = "policy Signal — growth refused (limit {limit_pages} pages, or the engine's maximum); raise limit_pages or the module's maximum";
/// The advice when the policy is not known.
pub const ADVICE_UNKNOWN: &str = "policy unknown";
/// What `{limit_pages}` reads when Signal has no limit of its own.
pub const NO_LIMIT: &str = "none";
/// Every placeholder the templates use, each written `{name}`.
pub const PLACEHOLDERS: [&str; 5] = ["size", "align", "heap_bytes", "in_use", "limit_pages"];

/// The advice for a policy (`None`: not known).
pub const fn advice(policy: Option<PolicyKind>) -> &'static str {
    match policy {
        Some(PolicyKind::Fail) => ADVICE_FAIL,
        Some(PolicyKind::Reserve) => ADVICE_RESERVE,
        Some(PolicyKind::Signal) => ADVICE_SIGNAL,
        None => ADVICE_UNKNOWN,
    }
}

/// An out-of-memory failure, explained: displays as
/// `out of heap memory: requested N bytes (align A); arena X, in use Y; policy
/// Fail — raise the arena or use Reserve` (the advice depends on the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// The failed request.
    pub failure: Failure,
    /// The guest's policy, if known.
    pub policy: Option<PolicyKind>,
    /// Signal's page limit (0: none of its own).
    pub limit_pages: u32,
}

impl Explanation {
    fn render(&self, f: &mut fmt::Formatter<'_>, template: &str) -> fmt::Result {
        let mut parts = template.split('{');
        f.write_str(parts.next().unwrap_or(""))?;
        for part in parts {
            let Some((name, rest)) = part.split_once('}') else {
                f.write_str("{")?;
                f.write_str(part)?;
                continue;
            };
            let failure = &self.failure;
            match name {
                "size" => write!(f, "{}", failure.size)?,
                "align" => write!(f, "{}", failure.align)?,
                "heap_bytes" => write!(f, "{}", failure.heap_bytes)?,
                "in_use" => write!(f, "{}", failure.in_use)?,
                "limit_pages" if self.limit_pages == 0 => f.write_str(NO_LIMIT)?,
                "limit_pages" => write!(f, "{}", self.limit_pages)?,
                other => write!(f, "{{{other}}}")?,
            }
            f.write_str(rest)?;
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, EXPLANATION_HEAD)?;
        f.write_str(EXPLANATION_SEPARATOR)?;
        self.render(f, advice(self.policy))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::{format, string::ToString, vec, vec::Vec};

    use super::*;

    /// A block with a distinct value in every field, written through the
    /// offsets: a reader that looks anywhere else sees another field's value.
    fn block(fill: &[(usize, u32)]) -> Vec<u8> {
        let mut bytes = vec![0u8; offsets::SIZE];
        for &(offset, value) in fill {
            bytes[offset..offset + FIELD_BYTES].copy_from_slice(&value.to_le_bytes());
        }
        bytes
    }

    fn full_block() -> Vec<u8> {
        block(&[
            (offsets::GENERATION, 7),
            (offsets::ABI_VERSION, state::ABI_VERSION),
            (offsets::POLICY, PolicyKind::Signal as u32),
            (offsets::PAGES, 33),
            (offsets::HEAP_BYTES, 2_162_688),
            (offsets::IN_USE, 1_000_001),
            (offsets::PEAK_IN_USE, 1_500_002),
            (offsets::ALLOCS, 1003),
            (offsets::FREES, 904),
            (offsets::REALLOCS, 55),
            (offsets::FAILURES, 6),
            (offsets::GROWTHS, 5),
            (offsets::LAST_FAIL_SIZE, 4_194_304),
            (offsets::LAST_FAIL_ALIGN, 16),
            (offsets::LAST_FAIL_IN_USE, 999_999),
            (offsets::LAST_FAIL_HEAP_BYTES, 2_097_152),
            (
                offsets::RESERVE_STATUS,
                ReserveError::NotReservePolicy.code() as u32,
            ),
            (offsets::LIMIT_PAGES, 1024),
        ])
    }

    #[test]
    fn decodes_every_field_from_its_offset() {
        let s = Snapshot::decode(&full_block()).unwrap();
        assert_eq!(
            s,
            Snapshot {
                generation: 7,
                abi_version: state::ABI_VERSION,
                policy: Some(PolicyKind::Signal),
                pages: 33,
                heap_bytes: 2_162_688,
                in_use: 1_000_001,
                peak_in_use: 1_500_002,
                allocs: 1003,
                frees: 904,
                reallocs: 55,
                failures: 6,
                growths: 5,
                last_failure: Some(Failure {
                    size: 4_194_304,
                    align: 16,
                    in_use: 999_999,
                    heap_bytes: 2_097_152,
                }),
                reserve: ReserveState::Failed(ReserveError::NotReservePolicy),
                limit_pages: 1024,
            }
        );
    }

    #[test]
    fn fields_are_little_endian() {
        let mut bytes = full_block();
        bytes[offsets::GENERATION..offsets::GENERATION + 4].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(Snapshot::decode(&bytes).unwrap().generation, 0x0403_0201);
    }

    #[test]
    fn reads_the_block_at_its_address_in_memory() {
        let addr = 1 << 16;
        let mut memory = vec![0xAAu8; (addr as usize) + offsets::SIZE];
        memory[addr as usize..].copy_from_slice(&full_block());
        let s = Snapshot::read(&memory, addr).unwrap();
        assert_eq!(s, Snapshot::decode(&full_block()).unwrap());
    }

    #[test]
    fn no_failure_means_no_last_failure_and_no_explanation() {
        let mut bytes = full_block();
        bytes[offsets::FAILURES..offsets::FAILURES + 4].fill(0);
        let s = Snapshot::decode(&bytes).unwrap();
        assert_eq!(s.last_failure, None);
        assert_eq!(s.explanation(), None);
    }

    #[test]
    fn policy_numbers_decode_to_the_crates_kinds_and_others_to_none() {
        for kind in PolicyKind::ALL {
            assert_eq!(policy_from_number(kind as u32), Some(kind));
        }
        assert_eq!(policy_from_number(0), None);
        assert_eq!(policy_from_number(4), None);
    }

    #[test]
    fn reserve_status_decodes_every_code() {
        assert_eq!(ReserveState::from_status(0), ReserveState::NotYet);
        assert_eq!(ReserveState::from_status(1), ReserveState::Reserved);
        for e in ReserveError::ALL {
            assert_eq!(ReserveState::from_status(e.code()), ReserveState::Failed(e));
        }
        assert_eq!(ReserveState::from_status(-6), ReserveState::Unknown(-6));
        assert_eq!(ReserveState::from_status(2), ReserveState::Unknown(2));
    }

    #[test]
    fn rejects_a_short_slice() {
        let bytes = full_block();
        assert_eq!(
            Snapshot::decode(&bytes[..offsets::SIZE - 1]),
            Err(ReadError::TooShort {
                len: offsets::SIZE - 1,
                needed: offsets::SIZE
            })
        );
        assert_eq!(
            Snapshot::decode(&[]),
            Err(ReadError::TooShort {
                len: 0,
                needed: offsets::SIZE
            })
        );
    }

    #[test]
    fn rejects_another_abi_version() {
        let mut bytes = full_block();
        let other = state::ABI_VERSION + 1;
        bytes[offsets::ABI_VERSION..offsets::ABI_VERSION + 4].copy_from_slice(&other.to_le_bytes());
        assert_eq!(
            Snapshot::decode(&bytes),
            Err(ReadError::AbiVersion { found: other })
        );
        // Memory that is not a state block at all (zeroes).
        assert_eq!(
            Snapshot::read(&[0u8; 256], 64),
            Err(ReadError::AbiVersion { found: 0 })
        );
    }

    #[test]
    fn rejects_a_misaligned_or_out_of_bounds_address() {
        let memory = vec![0u8; 1024];
        assert_eq!(
            Snapshot::read(&memory, 2),
            Err(ReadError::Misaligned { addr: 2 })
        );
        let last = (1024 - offsets::SIZE) as u32;
        assert_eq!(
            Snapshot::read(&memory, last + 4),
            Err(ReadError::OutOfBounds {
                addr: last + 4,
                memory_len: 1024
            })
        );
        assert_eq!(
            Snapshot::read(&memory, u32::MAX - 3),
            Err(ReadError::OutOfBounds {
                addr: u32::MAX - 3,
                memory_len: 1024
            })
        );
        assert_eq!(
            Snapshot::read(&memory, last),
            Err(ReadError::AbiVersion { found: 0 }),
            "the last block that fits is read"
        );
    }

    #[test]
    fn read_errors_say_what_is_wrong() {
        let size = offsets::SIZE;
        let cases = [
            (
                ReadError::TooShort {
                    len: 8,
                    needed: size,
                },
                format!("nogrow state block: 8 bytes given, a block takes {size}"),
            ),
            (
                ReadError::Misaligned { addr: 6 },
                "nogrow state block: address 6 is not a multiple of 4".to_string(),
            ),
            (
                ReadError::OutOfBounds {
                    addr: 4096,
                    memory_len: 100,
                },
                format!(
                    "nogrow state block: {size} bytes at address 4096 do not fit in memory of 100 bytes"
                ),
            ),
            (
                ReadError::AbiVersion { found: 9 },
                "nogrow state block: ABI version 9, this reader reads version 1".to_string(),
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    fn explained(policy: Option<PolicyKind>, limit_pages: u32) -> std::string::String {
        Explanation {
            failure: Failure {
                size: 2_900_000,
                align: 1,
                in_use: 0,
                heap_bytes: 262_144,
            },
            policy,
            limit_pages,
        }
        .to_string()
    }

    #[test]
    fn explanations_for_every_policy() {
        let head = "out of heap memory: requested 2900000 bytes (align 1); heap 262144, in use 0";
        assert_eq!(
            explained(Some(PolicyKind::Fail), 0),
            format!("{head}; policy Fail — raise the arena or use Reserve")
        );
        assert_eq!(
            explained(Some(PolicyKind::Reserve), 0),
            format!("{head}; policy Reserve — raise the reserve (Reserve::pages) or the arena")
        );
        assert_eq!(
            explained(Some(PolicyKind::Signal), 1024),
            format!(
                "{head}; policy Signal — growth refused (limit 1024 pages, or the engine's \
                 maximum); raise limit_pages or the module's maximum"
            )
        );
        assert_eq!(
            explained(Some(PolicyKind::Signal), 0),
            format!(
                "{head}; policy Signal — growth refused (limit none pages, or the engine's \
                 maximum); raise limit_pages or the module's maximum"
            )
        );
        assert_eq!(explained(None, 0), format!("{head}; policy unknown"));
    }

    #[test]
    fn a_snapshot_explains_its_last_failure() {
        let why = Snapshot::decode(&full_block())
            .unwrap()
            .explanation()
            .unwrap();
        assert_eq!(
            why.to_string(),
            "out of heap memory: requested 4194304 bytes (align 16); heap 2097152, in use \
             999999; policy Signal — growth refused (limit 1024 pages, or the engine's \
             maximum); raise limit_pages or the module's maximum"
        );
    }

    #[test]
    fn templates_use_only_known_placeholders() {
        for template in [
            EXPLANATION_HEAD,
            ADVICE_FAIL,
            ADVICE_RESERVE,
            ADVICE_SIGNAL,
            ADVICE_UNKNOWN,
        ] {
            for part in template.split('{').skip(1) {
                let (name, _) = part.split_once('}').expect("a closed placeholder");
                assert!(PLACEHOLDERS.contains(&name), "{name} in {template}");
            }
            assert_eq!(template.matches('{').count(), template.matches('}').count());
        }
    }
}
