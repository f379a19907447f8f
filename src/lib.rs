#![doc = include_str!("../README.md")]
#![no_std]

// `std` only names host threads (see `reentry`); on wasm it does nothing, so
// `no_std` guests keep their own panic handler.
#[cfg(all(feature = "std", not(target_family = "wasm")))]
extern crate std;

mod alloc;
pub mod binning;
pub mod c_alloc;
mod cache;
pub mod component;
pub mod expect;
pub mod host;
mod lock;
pub mod memory;
pub mod policy;
mod reentry;
pub mod sizing;
mod source;
pub mod state;
mod wasm;

pub use crate::alloc::{Arena, MIN_ARENA_BYTES, Nogrow};
pub use crate::lock::RawLock;
pub use crate::memory::{Memory, PAGE_SIZE, SliceMemory};
pub use crate::policy::{Fail, Policy, PolicyKind, Reserve, ReserveError, Signal};
pub use crate::source::HeapSource;
pub use crate::state::{Failure, State, Stats};
pub use crate::wasm::WasmMemory;

/// The memory [`arena!`] and [`install!`] use: [`WasmMemory`] (on non-wasm
/// targets, a stand-in with no pages that never grows).
pub type DefaultMemory = WasmMemory;

/// Installs a nogrow global allocator and exports its C ABI. One line:
///
/// ```
/// nogrow::install!(arena: 4 << 20, policy: Fail);
/// # fn main() {
/// let before = NOGROW.stats().allocs;
/// let greeting = format!("{}, {}!", "Ahoy there", "Testy McTestface");
/// assert_eq!(NOGROW.stats().allocs, before + 1);
/// # drop(greeting);
/// # }
/// ```
///
/// The other policies, one per module:
///
/// ```ignore
/// nogrow::install!(arena: 1 << 20, policy: Reserve::pages(64));
/// nogrow::install!(arena: 1 << 20, policy: Signal::new().step_pages(16).limit_pages(1024));
/// nogrow::install!(arena: 1 << 20, linker_heap, policy: Fail);
/// ```
///
/// `arena` is the static arena in bytes (in `.bss`: part of the module's
/// initial memory, no bytes in the `.wasm`); `linker_heap` also claims the
/// memory wasm-ld declared past the static data. The policy is one of
/// [`Fail`], [`Reserve`], [`Signal`], written as in code, bare or as a path
/// (`Fail`, `nogrow::Fail`, `nogrow::Signal::new().step_pages(4)`); anything
/// else is a compile-time error that lists the accepted forms. The allocator is the
/// `static NOGROW`, so the guest can call `NOGROW.stats()`. Exports:
/// `nogrow_state`, `nogrow_generation`, `nogrow_reserve` (see
/// [`export_abi!`]). A too-small arena or a zero reserve fails to compile.
#[macro_export]
macro_rules! install {
    // The policy may be written as a path into this crate, as in code.
    (arena: $bytes:expr, linker_heap, policy: $(::)? nogrow::$($rest:tt)*) => {
        $crate::install!(arena: $bytes, linker_heap, policy: $($rest)*);
    };
    (arena: $bytes:expr, policy: $(::)? nogrow::$($rest:tt)*) => {
        $crate::install!(arena: $bytes, policy: $($rest)*);
    };
    (arena: $bytes:expr, linker_heap, policy: $policy:ident $($ctor:tt)*) => {
        $crate::arena! {
            #[global_allocator]
            static NOGROW: $crate::Nogrow<$crate::$policy> =
                ($bytes, $crate::$policy $($ctor)*, linker_heap);
        }
        $crate::export_abi!(NOGROW);
        $crate::policy_section!($crate::$policy);
    };
    (arena: $bytes:expr, policy: $policy:ident $($ctor:tt)*) => {
        $crate::arena! {
            #[global_allocator]
            static NOGROW: $crate::Nogrow<$crate::$policy> = ($bytes, $crate::$policy $($ctor)*);
        }
        $crate::export_abi!(NOGROW);
        $crate::policy_section!($crate::$policy);
    };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "nogrow::install! takes `arena: BYTES, policy: POLICY` (with `linker_heap,` before \
             `policy` to claim the linker heap too), where POLICY is `Fail`, `Reserve::pages(N)`, \
             `Reserve::bytes(N)`, `Reserve::runtime()`, `Signal::new()` with optional \
             `.step_pages(N)` / `.limit_pages(N)`, each also as `nogrow::...`"
        );
    };
}

