//! Greeting guest rewritten to avoid allocation: the greeting is copied byte by
//! byte into the message buffer, no `String`. This is the usual workaround for
//! the detached-view failure; with nogrow the plain `format!` code works as is.

const SALUTATION_LEN: usize = 16;
const NAME_LEN: usize = 16;
const MSG_OFFSET: usize = 32;
const BUFFER_LEN: usize = 128;

static mut BUFFER: [u8; BUFFER_LEN] = [0; BUFFER_LEN];

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

/// Writes `"{salutation}, {name}!"` into the message buffer without allocating
/// and returns its length.
#[unsafe(no_mangle)]
pub extern "C" fn set_name(sal_len: u32, name_len: u32) -> u32 {
    let sal_len = (sal_len as usize).min(SALUTATION_LEN);
    let name_len = (name_len as usize).min(NAME_LEN);
    let parts: [(usize, usize); 4] = [
        (0, sal_len),
        (usize::MAX, 2),
        (SALUTATION_LEN, name_len),
        (usize::MAX, 1),
    ];
    let mut n = 0;
    for (i, (at, len)) in parts.into_iter().enumerate() {
        for k in 0..len {
            if MSG_OFFSET + n >= BUFFER_LEN {
                return n as u32;
            }
            let byte = match (at, i) {
                (usize::MAX, 1) => b", "[k],
                (usize::MAX, _) => b'!',
                // SAFETY: single-threaded guest; the host writes the buffer only
                // between calls; `at + k` is inside the salutation or name buffer.
                _ => unsafe { *buffer().add(at + k) },
            };
            // SAFETY: as above; `MSG_OFFSET + n < BUFFER_LEN` was checked.
            unsafe { *buffer().add(MSG_OFFSET + n) = byte };
            n += 1;
        }
    }
    n as u32
}
