//! Where random decisions come from: a seeded PRNG, or fuzzer bytes.

/// Where random decisions come from.
pub trait Choices {
    /// The next 32 random bits, or `None` when the input is exhausted.
    fn next(&mut self) -> Option<u32>;
}

/// SplitMix64: a tiny seeded PRNG (never exhausted).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Choices for Rng {
    fn next(&mut self) -> Option<u32> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Some(((z ^ (z >> 31)) >> 32) as u32)
    }
}

/// Decisions read from fuzzer bytes, two bytes per decision, ending with the input.
#[derive(Debug)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Choices for Bytes<'_> {
    fn next(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(2)?;
        self.0 = rest;
        let v = u16::from_le_bytes([head[0], head[1]]) as u32;
        // Spread 16 bits over 32 so `% n` for large n still reaches high values.
        Some(v.wrapping_mul(0x0001_0001) ^ (v << 7))
    }
}
