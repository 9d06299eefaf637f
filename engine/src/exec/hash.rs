//! Spark's row hashing for hash partitioning: Murmur3 x86 32-bit with seed
//! 42, including its byte-at-a-time tail for strings (`hashUnsafeBytes`),
//! chained column by column; nulls leave the running hash unchanged.

use polars::prelude::{Column, DataType as PlType};

use crate::error::{EngineError, Result};

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;
pub const SEED: u32 = 42;

fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn fmix(mut h1: u32, len: u32) -> u32 {
    h1 ^= len;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

pub fn hash_int(value: i32, seed: u32) -> u32 {
    fmix(mix_h1(seed, mix_k1(value as u32)), 4)
}

pub fn hash_long(value: i64, seed: u32) -> u32 {
    let low = value as u32;
    let high = ((value as u64) >> 32) as u32;
    let h1 = mix_h1(seed, mix_k1(low));
    fmix(mix_h1(h1, mix_k1(high)), 8)
}

pub fn hash_bytes(bytes: &[u8], seed: u32) -> u32 {
    let aligned = bytes.len() - bytes.len() % 4;
    let mut h1 = seed;
    for chunk in bytes[..aligned].chunks_exact(4) {
        let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        h1 = mix_h1(h1, mix_k1(word));
    }
    for &byte in &bytes[aligned..] {
        // Spark mixes each tail byte as a sign-extended int.
        h1 = mix_h1(h1, mix_k1(byte as i8 as i32 as u32));
    }
    fmix(h1, bytes.len() as u32)
}

fn hash_double(value: f64, seed: u32) -> u32 {
    let value = if value == 0.0 { 0.0 } else { value };
    let bits = if value.is_nan() {
        0x7ff8_0000_0000_0000u64 as i64
    } else {
        value.to_bits() as i64
    };
    hash_long(bits, seed)
}

fn hash_float(value: f32, seed: u32) -> u32 {
    let value = if value == 0.0 { 0.0 } else { value };
    let bits = if value.is_nan() {
        0x7fc0_0000
    } else {
        value.to_bits() as i32
    };
    hash_int(bits, seed)
}

/// Folds one column into the running per-row hashes.
pub fn hash_column(column: &Column, hashes: &mut [u32]) -> Result<()> {
    let series = column.as_materialized_series();
    macro_rules! fold {
        ($values:expr, $f:expr) => {
            for (h, v) in hashes.iter_mut().zip($values) {
                if let Some(v) = v {
                    *h = $f(v, *h);
                }
            }
        };
    }
    match series.dtype() {
        PlType::Boolean => fold!(series.bool()?.iter(), |v: bool, h| hash_int(v as i32, h)),
        PlType::Int8 => fold!(series.i8()?.iter(), |v: i8, h| hash_int(v as i32, h)),
        PlType::Int16 => fold!(series.i16()?.iter(), |v: i16, h| hash_int(v as i32, h)),
        PlType::Int32 => fold!(series.i32()?.iter(), hash_int),
        PlType::Int64 => fold!(series.i64()?.iter(), hash_long),
        PlType::Float32 => fold!(series.f32()?.iter(), hash_float),
        PlType::Float64 => fold!(series.f64()?.iter(), hash_double),
        PlType::String => fold!(series.str()?.iter(), |v: &str, h| hash_bytes(
            v.as_bytes(),
            h
        )),
        PlType::Binary => fold!(series.binary()?.iter(), hash_bytes),
        PlType::Date => fold!(series.date()?.physical().iter(), hash_int),
        PlType::Datetime(..) => fold!(series.datetime()?.physical().iter(), hash_long),
        PlType::Duration(..) => fold!(series.duration()?.physical().iter(), hash_long),
        PlType::Decimal(precision, _) if *precision <= 18 => {
            fold!(series.decimal()?.physical().iter(), |v: i128, h| hash_long(
                v as i64, h
            ))
        }
        PlType::Decimal(..) => fold!(series.decimal()?.physical().iter(), |v: i128, h| {
            // Java's BigInteger.toByteArray: minimal big-endian two's complement.
            let bytes = v.to_be_bytes();
            let skip = bytes
                .windows(2)
                .take_while(|w| {
                    (w[0] == 0 && w[1] & 0x80 == 0) || (w[0] == 0xff && w[1] & 0x80 != 0)
                })
                .count();
            hash_bytes(&bytes[skip..], h)
        }),
        other => {
            return Err(EngineError::spark(
                "UNSUPPORTED_FEATURE.PARTITION_BY_TYPE",
                format!("Hash partitioning by a column of type {other} is not supported yet."),
            ))
        }
    }
    Ok(())
}

/// `pmod(hash(columns), n)` for every row.
pub fn partition_ids(columns: &[Column], rows: usize, n: usize) -> Result<Vec<u32>> {
    let mut hashes = vec![SEED; rows];
    for column in columns {
        hash_column(column, &mut hashes)?;
    }
    Ok(hashes
        .into_iter()
        .map(|h| (h as i32).rem_euclid(n as i32) as u32)
        .collect())
}

/// `java.util.Random(seed).nextInt(bound)`, which Spark's round-robin uses
/// to pick each task's starting partition.
pub fn java_random_next_int(seed: i64, bound: i32) -> i32 {
    const MULTIPLIER: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut state = (seed ^ MULTIPLIER) & MASK;
    let mut next = || {
        state = (state.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (state >> 17) as i32
    };
    let mut r = next();
    let m = bound - 1;
    if bound & m == 0 {
        return ((bound as i64 * r as i64) >> 31) as i32;
    }
    let mut u = r;
    loop {
        r = u % bound;
        if u.wrapping_sub(r).wrapping_add(m) >= 0 {
            return r;
        }
        u = next();
    }
}

/// Scala's `hashing.byteswap32`.
pub fn byteswap32(v: i32) -> i32 {
    let hc = v.wrapping_mul(0x9e37_79b9_u32 as i32);
    hc.swap_bytes().wrapping_mul(0x9e37_79b9_u32 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_spark_test_vectors() {
        assert_eq!(hash_int(1, SEED) as i32, -559_580_957);
        assert_eq!(hash_long(1, SEED) as i32, -1_712_319_331);
        assert_eq!(hash_bytes(b"a", SEED) as i32, 1_485_273_170);
    }

    #[test]
    fn java_random_matches_the_jdk() {
        // new java.util.Random(42).nextInt(10) == 0; new Random(0).nextInt(100) == 60
        assert_eq!(java_random_next_int(42, 10), 0);
        assert_eq!(java_random_next_int(0, 100), 60);
        assert_eq!(java_random_next_int(1, 16), 11);
    }
}
