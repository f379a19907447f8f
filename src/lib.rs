#![doc = include_str!("../README.md")]
#![no_std]

mod alloc;
mod cache;
pub mod memory;
pub mod policy;
mod source;
pub mod state;
mod wasm;

pub use crate::alloc::{Arena, MIN_ARENA_BYTES, Nogrow, RawLock};
pub use crate::memory::{Memory, PAGE_SIZE, SliceMemory};
pub use crate::policy::{Fail, Policy, PolicyKind, Reserve, ReserveError, Signal};
pub use crate::source::Heap;
pub use crate::state::{Failure, State, Stats};
pub use crate::wasm::WasmMemory;

/// The memory [`arena!`] and [`install!`] use: [`WasmMemory`] (on non-wasm
/// targets, a stand-in with no pages that never grows).
pub type DefaultMemory = WasmMemory;

/// Installs a nogrow global allocator and exports its C ABI. One line:
///
/// ```ignore
/// nogrow::install!(arena: 4 << 20, policy: Fail);
/// nogrow::install!(arena: 1 << 20, policy: Reserve::pages(64));
/// nogrow::install!(arena: 1 << 20, policy: Signal::new().step_pages(16).limit_pages(1024));
/// nogrow::install!(arena: 1 << 20, linker_heap, policy: Fail);
/// ```
///
/// `arena` is the static arena in bytes (in `.bss`: part of the module's
/// initial memory, no bytes in the `.wasm`); `linker_heap` also claims the
/// memory wasm-ld declared past the static data. The policy is one of
/// [`Fail`], [`Reserve`], [`Signal`], written as in code. The allocator is the
/// `static NOGROW`, so the guest can call `NOGROW.stats()`. Exports:
/// `nogrow_state`, `nogrow_generation`, `nogrow_reserve` (see
/// [`export_abi!`]). A too-small arena or a zero reserve fails to compile.
#[macro_export]
macro_rules! install {
    (arena: $bytes:expr, linker_heap, policy: $policy:ident $($ctor:tt)*) => {
        #[global_allocator]
        static NOGROW: $crate::Nogrow<$crate::$policy> =
            $crate::arena!($bytes, $crate::$policy $($ctor)*, linker_heap);
        $crate::export_abi!(NOGROW);
        $crate::policy_section!($crate::$policy);
    };
    (arena: $bytes:expr, policy: $policy:ident $($ctor:tt)*) => {
        #[global_allocator]
        static NOGROW: $crate::Nogrow<$crate::$policy> =
            $crate::arena!($bytes, $crate::$policy $($ctor)*);
        $crate::export_abi!(NOGROW);
        $crate::policy_section!($crate::$policy);
    };
}

/// Emits the wasm custom section `nogrow` that names the policy for static
/// checkers (`nogrow check`): one 8-byte record, `abi_version: u32le,
/// policy: u32le` ([`PolicyKind`] as a number). [`install!`] uses it; a guest
/// that builds its allocator with [`arena!`] and [`export_abi!`] can add
/// `nogrow::policy_section!(nogrow::Signal);` itself.
#[macro_export]
macro_rules! policy_section {
    ($policy:ty) => {
        const _: () = {
            #[cfg(target_family = "wasm")]
            #[unsafe(link_section = "nogrow")]
            #[used]
            static NOGROW_POLICY_SECTION: [u8; 8] =
                $crate::state::policy_record(<$policy as $crate::Policy>::KIND);
        };
    };
}

/// A [`Nogrow`] over a fresh static arena of `$bytes` bytes, as a constant
/// expression for a `#[global_allocator]` static:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: nogrow::Nogrow<nogrow::Fail> = nogrow::arena!(4 << 20, nogrow::Fail);
/// nogrow::export_abi!(ALLOC);
/// ```
#[macro_export]
macro_rules! arena {
    ($bytes:expr, $policy:expr, linker_heap) => {
        $crate::arena!(@make $bytes, $policy, .with_linker_heap())
    };
    ($bytes:expr, $policy:expr) => {
        $crate::arena!(@make $bytes, $policy,)
    };
    (@make $bytes:expr, $policy:expr, $($arena:tt)*) => {{
        const BYTES: usize = $bytes;
        static mut ARENA: [::core::mem::MaybeUninit<u8>; BYTES] =
            [::core::mem::MaybeUninit::uninit(); BYTES];
        static STATE: $crate::State = $crate::State::for_policy(&$policy);
        // SAFETY: `ARENA` is declared right here and named nowhere else: the
        // allocator owns it for the program's lifetime.
        let arena = unsafe { $crate::Arena::array(&raw mut ARENA) };
        $crate::Nogrow::new(arena $($arena)*, $policy, $crate::WasmMemory, &STATE)
    }};
}

/// Exports the C ABI of the allocator `$alloc` (a `static` [`Nogrow`]):
///
/// - `nogrow_state() -> *const State`: address of the [`State`] block
///   (generation counter at offset 0);
/// - `nogrow_generation() -> u32`: the generation, after noticing growth by
///   anyone else;
/// - `nogrow_reserve(pages: u32) -> i32`: the one reserve of a [`Reserve`]
///   allocator (0 pages: the compile-time amount); 0 or a negative
///   [`ReserveError`] code.
#[macro_export]
macro_rules! export_abi {
    ($alloc:path) => {
        const _: () = {
            #[unsafe(no_mangle)]
            extern "C" fn nogrow_state() -> *const $crate::State {
                $alloc.state()
            }
            #[unsafe(no_mangle)]
            extern "C" fn nogrow_generation() -> u32 {
                $alloc.generation()
            }
            #[unsafe(no_mangle)]
            extern "C" fn nogrow_reserve(pages: u32) -> i32 {
                $alloc.reserve_code(pages)
            }
        };
    };
}
