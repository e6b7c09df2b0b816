//! The generator's randomness: counter-based SplitMix64 streams and
//! bijective scramblers.
//!
//! Every random decision of the generator comes from a stream keyed by
//! `(seed, domain, index)`, so that attribute `i` or event `e` can be
//! generated without generating anything before it. This is what makes
//! [`Corpus::attributes_range`](super::Corpus::attributes_range) give
//! exactly the slice of the full stream.

/// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mixer.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Domains that separate the streams of one seed.
#[derive(Clone, Copy)]
#[repr(u64)]
pub(crate) enum Domain {
    Attribute = 1,
    Event = 2,
    EventSizes = 3,
    Layout = 4,
    Org = 5,
    Uuid = 6,
    Value = 7,
}

/// The key of stream `(seed, domain, index)`.
#[inline]
pub(crate) fn key(seed: u64, domain: Domain, index: u64) -> u64 {
    mix64(seed ^ mix64((domain as u64).wrapping_mul(GOLDEN_GAMMA) ^ index.rotate_left(17)))
}

/// A SplitMix64 generator: tiny, fast and good enough for synthetic data
/// (it passes BigCrush), and seedable from any 64-bit key.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first state is `seed`.
    #[inline]
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator of stream `(seed, domain, index)`.
    #[inline]
    pub(crate) fn stream(seed: u64, domain: Domain, index: u64) -> SplitMix64 {
        SplitMix64::new(key(seed, domain, index))
    }

    /// The next 64 random bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A number in `0..n` (Lemire's multiply-shift; `0` when `n == 0`).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        below(self.next_u64(), n)
    }

    /// A float in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `threshold / 2^64` (see [`threshold`]).
    #[inline]
    pub(crate) fn chance(&mut self, threshold: u64) -> bool {
        self.next_u64() < threshold
    }
}

/// Maps 64 random bits to `0..n` without division.
#[inline]
pub(crate) fn below(bits: u64, n: u64) -> u64 {
    ((u128::from(bits) * u128::from(n)) >> 64) as u64
}

/// The 64-bit threshold under which a uniform `u64` falls with
/// probability `p` (clamped to `[0, 1]`).
pub(crate) fn threshold(p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

/// Picks an index with probability proportional to its weight, from 64
/// random bits, exactly (up to 2^-64) and in about one comparison: a guide
/// table on the top 8 bits of the draw gives the first candidate, the
/// cumulative thresholds decide. The guide has 256 entries (1 KiB), so it
/// stays in L1 next to the rest of the generator's tables.
#[derive(Clone, Debug)]
pub(crate) struct Picker {
    thresholds: Vec<u64>,
    guide: Vec<u32>,
}

impl Picker {
    /// A picker over `weights` (finite, non-negative; all zero or empty
    /// always picks 0).
    pub(crate) fn new(weights: &[f64]) -> Picker {
        let total: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
        let mut acc = 0.0;
        let mut thresholds: Vec<u64> = weights
            .iter()
            .map(|&w| {
                if w.is_finite() && w > 0.0 {
                    acc += w;
                }
                if total > 0.0 {
                    threshold(acc / total)
                } else {
                    u64::MAX
                }
            })
            .collect();
        // Every draw falls somewhere: the last positive weight ends at MAX.
        if let Some(last) = weights.iter().rposition(|&w| w.is_finite() && w > 0.0) {
            for t in &mut thresholds[last..] {
                *t = u64::MAX;
            }
        }
        if thresholds.is_empty() {
            thresholds.push(u64::MAX);
        }
        let guide = (0..256u64)
            .map(|b| {
                thresholds
                    .iter()
                    .position(|&t| t > b << 56)
                    .unwrap_or(thresholds.len() - 1) as u32
            })
            .collect();
        Picker { thresholds, guide }
    }

    /// The index picked by `draw`.
    #[inline]
    pub(crate) fn pick(&self, draw: u64) -> usize {
        let mut i = self
            .guide
            .get((draw >> 56) as usize)
            .map_or(0, |&g| g as usize);
        while let Some(&t) = self.thresholds.get(i) {
            if draw < t || i + 1 == self.thresholds.len() {
                break;
            }
            i += 1;
        }
        i
    }
}

/// A bijection on the integers `0..2^bits`, keyed by a seed.
///
/// Used to turn dense entity numbers into scattered ones while keeping
/// distinct numbers distinct: the rendering of a value from its scrambled
/// number is then collision-free by construction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scrambler {
    mask: u64,
    shift: u32,
    add: [u64; 3],
    mul: [u64; 3],
}

