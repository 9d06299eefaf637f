//! `sample(withReplacement, fraction, seed)`: each partition sampled on its
//! own, Bernoulli without replacement and Poisson with, seeded by the seed
//! and the partition index so a query samples the same rows every time.

use std::sync::Arc;

use polars::prelude::{DataFrame, IdxCa, NamedFrom};

use crate::error::Result;
use crate::exec::{from_polars, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

/// SplitMix64: small, fast, and good enough for sampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Knuth's Poisson sampler; fine for the small means sampling uses.
    fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut product = self.next_f64();
        let mut count = 0;
        while product > limit {
            count += 1;
            product *= self.next_f64();
        }
        count
    }
}

#[derive(Debug)]
pub struct SampleExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub fraction: f64,
    pub with_replacement: bool,
    pub seed: i64,
}

impl ExecutionPlan for SampleExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        self.input.partition_count()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let frame = self.input.execute(partition, ctx)?;
        let mut rng =
            SplitMix64((self.seed as u64) ^ (partition as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut rows: Vec<u32> = Vec::new();
        for row in 0..frame.height() as u32 {
            let copies = if self.with_replacement {
                rng.poisson(self.fraction)
            } else {
                u32::from(rng.next_f64() < self.fraction)
            };
            for _ in 0..copies {
                rows.push(row);
            }
        }
        frame
            .take(&IdxCa::new("rows".into(), rows))
            .map_err(from_polars)
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn bernoulli_rate_is_close_to_the_fraction() {
        let mut rng = SplitMix64(7);
        let kept = (0..100_000).filter(|_| rng.next_f64() < 0.1).count();
        assert!((9_000..11_000).contains(&kept), "{kept}");
        let total: u32 = (0..100_000).map(|_| rng.poisson(0.5)).sum();
        assert!((45_000..55_000).contains(&total), "{total}");
    }
}
