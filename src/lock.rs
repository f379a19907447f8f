//! The allocator's lock: a spin lock whose test is one load and one store
//! where no second thread can exist.
//!
//! Where threads may share the lock (any target but wasm; wasm with the
//! `atomics` target feature, whose memory can be shared), taking it is one
//! atomic compare-exchange, and a waiter spins on plain loads until the lock
//! looks free before trying again, so waiters do not keep pulling the lock's
//! cache line from its holder.
//!
//! Without `atomics`, a wasm module's memory is not shared: wasm-ld refuses
//! `--shared-memory` for code built without the feature, and a shared memory
//! cannot be given to a module whose memory is declared unshared. Only one
//! thread ever runs the module's code over its memory, nothing interrupts it
//! (wasm has no signals), and Rust's atomics there are plain loads and
//! stores anyway: the lock is a flag, tested and set in two instructions. A
//! set flag seen by the one thread means that thread holds it (re-entrancy,
//! see [`reentry`](crate::reentry)).

use core::sync::atomic::{
    AtomicBool,
    Ordering::{Acquire, Relaxed, Release},
};

use talc::lock_api::{GuardSend, RawMutex};

/// Whether more than one thread may take the lock at once (see the module
/// docs).
const SHARED: bool = !cfg!(target_family = "wasm") || cfg!(target_feature = "atomics");

/// nogrow's lock (see the module docs): a [`RawMutex`] for talc's `TalcLock`.
#[derive(Debug)]
pub struct RawLock {
    locked: AtomicBool,
}

// SAFETY: `try_lock` succeeds for one caller at a time until `unlock`:
// where threads may share the lock, through an atomic compare-exchange from
// `false` to `true` (Acquire, paired with `unlock`'s Release store, so the
// holder sees what the previous holder wrote); elsewhere only one thread
// exists (module docs), and a load that finds the flag clear followed by a
// store of `true` cannot be interleaved with another taker. `lock` returns
// only after a successful `try_lock`.
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
        if SHARED {
            self.locked
                .compare_exchange(false, true, Acquire, Relaxed)
                .is_ok()
        } else if self.locked.load(Relaxed) {
            false
        } else {
            self.locked.store(true, Relaxed);
            true
        }
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