impl Scrambler {
    /// A scrambler on `bits` bits (clamped to `1..=64`).
    pub(crate) fn new(bits: u32, seed: u64) -> Scrambler {
        let bits = bits.clamp(1, 64);
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let mut rng = SplitMix64::new(seed);
        let mut add = [0; 3];
        let mut mul = [0; 3];
        for i in 0..3 {
            add[i] = rng.next_u64() & mask;
            mul[i] = (rng.next_u64() | 1) & mask;
        }
        Scrambler {
            mask,
            shift: bits.div_ceil(2),
            add,
            mul,
        }
    }

    /// The image of `x` (taken modulo `2^bits`). Each step — adding a
    /// key, multiplying by an odd number, xor with a right shift — is a
    /// bijection modulo `2^bits`, so the whole is one.
    #[inline]
    pub(crate) fn apply(&self, x: u64) -> u64 {
        let mut x = x & self.mask;
        for i in 0..3 {
            x = x.wrapping_add(self.add[i]) & self.mask;
            x = x.wrapping_mul(self.mul[i]) & self.mask;
            x ^= x >> self.shift;
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrambler_is_a_bijection_on_small_widths() {
        for bits in [1, 2, 5, 12, 16] {
            let s = Scrambler::new(bits, 42);
            let n = 1usize << bits;
            let mut seen = vec![false; n];
            for x in 0..n as u64 {
                let y = s.apply(x) as usize;
                assert!(y < n);
                assert!(!seen[y], "bits {bits}: {x} collides");
                seen[y] = true;
            }
        }
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let mut a = SplitMix64::stream(7, Domain::Attribute, 3);
        let mut b = SplitMix64::stream(7, Domain::Attribute, 3);
        let mut c = SplitMix64::stream(7, Domain::Attribute, 4);
        let mut d = SplitMix64::stream(7, Domain::Event, 3);
        let xa = a.next_u64();
        assert_eq!(xa, b.next_u64());
        assert_ne!(xa, c.next_u64());
        assert_ne!(xa, d.next_u64());
    }

    #[test]
    fn picker_matches_the_weights_exactly() {
        let p = Picker::new(&[0.5, 0.0, 0.25, 0.25]);
        assert_eq!(p.pick(0), 0);
        assert_eq!(p.pick(threshold(0.5) - 1), 0);
        assert_eq!(p.pick(threshold(0.5)), 2);
        assert_eq!(p.pick(threshold(0.75)), 3);
        assert_eq!(p.pick(u64::MAX), 3);
        let naive = |draw: u64| {
            let t = [threshold(0.5), threshold(0.5), threshold(0.75), u64::MAX];
            t.iter().position(|&x| draw < x).unwrap_or(3)
        };
        let mut r = SplitMix64::new(5);
        for _ in 0..100_000 {
            let d = r.next_u64();
            assert_eq!(p.pick(d), naive(d));
        }
        assert_eq!(Picker::new(&[]).pick(7), 0);
        assert_eq!(Picker::new(&[0.0, 0.0]).pick(7), 0);
        let tiny = Picker::new(&[1e-9, 1.0]);
        assert_eq!(tiny.pick(0), 0);
        assert_eq!(tiny.pick(1 << 40), 1);
    }

    #[test]
    fn below_and_threshold() {
        let mut r = SplitMix64::new(1);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(1.5), u64::MAX);
        let t = threshold(0.25);
        let hits = (0..100_000).filter(|_| r.chance(t)).count();
        assert!((23_000..27_000).contains(&hits), "{hits}");
    }
}
