//! Greeting guest under nogrow's Signal policy: a small arena that grows when
//! it must (at least 4 pages at a time, at most 1024 pages in all) and bumps
//! the generation counter. Linked with `--max-memory` so that engines with
//! `toResizableBuffer` can track its growth without checks.

use guest_greet_common as _;

nogrow::install!(arena: 64 << 10, policy: Signal::new().step_pages(4).limit_pages(1024));
