//! The allocator's lock: test-and-set on one byte, waiting on plain loads.
//!
//! Taking the lock is one atomic swap of `true` into the flag; a taker that
//! finds it already set spins on plain loads until it looks clear before
//! swapping again, so waiters do not keep pulling the lock's cache line from
//! its holder.
//!
//! The swap is atomic on every build, although on wasm without the
//! `atomics` target feature (memory that cannot be shared, one thread) a
//! load and a store would do, two wasm instructions cheaper per lock. A
//! crate cannot tell the two builds apart: stable Rust accepts
//! `-Ctarget-feature=+atomics` but sets no `target_feature = "atomics"`
//! cfg, and a dependency compiled without the flag gets real atomic
//! instructions anyway when the final link's LTO module has it. A lock
//! chosen by that cfg is a plain flag in threaded builds. Without
//! `atomics`, LLVM lowers the swap to a load and a store, which is what one
//! thread needs. A set flag seen by the thread that holds the lock is
//! re-entry (see [`reentry`](crate::reentry)).

use core::sync::atomic::{
    AtomicBool,
    Ordering::{Acquire, Relaxed, Release},
};

use talc::lock_api::{GuardSend, RawMutex};

/// nogrow's lock (see the module docs): a [`RawMutex`] for talc's `TalcLock`.
#[derive(Debug)]
pub struct RawLock {
    locked: AtomicBool,
}

// SAFETY: `try_lock` succeeds for one caller at a time until `unlock`: it
// succeeds only when its atomic swap of `true` returned `false`, and of the
// swaps that find the flag clear after an `unlock` only one can (Acquire,
// paired with `unlock`'s Release store, so the holder sees what the previous
// holder wrote). `lock` returns only after a successful `try_lock`.
unsafe impl RawMutex for RawLock {
    #[allow(clippy::declare_interior_mutable_const)] // lock_api's pattern: a fresh lock per use
    const INIT: Self = Self {
        locked: AtomicBool::new(false),
    };

    type GuardMarker = GuardSend;

    #[inline]
    fn lock(&self) {
        while !self.try_lock() {
            while self.locked.load(Relaxed) {
                core::hint::spin_loop();
            }
        }
    }

    #[inline(always)]
    fn try_lock(&self) -> bool {
        !self.locked.swap(true, Acquire)
    }

    #[inline(always)]
    unsafe fn unlock(&self) {
        self.locked.store(false, Release);
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::{sync::Arc, thread, vec::Vec};

    use talc::lock_api::Mutex;

    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let lock = RawLock::INIT;
        assert!(lock.try_lock());
        assert!(lock.is_locked());
        assert!(!lock.try_lock(), "taken twice");
        // SAFETY: held by this test.
        unsafe { lock.unlock() };
        assert!(!lock.is_locked());
        assert!(lock.try_lock());
    }

    #[test]
    fn threads_never_lose_an_update_under_the_lock() {
        // A non-atomic read-modify-write under the lock: lost updates if two
        // threads ever held it at once.
        let counter = Arc::new(Mutex::<RawLock, u64>::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut c = counter.lock();
                        let v = *c;
                        core::hint::black_box(&v);
                        *c = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*counter.lock(), 80_000);
    }
}
