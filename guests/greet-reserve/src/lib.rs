//! Greeting guest under nogrow's Reserve policy: the host calls
//! `nogrow_reserve(0)` right after instantiation, which grows memory once by
//! 16 pages before any view exists.

use guest_greet_common as _;

nogrow::install!(arena: 64 << 10, policy: Reserve::pages(16));
