//! Allocation assertions for tests: run a closure, read nogrow's counters
//! before and after, and check what it did.
//!
//! ```
//! nogrow::install!(arena: 1 << 20, policy: Fail);
//!
//! fn checksum(bytes: &[u8]) -> u32 {
//!     bytes.iter().map(|&b| u32::from(b)).sum()
//! }
//!
//! # fn main() {
//! use nogrow::expect;
//!
//! let data = vec![7u8; 4096];
//! // A hot path that allocates nothing (panics otherwise, naming the counts).
//! let sum = expect::no_allocations(&NOGROW, || checksum(&data));
//! // A call that never grows linear memory.
//! let greeting = expect::no_growth(&NOGROW, || format!("Ahoy, {sum}!"));
//! // A call that returns every byte (what it returns is dropped inside).
//! expect::no_leak(&NOGROW, || greeting.repeat(3));
//!
//! // Or measure once and look at the numbers.
//! let (len, usage) = expect::measure(&NOGROW, || greeting.repeat(1000).len());
//! assert_eq!(len, 1000 * greeting.len());
//! assert_eq!((usage.allocs, usage.frees), (1, 1));
//! assert!(usage.peak.at_most() >= len);
//! usage.assert_no_growth().assert_no_leak();
//! # }
//! ```
//!
//! [`measure`] returns the closure's value and a [`Usage`]: how many
//! allocations, frees, reallocations and failed attempts happened, how many
//! growths nogrow performed, how far the generation counter moved, the memory
//! size before and after (read from the memory itself, so growth by anyone
//! counts), the bytes in use before and after, and the [`Peak`]. Its
//! `assert_*` methods panic with a message that names the numbers, at the
//! caller's line. [`no_allocations`], [`no_growth`] and [`no_leak`] are the
//! one-call forms; [`Mark`] measures across statements (an `await`, say).
//!
//! What is counted:
//!
//! - The counters belong to the allocator, not to the closure: on the host,
//!   other threads using the same allocator count too. On single-threaded
//!   wasm32 only the closure runs.
//! - Counter deltas wrap like the 32-bit counters themselves: a delta is
//!   exact as long as fewer than 2³² events happen during the closure.
//! - [`measure`] reads the end after the closure has returned, so a value it
//!   returns is still alive: its bytes count as still in use. [`no_leak`]
//!   drops that value inside the measurement.
//! - The peak: nogrow keeps one high-water mark of `in_use` since the start
//!   (the host reads it in the state block, so nogrow never lowers it). When
//!   the closure raises it, the closure's peak is known exactly; when it
//!   does not, the peak is only known to lie between two bounds
//!   ([`Peak::Within`]) and [`Usage::assert_peak_at_most`] says so instead of
//!   guessing.

use core::fmt;

use talc::base::binning::Binning;

use crate::{Memory, Nogrow, Policy, Stats};

/// The counters and the memory size at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    stats: Stats,
    pages: usize,
}

impl Snapshot {
    /// Reads `alloc`'s counters. Allocates nothing.
    fn take<P: Policy, M: Memory, B: Binning>(alloc: &Nogrow<P, M, B>) -> Self {
        // Lets nogrow notice growth by anyone else (it bumps the generation).
        alloc.generation();
        // Under the allocator's lock: counters and memory size agree.
        // SAFETY: the closure only reads the memory's size and the counters;
        // it neither replaces the memory nor allocates.
        unsafe {
            alloc.with_memory(|memory| Snapshot {
                pages: memory.pages(),
                stats: alloc.stats(),
            })
        }
    }
}

/// The highest number of bytes in use while a closure ran, above the bytes in
/// use when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peak {
    /// The closure raised nogrow's high-water mark: this is its peak.
    Exact(usize),
    /// The closure stayed at or below nogrow's earlier high-water mark, so its
    /// own peak is only known to lie in `at_least..=at_most`: `at_least` is
    /// what was still in use at the end, `at_most` the earlier mark.
    Within {
        /// Bytes above the start still in use at the end (0 if fewer).
        at_least: usize,
        /// nogrow's earlier high-water mark, above the start.
        at_most: usize,
    },
}

impl Peak {
    /// The peak when known exactly.
    pub const fn exact(self) -> Option<usize> {
        match self {
            Peak::Exact(bytes) => Some(bytes),
            Peak::Within { .. } => None,
        }
    }

    /// A lower bound of the peak (the peak itself when exact).
    pub const fn at_least(self) -> usize {
        match self {
            Peak::Exact(bytes) => bytes,
            Peak::Within { at_least, .. } => at_least,
        }
    }

