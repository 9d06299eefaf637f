//! `mode(x[, deterministic])`: the most frequent non-null value of a group.
//! Where several values are equally frequent Spark returns any of them, or
//! the lowest when asked to be deterministic; Kiln always returns the
//! lowest, which is one of Spark's answers either way, or the highest for
//! `mode() WITHIN GROUP (ORDER BY x DESC)`.

use polars::prelude::{self as pl, DataType as PlType, IntoColumn, SortOptions};

/// The most frequent value of each group's list (`columns[0]`: a list per
/// group of structs whose first field is the value); NULL for no values.
fn modes(
    columns: &mut [pl::Column],
    dtype: &PlType,
    highest: bool,
) -> pl::PolarsResult<pl::Column> {
    let lists = columns[0].list()?.clone();
    let mut found: Vec<pl::AnyValue<'static>> = Vec::with_capacity(lists.len());
    for list in lists.amortized_iter() {
        let mut best = pl::AnyValue::Null;
        if let Some(list) = list {
            let fields = list.as_ref().struct_()?.fields_as_series();
            let order = SortOptions::default().with_order_descending(highest);
            let sorted = fields[0].drop_nulls().sort(order)?;
            let (mut best_run, mut run) = (0usize, 0usize);
            for row in 0..sorted.len() {
                let value = sorted.get(row)?;
                run = if row > 0 && sorted.get(row - 1)? == value {
                    run + 1
                } else {
                    1
                };
                if run > best_run {
                    best_run = run;
                    best = value.into_static();
                }
            }
        }
        found.push(best);
    }
    Ok(
        pl::Series::from_any_values_and_dtype(columns[0].name().clone(), &found, dtype, false)?
            .into_column(),
    )
}

/// `mode(value)` over a group's rows, the highest of equally frequent
/// values when `highest`, else the lowest; `data_type` is the value's.
/// `tag` is the aggregate's state name (`co_moments::group_rows`).
pub fn mode(value: pl::Expr, data_type: PlType, highest: bool, tag: &str) -> pl::Expr {
    let output = data_type.clone();
    crate::co_moments::group_rows(vec![value], tag).map_many(
        move |columns: &mut [pl::Column]| modes(columns, &data_type, highest),
        &[],
        move |_, fields| Ok(pl::Field::new(fields[0].name().clone(), output.clone())),
    )
}
