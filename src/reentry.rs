//! Re-entrancy: knowing, without any clock, that the thread waiting for the
//! allocator's lock is the one holding it.
//!
//! nogrow runs a few things under its lock that are not its own code: the
//! [`Memory`](crate::Memory) implementation (its first look at memory, every
//! growth) and the closure given to
//! [`Nogrow::with_memory`](crate::Nogrow::with_memory). Should one of them
//! allocate through the same allocator, the thread would wait for a lock it
//! holds itself, forever. So while such code runs, the allocator records
//! *who* runs it ([`Holder`]), beside the lock, out of the host-visible state
//! block; a thread that finds the lock held compares that record with its own
//! [`thread_mark`] and stops with a clear message only when they are the same.
//! Any other waiter waits, however long the holder takes: a slow growth, a
//! debugger pause or a host that blocks never turns into a trap.
//!
//! Where the platform cannot name the calling thread, waiting is all a waiter
//! does: re-entrancy there is the deadlock it always is (as with a
//! `std::sync::Mutex` locked twice), never a false alarm.

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A value that names the calling thread among the threads alive now (never
/// 0), or 0 when the platform cannot tell:
///
/// - wasm32: the thread running on the stack the linker laid out
///   (`__stack_low..__stack_high`) is named; only one thread can run on that
///   stack (a second one would corrupt it), and a single-threaded module runs
///   nowhere else. Threads on stacks a host placed elsewhere (in the heap, as
///   wasm-bindgen's and nogrow's thread helpers do) are not named.
/// - other targets with the `std` feature: the address of a thread-local.
/// - other targets without `std`: not named.
#[inline]
pub(crate) fn thread_mark() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wasm::thread_mark()
    }
    #[cfg(all(not(target_family = "wasm"), feature = "std"))]
    {
        std::thread_local! {
            static MARK: u8 = const { 0 };
        }
        // A thread-local's address is unique among live threads; `try_with`
        // fails only while the thread's locals are being torn down.
        MARK.try_with(|mark| core::ptr::from_ref(mark).addr())
            .unwrap_or(0)
    }
    #[cfg(not(any(
        target_arch = "wasm32",
        all(not(target_family = "wasm"), feature = "std")
    )))]
    {
        0
    }
}

/// The thread inside code that could call back into the allocator while it
/// holds its lock (0: none, or one the platform cannot name).
///
/// Written only by the lock's holder; read by waiters. A waiter reads either
/// a mark some holder wrote or 0; it reads its own mark only if it wrote it
/// itself and has not cleared it since, that is, only if it is the holder.
#[derive(Debug)]
pub(crate) struct Holder(AtomicUsize);

impl Holder {
    pub(crate) const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// Records the calling thread as inside until the returned guard drops
    /// (also when a panic unwinds through it). Call only with the lock held.
    #[inline]
    pub(crate) fn enter(&self) -> Inside<'_> {
        let outer = self.0.swap(thread_mark(), Relaxed);
        Inside {
            holder: self,
            outer,
        }
    }

    /// Whether the thread named `mark` (from [`thread_mark`]) is inside:
    /// then the lock it waits for is its own.
    #[inline]
    pub(crate) fn is(&self, mark: usize) -> bool {
        mark != 0 && self.0.load(Relaxed) == mark
    }
}

/// A thread inside, recorded by [`Holder::enter`].
#[must_use]
pub(crate) struct Inside<'a> {
    holder: &'a Holder,
    outer: usize,
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.holder.0.store(self.outer, Relaxed);
    }
}

/// Re-entrancy: a clear panic in debug builds; release wasm32 builds trap
/// without the message (it costs ~200 bytes).
#[cold]
pub(crate) fn reentrant() -> ! {
    #[cfg(target_arch = "wasm32")]
    if !cfg!(debug_assertions) {
        core::arch::wasm32::unreachable()
    }
    reentrant_panic()
}

#[cold]
#[track_caller]
fn reentrant_panic() -> ! {
    panic!(
        "nogrow: re-entrant allocation: the allocator was called by the thread that holds it, \
         from code it runs under its lock (a Memory implementation, or a with_memory closure); \
         this would deadlock"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_recognised_only_by_its_own_thread() {
        let holder = Holder::new();
        let me = thread_mark();
        assert!(!holder.is(me), "nobody inside yet");
        let inside = holder.enter();
        if cfg!(all(feature = "std", not(target_family = "wasm"))) {
            assert_ne!(me, 0, "std names threads");
            assert!(holder.is(me));
        }
        assert!(
            !holder.is(0),
            "an unnamed thread is never taken for the holder"
        );
        drop(inside);
        assert!(!holder.is(me), "leaving clears the record");
    }
}