/// Emits the wasm custom section `nogrow` that names the policy for static
/// checkers (`nogrow check`): one 8-byte record, `abi_version: u32le,
/// policy: u32le` ([`PolicyKind`] as a number); and the section
/// `nogrow.layout` ([`state::LAYOUT_TEXT`]), the state block's layout as the
/// crate that built the module defines it, so hosts can check theirs. [`install!`] uses it; a guest
/// that builds its allocator with [`arena!`] and [`export_abi!`] can add
/// `nogrow::policy_section!(nogrow::Signal);` itself.
#[macro_export]
macro_rules! policy_section {
    ($policy:ty) => {
        // No `#[used]`: on wasm, rustc emits a `link_section` static as a
        // custom section by itself; `#[used]` would also keep a copy of its
        // bytes in the module's data, in linear memory.
        const _: () = {
            #[cfg(target_family = "wasm")]
            #[unsafe(link_section = "nogrow")]
            #[allow(dead_code)]
            static NOGROW_POLICY_SECTION: [u8; 8] =
                $crate::state::policy_record(<$policy as $crate::Policy>::KIND);
            #[cfg(target_family = "wasm")]
            #[unsafe(link_section = "nogrow.layout")]
            #[allow(dead_code)]
            static NOGROW_LAYOUT_SECTION: [u8; $crate::state::LAYOUT_RECORD.len()] =
                $crate::state::LAYOUT_RECORD;
        };
    };
}

