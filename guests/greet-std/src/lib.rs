//! Greeting guest, the control: the shared greeting code with Rust's default
//! allocator. Its first `format!` grows linear memory, which detaches every
//! view the host made of it before the call.

use guest_greet_common as _;
