//! Spark's random numbers: `XORShiftRandom`, the generator behind `rand`,
//! `randn` and `sample`, seeded as Spark seeds it (the seed hashed with
//! Scala's MurmurHash3) and drawn as `java.util.Random` draws doubles and
//! Gaussians, so a seeded query returns the values Spark returns.

/// Scala's `MurmurHash3.arraySeed`, the seed of the first hash of the seed.
const ARRAY_SEED: u32 = 0x3c07_4a61;

fn mix_last(hash: u32, data: u32) -> u32 {
    let k = data
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    hash ^ k
}

fn mix(hash: u32, data: u32) -> u32 {
    mix_last(hash, data)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn avalanche(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Scala's `MurmurHash3.bytesHash` of eight bytes (no tail to mix).
fn bytes_hash(bytes: &[u8; 8], seed: u32) -> u32 {
    let mut h = seed;
    for word in bytes.chunks_exact(4) {
        h = mix(h, u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
    }
    avalanche(h ^ bytes.len() as u32)
}

/// `XORShiftRandom.hashSeed`: the seed's big-endian bytes hashed twice.
fn hash_seed(seed: i64) -> i64 {
    let bytes = seed.to_be_bytes();
    let low = bytes_hash(&bytes, ARRAY_SEED);
    let high = bytes_hash(&bytes, low);
    ((u64::from(high) << 32) | u64::from(low)) as i64
}

/// Spark's `org.apache.spark.util.random.XORShiftRandom`.
#[derive(Debug, Clone)]
pub struct XorShiftRandom {
    state: i64,
    /// The second Gaussian of the last pair `java.util.Random` drew.
    next_gaussian: Option<f64>,
}

impl XorShiftRandom {
    pub fn new(seed: i64) -> XorShiftRandom {
        XorShiftRandom {
            state: hash_seed(seed),
            next_gaussian: None,
        }
    }

    fn next(&mut self, bits: u32) -> i64 {
        let mut s = self.state;
        s ^= s << 21;
        s ^= ((s as u64) >> 35) as i64;
        s ^= s << 4;
        self.state = s;
        // Java narrows the masked state to an `int`.
        i64::from((s & ((1i64 << bits) - 1)) as i32)
    }

    /// `Random.nextDouble`: 53 random bits in [0, 1).
    pub fn next_double(&mut self) -> f64 {
        let bits = (self.next(26) << 27) + self.next(27);
        bits as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `Random.nextGaussian`: Marsaglia's polar method, a pair at a time.
    pub fn next_gaussian(&mut self) -> f64 {
        if let Some(value) = self.next_gaussian.take() {
            return value;
        }
        loop {
            let v1 = 2.0 * self.next_double() - 1.0;
            let v2 = 2.0 * self.next_double() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s < 1.0 && s != 0.0 {
                let multiplier = (-2.0 * s.ln() / s).sqrt();
                self.next_gaussian = Some(v2 * multiplier);
                return v1 * multiplier;
            }
        }
    }

    /// A Poisson count with mean `mean` (Knuth's method; Spark's sampler
    /// with replacement draws from Commons Math instead, so its counts differ).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut product = self.next_double();
        let mut count = 0;
        while product > limit {
            count += 1;
            product *= self.next_double();
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::XorShiftRandom;

    /// PySpark 4: `spark.range(0, 6, 1, 2).select(F.rand(42), F.randn(42))`,
    /// partition `p` seeded with `42 + p`.
    #[test]
    fn draws_what_spark_draws() {
        let mut p0 = XorShiftRandom::new(42);
        assert_eq!(p0.next_double(), 0.619189370225301);
        assert_eq!(p0.next_double(), 0.5096018842446481);
        assert_eq!(p0.next_double(), 0.8325259388871524);
        let mut p1 = XorShiftRandom::new(43);
        assert_eq!(p1.next_double(), 0.8017532427858894);
        let mut gaussian = XorShiftRandom::new(42);
        assert_eq!(gaussian.next_gaussian(), 2.384479054241165);
        assert_eq!(gaussian.next_gaussian(), 0.1920934041293524);
        assert_eq!(gaussian.next_gaussian(), 0.7337336533286575);
        assert_eq!(XorShiftRandom::new(0).next_double(), 0.7604953758285915);
        assert_eq!(XorShiftRandom::new(-7).next_double(), 0.14773215621571878);
    }

    #[test]
    fn poisson_counts_average_the_mean() {
        let mut rng = XorShiftRandom::new(7);
        let total: u32 = (0..100_000).map(|_| rng.poisson(0.5)).sum();
        assert!((45_000..55_000).contains(&total), "{total}");
    }
}