/// Declares a `static` [`Nogrow`] over a fresh static arena of `bytes` bytes:
///
/// ```
/// nogrow::arena! {
///     #[global_allocator]
///     static ALLOC: nogrow::Nogrow<nogrow::Fail> = (4 << 20, nogrow::Fail);
/// }
/// nogrow::export_abi!(ALLOC);
/// # fn main() {
/// let before = ALLOC.stats().allocs;
/// drop(vec![1u8; 64]);
/// assert_eq!(ALLOC.stats().allocs, before + 1);
/// # }
/// ```
///
/// Append `, linker_heap` after the policy to also claim the memory wasm-ld
/// declared past the static data ([`Arena::with_linker_heap`]).
///
/// The declared type picks the binning (see [`binning`]); the default is
/// [`Compact`](binning::Compact), and talc's faster, coarser one is a type away:
///
/// ```
/// nogrow::arena! {
///     #[global_allocator]
///     static ALLOC: nogrow::Nogrow<nogrow::Fail, nogrow::WasmMemory, nogrow::binning::Fast> =
///         (4 << 20, nogrow::Fail);
/// }
/// nogrow::export_abi!(ALLOC);
/// # fn main() {
/// # let before = ALLOC.stats().allocs;
/// # drop(vec![1u8; 64]);
/// # assert_eq!(ALLOC.stats().allocs, before + 1);
/// # }
/// ```
///
/// The macro declares the `static` itself, with the arena inside its
/// initializer, which the compiler evaluates once: every arena has exactly one
/// allocator. There is no expression form, since an expression evaluated twice
/// (in a function called twice) would make two allocators over one arena:
///
/// ```compile_fail
/// fn make() -> nogrow::Nogrow<nogrow::Fail> {
///     nogrow::arena!(64 << 10, nogrow::Fail) // error: arena! declares a static
/// }
/// ```
#[macro_export]
macro_rules! arena {
    (
        $(#[$attr:meta])*
        $vis:vis static $name:ident : $ty:ty = ($bytes:expr, $policy:expr, linker_heap $(,)?);
    ) => {
        $crate::arena!(@static [$(#[$attr])*] $vis $name, $ty, $bytes, $policy, .with_linker_heap());
    };
    (
        $(#[$attr:meta])*
        $vis:vis static $name:ident : $ty:ty = ($bytes:expr, $policy:expr $(,)?);
    ) => {
        $crate::arena!(@static [$(#[$attr])*] $vis $name, $ty, $bytes, $policy,);
    };
    (@static [$($attr:tt)*] $vis:vis $name:ident, $ty:ty, $bytes:expr, $policy:expr, $($arena:tt)*) => {
        $($attr)*
        $vis static $name: $ty = {
            const BYTES: usize = $bytes;
            static mut ARENA: [::core::mem::MaybeUninit<u8>; BYTES] =
                [::core::mem::MaybeUninit::uninit(); BYTES];
            static STATE: $crate::State = $crate::State::for_policy(&$policy);
            // SAFETY: `ARENA` is declared inside this static's initializer,
            // which the compiler evaluates exactly once, and nothing else can
            // name it: the allocator stored in the static is its only owner,
            // for the program's lifetime.
            let arena = unsafe { $crate::Arena::array(&raw mut ARENA) };
            $crate::Nogrow::with_binning(arena $($arena)*, $policy, $crate::WasmMemory, &STATE)
        };
    };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "nogrow::arena! declares the allocator static itself: \
             `nogrow::arena! { #[global_allocator] static ALLOC: nogrow::Nogrow<nogrow::Fail> = (4 << 20, nogrow::Fail); }` \
             (append `, linker_heap` after the policy to claim the linker heap too)"
        );
    };
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
///
/// With the `c-malloc` feature also the C allocation family
/// ([`c_alloc`]); with `sizing`, `nogrow_high_water() -> u32`
/// (`Nogrow::high_water`).
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
        $crate::__c_alloc_symbols!($alloc);
        $crate::__sizing_symbols!($alloc);
    };
}

/// Exports nogrow's state to component hosts on WASI's component targets
/// (`wasm32-wasip2`): the WIT interface `nogrow:state/state@1.0.0`
/// (`wit/state.wit`, generated from the state block's definition), with
/// `read: func() -> block` (the state block as a record),
/// `explain: func() -> option<string>` (the last failed allocation,
/// explained) and `check-alloc: func(size: u32, align: u32) ->
/// option<string>` (whether a block can be allocated now, and if not, why).
/// One line after [`install!`]:
///
/// ```ignore
/// nogrow::install!(arena: 4 << 20, policy: Fail);
/// nogrow::export_component_state!(NOGROW);
/// ```
///
/// wasm-component-ld adds the interface to the component's exports (the
/// macro embeds its world in a `component-type:` custom section, as
/// wit-bindgen does for a world). On other targets it expands to nothing.
/// See [`component`].
#[macro_export]
macro_rules! export_component_state {
    ($alloc:path) => {
        #[cfg(all(target_family = "wasm", target_os = "wasi", not(target_env = "p1")))]
        const _: () = {
            // No `#[used]`: on wasm, rustc emits a `link_section` static as a
            // custom section by itself.
            #[unsafe(link_section = concat!("component-type:", $crate::__state_interface!()))]
            static WORLD: [u8; $crate::component::COMPONENT_TYPE.len()] =
                $crate::component::COMPONENT_TYPE;
            static EXPLAIN: $crate::component::ExplainReturn =
                $crate::component::ExplainReturn::new();
            #[unsafe(export_name = concat!($crate::__state_interface!(), "#read"))]
            extern "C" fn read() -> *const $crate::State {
                $alloc.state()
            }
            #[unsafe(export_name = concat!($crate::__state_interface!(), "#explain"))]
            extern "C" fn explain() -> *const u8 {
                EXPLAIN.explain($alloc.state())
            }
            #[unsafe(export_name = concat!($crate::__state_interface!(), "#check-alloc"))]
            extern "C" fn check_alloc(size: u32, align: u32) -> *const u8 {
                EXPLAIN.check_alloc(&$alloc, $alloc.state(), size, align)
            }
        };
    };
}

/// The sizing tool's symbol over `$alloc` (feature `sizing`, wasm targets):
/// `nogrow_high_water() -> u32`, [`Nogrow::high_water`].
#[cfg(feature = "sizing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __sizing_symbols {
    ($alloc:path) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            #[unsafe(no_mangle)]
            extern "C" fn nogrow_high_water() -> u32 {
                $alloc.high_water() as u32
            }
        };
    };
}

/// Without the `sizing` feature: nothing.
#[cfg(not(feature = "sizing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __sizing_symbols {
    ($alloc:path) => {};
}

/// The C allocation family's symbols over `$alloc` (feature `c-malloc`, wasm
/// targets); see [`c_alloc`].
#[cfg(feature = "c-malloc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __c_alloc_symbols {
    ($alloc:path) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            #[unsafe(no_mangle)]
            extern "C" fn malloc(size: usize) -> *mut u8 {
                $crate::c_alloc::malloc(&$alloc, size)
            }
            #[unsafe(no_mangle)]
            extern "C" fn __libc_malloc(size: usize) -> *mut u8 {
                $crate::c_alloc::malloc(&$alloc, size)
            }
            #[unsafe(no_mangle)]
            extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
                $crate::c_alloc::calloc(&$alloc, count, size)
            }
            #[unsafe(no_mangle)]
            extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut u8 {
                $crate::c_alloc::calloc(&$alloc, count, size)
            }
            #[unsafe(no_mangle)]
            extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
                $crate::c_alloc::aligned_alloc(&$alloc, align, size)
            }
            #[unsafe(no_mangle)]
            unsafe extern "C" fn posix_memalign(
                out: *mut *mut u8,
                align: usize,
                size: usize,
            ) -> i32 {
                // SAFETY: C's contract: `out` points to a writable pointer.
                unsafe { $crate::c_alloc::posix_memalign(&$alloc, out, align, size) }
            }
            #[unsafe(no_mangle)]
            unsafe extern "C" fn free(ptr: *mut u8) {
                // SAFETY: C's contract: `ptr` is null or a live block of this
                // family; a header that does not check out aborts.
                unsafe { $crate::c_alloc::free(&$alloc, ptr) }.unwrap_or_else(|e| e.abort())
            }
            #[unsafe(no_mangle)]
            unsafe extern "C" fn __libc_free(ptr: *mut u8) {
                // SAFETY: as `free`.
                unsafe { $crate::c_alloc::free(&$alloc, ptr) }.unwrap_or_else(|e| e.abort())
            }
            #[unsafe(no_mangle)]
            unsafe extern "C" fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
                // SAFETY: as `free`.
                unsafe { $crate::c_alloc::realloc(&$alloc, ptr, size) }
                    .unwrap_or_else(|e| e.abort())
            }
            #[unsafe(no_mangle)]
            unsafe extern "C" fn malloc_usable_size(ptr: *mut u8) -> usize {
                // SAFETY: as `free`.
                unsafe { $crate::c_alloc::malloc_usable_size(&$alloc, ptr) }
                    .unwrap_or_else(|e| e.abort())
            }
        };
        // On WASI's component targets, the canonical ABI's allocation
        // function (std's and wasi-libc's are weak): the same allocation,
        // and a trap named for the failure (see `nogrow::component`).
        #[cfg(all(target_family = "wasm", target_os = "wasi", not(target_env = "p1")))]
        const _: () = {
            #[unsafe(no_mangle)]
            unsafe extern "C" fn cabi_realloc(
                old_ptr: *mut u8,
                old_len: usize,
                align: usize,
                new_len: usize,
            ) -> *mut u8 {
                // SAFETY: the canonical ABI calls this with a power-of-two
                // alignment and sizes that fit memory, and resizes only a
                // block this function returned, with its length and alignment.
                unsafe {
                    $crate::component::cabi_realloc(
                        &$alloc,
                        $alloc.state(),
                        old_ptr,
                        old_len,
                        align,
                        new_len,
                    )
                }
            }
        };
    };
}

/// Without the `c-malloc` feature: nothing.
#[cfg(not(feature = "c-malloc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __c_alloc_symbols {
    ($alloc:path) => {};
}