    /// An upper bound of the peak (the peak itself when exact).
    pub const fn at_most(self) -> usize {
        match self {
            Peak::Exact(bytes) => bytes,
            Peak::Within { at_most, .. } => at_most,
        }
    }
}

impl fmt::Display for Peak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Peak::Exact(bytes) => write!(f, "{bytes} bytes"),
            Peak::Within { at_least, at_most } => {
                write!(f, "between {at_least} and {at_most} bytes")
            }
        }
    }
}

/// What a closure did to the allocator: counter deltas, the memory size and
/// the bytes in use before and after, and the peak. See the
/// [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Successful allocations (`alloc`, `alloc_zeroed`, C `malloc` family).
    pub allocs: u32,
    /// Deallocations.
    pub frees: u32,
    /// Successful reallocations.
    pub reallocs: u32,
    /// Allocations and reallocations that returned null.
    pub failures: u32,
    /// Growths of linear memory nogrow performed (a reserve included).
    pub growths: u32,
    /// How far the generation counter moved: nogrow's growths and growth by
    /// anyone else that nogrow noticed.
    pub generation: u32,
    /// Memory size in 64 KiB pages before the closure ran.
    pub pages_before: usize,
    /// Memory size in 64 KiB pages after it returned.
    pub pages_after: usize,
    /// Bytes in use before the closure ran.
    pub in_use_before: usize,
    /// Bytes in use after it returned.
    pub in_use_after: usize,
    /// The most bytes in use while it ran, above `in_use_before`.
    pub peak: Peak,
}

impl Usage {
    fn between(start: &Snapshot, end: &Snapshot) -> Self {
        let (s, e) = (&start.stats, &end.stats);
        // The high-water mark only ever rises; if it rose, the closure set it.
        let peak = if e.peak_in_use > s.peak_in_use {
            Peak::Exact(e.peak_in_use.saturating_sub(s.in_use))
        } else {
            Peak::Within {
                at_least: e.in_use.saturating_sub(s.in_use),
                at_most: s.peak_in_use.saturating_sub(s.in_use),
            }
        };
        Usage {
            allocs: e.allocs.wrapping_sub(s.allocs),
            frees: e.frees.wrapping_sub(s.frees),
            reallocs: e.reallocs.wrapping_sub(s.reallocs),
            failures: e.failures.wrapping_sub(s.failures),
            growths: e.growths.wrapping_sub(s.growths),
            generation: e.generation.wrapping_sub(s.generation),
            pages_before: start.pages,
            pages_after: end.pages,
            in_use_before: s.in_use,
            in_use_after: e.in_use,
            peak,
        }
    }

    /// Bytes in use after minus before (negative: the closure freed memory
    /// that was in use before it ran).
    pub const fn in_use_change(&self) -> isize {
        self.in_use_after.wrapping_sub(self.in_use_before) as isize
    }

    /// Whether linear memory changed size, or nogrow grew it or noticed a
    /// growth.
    pub const fn grew(&self) -> bool {
        self.growths != 0 || self.generation != 0 || self.pages_after != self.pages_before
    }

    /// Panics unless nothing was allocated: no allocation, no reallocation,
    /// no failed attempt. Frees are allowed (dropping something made
    /// earlier); check [`frees`](Usage::frees) to forbid them too.
    #[track_caller]
    pub fn assert_no_allocations(&self) -> &Self {
        if self.allocs != 0 || self.reallocs != 0 || self.failures != 0 {
            panic!(
                "nogrow: expected no allocations, but the closure allocated: allocs +{}, \
                 reallocs +{}, failures +{} (all: {self})",
                self.allocs, self.reallocs, self.failures
            );
        }
        self
    }

    /// Panics if linear memory grew: nogrow performed a growth, the
    /// generation moved, or the memory size changed.
    #[track_caller]
    pub fn assert_no_growth(&self) -> &Self {
        if self.grew() {
            panic!(
                "nogrow: expected no memory growth, but memory grew: growths +{}, \
                 generation +{}, pages {} -> {} (all: {self})",
                self.growths, self.generation, self.pages_before, self.pages_after
            );
        }
        self
    }

    /// Panics if more bytes are in use than before: something allocated
    /// during the closure was not freed. Fewer is fine (the closure freed
    /// something older).
    #[track_caller]
    pub fn assert_no_leak(&self) -> &Self {
        if self.in_use_change() > 0 {
            panic!(
                "nogrow: expected every byte returned, but {} bytes are still in use: \
                 in use {} -> {} bytes (all: {self})",
                self.in_use_change(),
                self.in_use_before,
                self.in_use_after
            );
        }
        self
    }

