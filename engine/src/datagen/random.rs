//! Deterministic randomness for the generators: a SplitMix64 stream, the few
//! distributions the trip model draws from, and weighted choice tables. Only
//! basic float operations are used (no libm), so a seed gives the same
//! numbers on every platform.

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 stream.
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A stream keyed by a seed and any number of further parts (dataset,
    /// year, month, purpose), each of which changes the whole stream.
    pub(crate) fn keyed(seed: u64, parts: &[u64]) -> Rng {
        let mut state = mix(seed ^ GOLDEN_GAMMA);
        for part in parts {
            state = mix(state ^ part.wrapping_mul(GOLDEN_GAMMA).wrapping_add(1));
        }
        Rng { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Approximately standard normal: the Irwin-Hall sum of four 16-bit
    /// uniforms, scaled to unit variance (tails end at ±3.46).
    pub(crate) fn normal(&mut self) -> f64 {
        let x = self.next_u64();
        let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        ((sum as f64 + 2.0) / 65536.0 - 2.0) * 1.732_050_807_568_877_2
    }

    /// Log-normal with the given median and log-space spread.
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }
}

/// `e^x` for moderate `x`, by range reduction and a Taylor polynomial.
pub(crate) fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = x - k * std::f64::consts::LN_2;
    let mut p = 1.0;
    for i in (1..=13).rev() {
        p = 1.0 + r * p / f64::from(i);
    }
    // k is within -1010..=1010, so the biased exponent stays in range.
    p * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// A choice among indices with fixed relative weights.
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    /// Weights must be non-negative with at least one positive.
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = rng.unit() * total;
        let index = self.cumulative.partition_point(|&c| c <= target);
        index.min(self.cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        for x in [-5.0, -1.0, -0.3, 0.0, 0.2, 1.0, 2.5, 7.0] {
            let ours = exp(x);
            let theirs = f64::exp(x);
            assert!(
                ((ours - theirs) / theirs).abs() < 1e-12,
                "{x}: {ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn rng_is_keyed_and_bounded() {
        let a: Vec<u64> = (0..4).map(|_| Rng::keyed(7, &[1, 2]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::keyed(7, &[1, 2]).next_u64(),
            Rng::keyed(7, &[2, 1]).next_u64()
        );
        let mut rng = Rng::keyed(1, &[]);
        for _ in 0..1000 {
            assert!(rng.below(10) < 10);
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.normal().abs() < 3.5);
        }
        let table = Weighted::new([0.0, 1.0, 0.0, 3.0]);
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[0] + counts[2], 0);
        assert!(counts[3] > 2 * counts[1], "{counts:?}");
    }
}
