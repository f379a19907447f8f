//! Greeting guest under nogrow's Fail policy: a 256 KiB static arena, never
//! `memory.grow`; exhaustion is an out-of-memory trap the host can explain.

use guest_greet_common as _;

nogrow::install!(arena: 256 << 10, policy: Fail);
