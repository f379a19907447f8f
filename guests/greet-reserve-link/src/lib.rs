//! Greeting guest that reserves at link time: linked with
//! `--initial-memory` (see `xtask/src/guests.rs`), it claims the linker heap
//! `__heap_base..__heap_end` under the Fail policy, so the module contains no
//! `memory.grow` instruction at all.

use guest_greet_common as _;

nogrow::install!(arena: 64 << 10, linker_heap, policy: Fail);