    /// Panics unless the peak stayed at most `bytes` above the start. When
    /// the peak is not known exactly ([`Peak::Within`]) and the bounds do not
    /// decide it, this panics too, saying so: it never passes on a guess.
    #[track_caller]
    pub fn assert_peak_at_most(&self, bytes: usize) -> &Self {
        match self.peak {
            peak if peak.at_most() <= bytes => {}
            Peak::Exact(peak) => panic!(
                "nogrow: expected a peak of at most {bytes} bytes above the start, \
                 but it was {peak} bytes (all: {self})"
            ),
            Peak::Within { at_least, .. } if at_least > bytes => panic!(
                "nogrow: expected a peak of at most {bytes} bytes above the start, \
                 but at least {at_least} bytes were still in use at the end (all: {self})"
            ),
            Peak::Within { at_least, at_most } => panic!(
                "nogrow: cannot tell whether the peak stayed at most {bytes} bytes above \
                 the start: the closure did not rise above nogrow's earlier high-water \
                 mark ({at_most} bytes above the start), so its peak is only known to be \
                 between {at_least} and {at_most} bytes (all: {self})"
            ),
        }
        self
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "allocs +{}, frees +{}, reallocs +{}, failures +{}, growths +{}, generation +{}, \
             pages {} -> {}, in use {} -> {} bytes ({:+}), peak above start {}",
            self.allocs,
            self.frees,
            self.reallocs,
            self.failures,
            self.growths,
            self.generation,
            self.pages_before,
            self.pages_after,
            self.in_use_before,
            self.in_use_after,
            self.in_use_change(),
            self.peak
        )
    }
}

/// A starting point: the counters when it was made. [`Mark::usage`] reads
/// them again and returns the difference; use it where a closure does not fit
/// (across an `await`, or a setup and a check in different places).
///
/// ```
/// # nogrow::install!(arena: 1 << 20, policy: Fail);
/// # fn main() {
/// let mark = nogrow::expect::Mark::new(&NOGROW);
/// let mut v = Vec::with_capacity(4);
/// v.extend_from_slice(&[1u8, 2, 3, 4]);
/// let usage = mark.usage();
/// assert_eq!(usage.allocs, 1);
/// assert_eq!(usage.in_use_change(), 4);
/// # drop(v);
/// # }
/// ```
pub struct Mark<'a, P: Policy, M: Memory, B: Binning = crate::binning::Compact> {
    alloc: &'a Nogrow<P, M, B>,
    start: Snapshot,
}

impl<'a, P: Policy, M: Memory, B: Binning> Mark<'a, P, M, B> {
    /// Reads `alloc`'s counters now.
    pub fn new(alloc: &'a Nogrow<P, M, B>) -> Self {
        Mark {
            alloc,
            start: Snapshot::take(alloc),
        }
    }

    /// What happened since the mark was made.
    pub fn usage(&self) -> Usage {
        Usage::between(&self.start, &Snapshot::take(self.alloc))
    }
}

impl<P: Policy, M: Memory, B: Binning> fmt::Debug for Mark<'_, P, M, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mark")
            .field("stats", &self.start.stats)
            .field("pages", &self.start.pages)
            .finish()
    }
}

/// Runs `f` and returns its value with what it did to `alloc`. The value is
/// still alive when the end is read (see the [module docs](self)).
pub fn measure<P: Policy, M: Memory, B: Binning, R>(
    alloc: &Nogrow<P, M, B>,
    f: impl FnOnce() -> R,
) -> (R, Usage) {
    let mark = Mark::new(alloc);
    let value = f();
    (value, mark.usage())
}

/// Runs `f` and returns its value; panics if it allocated
/// ([`Usage::assert_no_allocations`]).
#[track_caller]
pub fn no_allocations<P: Policy, M: Memory, B: Binning, R>(
    alloc: &Nogrow<P, M, B>,
    f: impl FnOnce() -> R,
) -> R {
    let (value, usage) = measure(alloc, f);
    usage.assert_no_allocations();
    value
}

/// Runs `f` and returns its value; panics if linear memory grew while it ran
/// ([`Usage::assert_no_growth`]).
#[track_caller]
pub fn no_growth<P: Policy, M: Memory, B: Binning, R>(
    alloc: &Nogrow<P, M, B>,
    f: impl FnOnce() -> R,
) -> R {
    let (value, usage) = measure(alloc, f);
    usage.assert_no_growth();
    value
}

/// Runs `f`, drops what it returns, and panics if more bytes are in use than
/// before ([`Usage::assert_no_leak`]). Returns the usage.
#[track_caller]
pub fn no_leak<P: Policy, M: Memory, B: Binning, R>(
    alloc: &Nogrow<P, M, B>,
    f: impl FnOnce() -> R,
) -> Usage {
    let ((), usage) = measure(alloc, || drop(f()));
    usage.assert_no_leak();
    usage
}
