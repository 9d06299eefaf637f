//! Sort keys as byte-comparable rows (polars' row encoding, which applies
//! each key's direction and null placement) and, when every row's key has
//! one short width (numbers, dates, timestamps, booleans), packed into
//! integer words. A global sort compares each of millions of keys against
//! range bounds and then against each other: comparing three words beats
//! comparing byte slices, and beats comparing column by column.

use polars::prelude::{BinaryOffsetChunked, DataFrame, Expr, IdxCa, IdxSize, IntoLazy};
use rayon::prelude::*;

use crate::error::Result;
use crate::exec::from_polars;

/// Widest encoded key a `PackedKey` holds.
const PACKED_BYTES: usize = 24;

/// A key's bytes as big-endian words, zero-padded: for keys of one width,
/// comparing the words compares the bytes.
type PackedKey = [u64; 3];

/// Each row's key (the `by` expressions over `frame`), encoded so that
/// comparing the bytes orders the rows as the sort does.
pub fn encode(
    frame: &DataFrame,
    by: &[Expr],
    descending: &[bool],
    nulls_last: &[bool],
) -> Result<BinaryOffsetChunked> {
    let key_frame = frame
        .clone()
        .lazy()
        .select(by)
        .collect()
        .map_err(from_polars)?;
    polars_core::chunked_array::ops::row_encode::_get_rows_encoded_ca(
        "key".into(),
        key_frame.columns(),
        descending,
        nulls_last,
        false,
    )
    .map_err(from_polars)
}

fn rows(keys: &BinaryOffsetChunked) -> Vec<&[u8]> {
    keys.iter().map(|key| key.unwrap_or(&[])).collect()
}

fn pack(key: &[u8]) -> PackedKey {
    let mut bytes = [0u8; PACKED_BYTES];
    bytes[..key.len()].copy_from_slice(key);
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_be_bytes(w)
    };
    [word(0), word(1), word(2)]
}

/// Whether the keys all have one width that fits a `PackedKey`.
fn packable(keys: &[&[u8]]) -> bool {
    keys.first().is_some_and(|first| {
        first.len() <= PACKED_BYTES && keys.iter().all(|k| k.len() == first.len())
    })
}

/// For each key, the number of `bounds` below it: its range partition.
pub fn range_ids(keys: &BinaryOffsetChunked, bounds: &[Vec<u8>]) -> Vec<u32> {
    let keys = rows(keys);
    let width = keys.first().map(|k| k.len());
    let packed = packable(&keys) && bounds.iter().all(|b| Some(b.len()) == width);
    polars_core::runtime::THREAD_POOL.install(|| {
        if packed {
            let bounds: Vec<PackedKey> = bounds.iter().map(|b| pack(b)).collect();
            keys.par_iter()
                .with_min_len(64 * 1024)
                .map(|key| {
                    let key = pack(key);
                    bounds.partition_point(|b| *b < key) as u32
                })
                .collect()
        } else {
            keys.par_iter()
                .with_min_len(64 * 1024)
                .map(|key| bounds.partition_point(|b| b.as_slice() < *key) as u32)
                .collect()
        }
    })
}

/// The rows in key order, rows with equal keys in their input order (what
/// a stable sort gives, and Spark's sort within a partition).
pub fn sort_order(keys: BinaryOffsetChunked) -> IdxCa {
    let order: Vec<IdxSize> = polars_core::runtime::THREAD_POOL.install(|| {
        let rows = rows(&keys);
        if packable(&rows) {
            // The packed copies are all the sort needs: the encoded keys go first.
            let mut packed: Vec<(PackedKey, IdxSize)> = rows
                .par_iter()
                .enumerate()
                .map(|(i, k)| (pack(k), i as IdxSize))
                .collect();
            drop(rows);
            drop(keys);
            packed.par_sort_unstable();
            packed.into_par_iter().map(|(_, i)| i).collect()
        } else {
            let mut rows: Vec<(&[u8], IdxSize)> = rows
                .into_iter()
                .enumerate()
                .map(|(i, k)| (k, i as IdxSize))
                .collect();
            rows.par_sort_unstable();
            rows.into_par_iter().map(|(_, i)| i).collect()
        }
    });
    IdxCa::from_vec("order".into(), order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{col, IntoColumn, NamedFrom, Series};

    fn frame() -> DataFrame {
        let amounts = Series::new(
            "amount".into(),
            [
                Some(2.5),
                None,
                Some(-1.0),
                Some(2.5),
                Some(f64::NAN),
                Some(0.0),
            ],
        );
        let names = Series::new("name".into(), ["b", "a", "cc", "a", "d", "eee"]);
        DataFrame::new(6, vec![amounts.into_column(), names.into_column()]).unwrap()
    }

    fn order(
        frame: &DataFrame,
        by: &[Expr],
        descending: &[bool],
        nulls_last: &[bool],
    ) -> Vec<IdxSize> {
        let keys = encode(frame, by, descending, nulls_last).unwrap();
        sort_order(keys).into_no_null_iter().collect()
    }

    #[test]
    fn fixed_width_keys_sort_stably_with_nulls_placed() {
        let f = frame();
        // Ascending, nulls first: null, -1, 0, 2.5 (row 0 before row 3), NaN last.
        assert_eq!(
            order(&f, &[col("amount")], &[false], &[false]),
            [1, 2, 5, 0, 3, 4]
        );
        // Descending, nulls last: NaN, 2.5, 2.5 (still row 0 first), 0, -1, null.
        assert_eq!(
            order(&f, &[col("amount")], &[true], &[true]),
            [4, 0, 3, 5, 2, 1]
        );
    }

    #[test]
    fn variable_width_keys_sort_by_their_bytes() {
        let f = frame();
        let by = [col("name"), col("amount")];
        assert_eq!(
            order(&f, &by, &[false, true], &[false, true]),
            [3, 1, 0, 2, 4, 5]
        );
    }

    #[test]
    fn range_ids_count_the_bounds_below_each_key() {
        let f = frame();
        let keys = encode(&f, &[col("amount")], &[false], &[false]).unwrap();
        let at = |row: usize| keys.get(row).unwrap().to_vec();
        // Bounds: the keys of -1.0 and 2.5.
        let bounds = vec![at(2), at(0)];
        assert_eq!(range_ids(&keys, &bounds), [1, 0, 0, 1, 2, 1]);
        let names = encode(&f, &[col("name")], &[false], &[false]).unwrap();
        let bounds = vec![names.get(0).unwrap().to_vec()];
        assert_eq!(range_ids(&names, &bounds), [0, 0, 1, 0, 1, 1]);
    }
}
