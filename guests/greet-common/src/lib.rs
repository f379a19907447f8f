//! The greeting guest's code, shared by every Rust `greet-*` variant.
//!
//! It does not choose an allocator: `greet-std` links it as is (Rust's default
//! allocator, which grows memory on the first `format!`), the other variants add
//! one `nogrow::install!` line. The C ABI:
//!
//! - `get_salutation_ptr()`, `get_name_ptr()`, `get_msg_ptr()`: fixed buffers at
//!   offsets 0, 16 and 32 of one static buffer;
//! - `set_name(sal_len, name_len) -> msg_len`: builds
//!   `format!("{}, {}!", salutation, name)` into the message buffer;
//! - `repeat_greeting(times) -> len` and `get_repeat_ptr()`: the greeting
//!   repeated `times` times in one `String::with_capacity` allocation (kept
//!   until the next call), to put the allocator under pressure.

use std::sync::{
    Mutex,
    atomic::{AtomicU32, Ordering::Relaxed},
};

/// Bytes of the salutation buffer (offset 0).
pub const SALUTATION_LEN: usize = 16;
/// Bytes of the name buffer (offset 16).
pub const NAME_LEN: usize = 16;
/// Offset of the message buffer.
pub const MSG_OFFSET: usize = 32;
/// Total size of the static buffer; the message buffer is the rest.
pub const BUFFER_LEN: usize = 128;

static mut BUFFER: [u8; BUFFER_LEN] = [0; BUFFER_LEN];

static REPEATED: Mutex<String> = Mutex::new(String::new());

/// Length of the message `set_name` wrote last.
static MSG_LEN: AtomicU32 = AtomicU32::new(0);

fn buffer() -> *mut u8 {
    (&raw mut BUFFER).cast()
}

/// Address of the salutation buffer (16 bytes).
#[unsafe(no_mangle)]
pub extern "C" fn get_salutation_ptr() -> *mut u8 {
    buffer()
}

/// Address of the name buffer (16 bytes).
#[unsafe(no_mangle)]
pub extern "C" fn get_name_ptr() -> *mut u8 {
    buffer().wrapping_add(SALUTATION_LEN)
}

/// Address of the message buffer (96 bytes).
#[unsafe(no_mangle)]
pub extern "C" fn get_msg_ptr() -> *mut u8 {
    buffer().wrapping_add(MSG_OFFSET)
}

/// Builds `"{salutation}, {name}!"` from the first `sal_len` bytes of the
/// salutation buffer and `name_len` bytes of the name buffer, writes it to the
/// message buffer (truncated to fit) and returns its length.
#[unsafe(no_mangle)]
pub extern "C" fn set_name(sal_len: u32, name_len: u32) -> u32 {
    let sal_len = (sal_len as usize).min(SALUTATION_LEN);
    let name_len = (name_len as usize).min(NAME_LEN);
    // SAFETY: wasm32-unknown-unknown guests are single-threaded and the host
    // writes the buffer only between calls, so nothing else touches it while
    // this function runs; both ranges lie inside the static buffer.
    let (sal, name) = unsafe {
        (
            core::slice::from_raw_parts(get_salutation_ptr(), sal_len),
            core::slice::from_raw_parts(get_name_ptr(), name_len),
        )
    };
    let sal = core::str::from_utf8(sal).unwrap_or("?");
    let name = core::str::from_utf8(name).unwrap_or("?");
    let msg = format!("{}, {}!", sal, name);
    let n = msg.len().min(BUFFER_LEN - MSG_OFFSET);
    // SAFETY: as above; the message range `MSG_OFFSET..MSG_OFFSET + n` is inside
    // the static buffer and does not overlap `msg`'s heap allocation.
    unsafe { core::ptr::copy_nonoverlapping(msg.as_ptr(), get_msg_ptr(), n) };
    MSG_LEN.store(n as u32, Relaxed);
    n as u32
}

/// Builds the current greeting repeated `times` times in one allocation of
/// exactly `times * greeting.len()` bytes, keeps it, and returns its length.
/// An allocation failure is an out-of-memory trap (`handle_alloc_error`).
#[unsafe(no_mangle)]
pub extern "C" fn repeat_greeting(times: u32) -> u32 {
    let mut kept = REPEATED.lock().unwrap_or_else(|e| e.into_inner());
    *kept = String::new();
    // SAFETY: see `set_name`; `MSG_LEN` never exceeds the message buffer,
    // which is only read here.
    let msg = unsafe { core::slice::from_raw_parts(get_msg_ptr(), MSG_LEN.load(Relaxed) as usize) };
    let greeting = core::str::from_utf8(msg).unwrap_or("?");
    let mut s = String::with_capacity(greeting.len() * times as usize);
    for _ in 0..times {
        s.push_str(greeting);
    }
    *kept = s;
    kept.len() as u32
}

/// Address of the string kept by the last `repeat_greeting`.
#[unsafe(no_mangle)]
pub extern "C" fn get_repeat_ptr() -> *const u8 {
    REPEATED.lock().unwrap_or_else(|e| e.into_inner()).as_ptr()
}
