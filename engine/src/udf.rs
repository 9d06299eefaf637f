//! User-defined scalar functions: code the engine calls but does not own
//! (a Python function, through the binding). The engine hands a function the
//! argument values of a batch of rows and builds a column of its declared
//! type from what it returns; how the values cross into the host language,
//! and which lock that needs, is the implementor's business.

use std::fmt;
use std::sync::Arc;

use polars::prelude::{
    self as pl, Column, Field, IdxSize, IntoColumn, IntoSeries, NewChunkedArray, PlSmallStr,
    Schema as PlSchema, Series,
};

use arrow::array::ArrayRef;

use crate::error::{EngineError, Result};
use crate::exec::from_polars;
use crate::io::arrow_bridge::{series_from_arrow, series_to_arrow};
use crate::rows::value_of;
use crate::session::any_value_of;
use crate::types::DataType;
use crate::value::Value;

/// Rows handed to a function per call, so a host that takes a lock to run
/// the function (Python's GIL) gives it back between batches.
pub const UDF_BATCH_ROWS: usize = 4096;

/// A function of one row's values, evaluated in batches.
pub trait ScalarUdf: Send + Sync {
    /// The name Spark shows in the column name: `crazy_stuff(base)`.
    fn name(&self) -> &str;

    /// The declared result type; results are converted to it.
    fn return_type(&self) -> &DataType;

    /// One result per row: `args[row]` holds that row's argument values.
    /// Results must already be values of `return_type` (or null).
    fn call_batch(&self, args: Vec<Vec<Value>>) -> Result<Vec<Value>>;

    /// Whether equal arguments always give equal results. Spark lets the
    /// engine call a deterministic function fewer times than it appears in
    /// the data; Kiln calls it once per distinct argument tuple of a
    /// partition.
    fn deterministic(&self) -> bool {
        true
    }

    /// Whether the engine may hand the function each distinct argument
    /// tuple once instead of every row: true for a deterministic function
    /// of one row; false for one that sees a batch as a whole (a pandas
    /// UDF gets every row of its batch, duplicates included).
    fn folds_equal_arguments(&self) -> bool {
        self.deterministic()
    }

    /// Whether the function takes whole columns per batch (a pandas UDF):
    /// then `call_columns` is called instead of `call_batch`.
    fn takes_columns(&self) -> bool {
        false
    }

    /// The result for one batch of at most `COLUMN_BATCH_ROWS` rows, from
    /// the arguments as Arrow arrays with Spark's physical types; one value
    /// per row, of any Arrow type that casts to `return_type`.
    fn call_columns(&self, args: &[ArrayRef]) -> Result<ArrayRef> {
        let _ = args;
        Err(EngineError::Internal(format!(
            "{} does not take columns",
            self.name()
        )))
    }
}

/// Rows per call of a column-taking function: PySpark's default
/// `spark.sql.execution.arrow.maxRecordsPerBatch`, so batches split where
/// Spark's would.
pub const COLUMN_BATCH_ROWS: usize = 10_000;

/// A shared handle to a user-defined function, as expressions hold it.
/// Two handles are equal when they are the same registration.
#[derive(Clone)]
pub struct Udf(pub Arc<dyn ScalarUdf>);

impl Udf {
    pub fn name(&self) -> &str {
        self.0.name()
    }

    pub fn return_type(&self) -> &DataType {
        self.0.return_type()
    }
}

impl PartialEq for Udf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Udf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Udf({})", self.name())
    }
}

/// The polars expression that evaluates `udf` over `inputs` (their Spark types
/// in `types`) one partition at a time.
pub fn lower_udf(udf: &Udf, inputs: Vec<pl::Expr>, types: Vec<DataType>) -> pl::Expr {
    let output = udf.return_type().to_polars();
    let function = udf.clone();
    pl::map_multiple(
        move |columns: &mut [Column]| {
            evaluate(&function, columns, &types)
                .map_err(|e| polars::error::PolarsError::ComputeError(e.to_string().into()))
        },
        inputs,
        move |_: &PlSchema, fields: &[Field]| {
            let name = fields
                .first()
                .map(|f| f.name().clone())
                .unwrap_or_else(|| PlSmallStr::from_static("udf"));
            Ok(Field::new(name, output.clone()))
        },
    )
}

/// A column-taking function over a partition: Arrow arrays in and out,
/// batch by batch.
fn evaluate_columns(udf: &Udf, columns: &[Column], types: &[DataType]) -> Result<Column> {
    let height = columns.iter().map(Column::len).max().unwrap_or(0);
    let name = columns
        .first()
        .map(|c| c.name().clone())
        .unwrap_or_else(|| PlSmallStr::from_static("udf"));
    let output = udf.return_type().to_polars();
    if height == 0 {
        return Ok(Series::new_empty(name, &output).into_column());
    }
    let mut out: Option<Series> = None;
    let mut start = 0;
    while start < height {
        let length = COLUMN_BATCH_ROWS.min(height - start);
        let arrays = columns
            .iter()
            .zip(types)
            .map(|(column, data_type)| {
                let batch = column.as_materialized_series().slice(start as i64, length);
                series_to_arrow(&batch, data_type)
            })
            .collect::<Result<Vec<_>>>()?;
        let array = udf.0.call_columns(&arrays)?;
        if array.len() != length {
            return Err(EngineError::Internal(format!(
                "{} returned {} results for {length} rows",
                udf.name(),
                array.len()
            )));
        }
        let part = series_from_arrow(name.as_str(), &array)?
            .cast(&output)
            .map_err(from_polars)?;
        match out.as_mut() {
            Some(series) => {
                series.append(&part).map_err(from_polars)?;
            }
            None => out = Some(part),
        }
        start += length;
    }
    out.map(IntoColumn::into_column)
        .ok_or_else(|| EngineError::Internal("no batches".into()))
}

fn evaluate(udf: &Udf, columns: &[Column], types: &[DataType]) -> Result<Column> {
    if udf.0.takes_columns() {
        return evaluate_columns(udf, columns, types);
    }
    let height = columns.iter().map(Column::len).max().unwrap_or(0);
    let name = columns
        .first()
        .map(|c| c.name().clone())
        .unwrap_or_else(|| PlSmallStr::from_static("udf"));
    let return_type = udf.return_type().clone();
    let inputs = columns
        .iter()
        .zip(types)
        .map(|(column, data_type)| ArgumentValues::of(column, data_type))
        .collect::<Result<Vec<_>>>()?;
    // Each row's slot among the distinct argument tuples (or itself).
    // Rows to call the function on, and (when some share arguments) each
    // row's position among them.
    let (calls, slots) = match udf.0.folds_equal_arguments() {
        true => match distinct_arguments(&inputs, height) {
            Some((firsts, slots)) => (firsts, Some(slots)),
            None => ((0..height).collect(), None),
        },
        false => ((0..height).collect::<Vec<_>>(), None),
    };
    let mut results: Option<Series> = None;
    for chunk in calls.chunks(UDF_BATCH_ROWS) {
        let batch = chunk
            .iter()
            .map(|&row| inputs.iter().map(|input| input.get(row)).collect())
            .collect::<Result<Vec<Vec<Value>>>>()?;
        let values = udf.0.call_batch(batch)?;
        if values.len() != chunk.len() {
            return Err(EngineError::Internal(format!(
                "{} returned {} results for {} rows",
                udf.name(),
                values.len(),
                chunk.len()
            )));
        }
        let part = result_series(name.clone(), &values, &return_type)?;
        match results.as_mut() {
            Some(series) => {
                series.append(&part)?;
            }
            None => results = Some(part),
        }
    }
    let results = match results {
        Some(series) => series,
        None => result_series(name, &[], &return_type)?,
    };
    let results = match slots {
        Some(slots) => results.take_slice(&slots)?,
        None => results,
    };
    Ok(results.into_column())
}

/// One argument of one row, as a hashable key.
#[derive(PartialEq, Eq, Hash)]
enum ArgumentKey<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    /// A double by its bits (NaN equals NaN, 0.0 differs from -0.0, as Python's
    /// dict would treat them too for the values a UDF sees).
    Bits(u64),
    Constant,
}

/// Rows sampled before deciding whether folding equal arguments pays.
const DISTINCT_SAMPLE_ROWS: usize = 65_536;

/// The first row of each distinct argument tuple, and each row's index among
/// them; `None` when rows cannot be compared (arguments of other types than
/// strings, integers and doubles) or when most sampled rows are distinct,
/// so the table would cost memory without saving calls.
fn distinct_arguments(
    inputs: &[ArgumentValues<'_>],
    height: usize,
) -> Option<(Vec<usize>, Vec<IdxSize>)> {
    let keyed = |row: usize| -> Option<Vec<ArgumentKey<'_>>> {
        inputs
            .iter()
            .map(|input| {
                Some(match input {
                    ArgumentValues::Strings(v) => {
                        v.get(row)?.map_or(ArgumentKey::Null, ArgumentKey::Str)
                    }
                    ArgumentValues::Longs(v) => {
                        v.get(row)?.map_or(ArgumentKey::Null, ArgumentKey::Int)
                    }
                    ArgumentValues::Integers(v) => v
                        .get(row)?
                        .map_or(ArgumentKey::Null, |x| ArgumentKey::Int(i64::from(x))),
                    ArgumentValues::Doubles(v) => v
                        .get(row)?
                        .map_or(ArgumentKey::Null, |x| ArgumentKey::Bits(x.to_bits())),
                    ArgumentValues::Constant(_) => ArgumentKey::Constant,
                    ArgumentValues::Other(..) => return None,
                })
            })
            .collect()
    };
    let mut seen: std::collections::HashMap<Vec<ArgumentKey<'_>>, IdxSize> =
        std::collections::HashMap::new();
    let mut slots = Vec::with_capacity(height);
    let mut firsts = Vec::new();
    for row in 0..height {
        if row == DISTINCT_SAMPLE_ROWS && firsts.len() * 2 > row {
            return None;
        }
        let key = keyed(row)?;
        let next = firsts.len() as IdxSize;
        let slot = *seen.entry(key).or_insert(next);
        if slot == next {
            firsts.push(row);
        }
        slots.push(slot);
    }
    Some((firsts, slots))
}

/// One argument's values, read from its column once per partition.
enum ArgumentValues<'a> {
    Strings(Vec<Option<&'a str>>),
    Longs(Vec<Option<i64>>),
    Integers(Vec<Option<i32>>),
    Doubles(Vec<Option<f64>>),
    /// A literal: one value for every row.
    Constant(Value),
    Other(&'a Column, &'a DataType),
}

impl<'a> ArgumentValues<'a> {
    fn of(column: &'a Column, data_type: &'a DataType) -> Result<Self> {
        if column.len() == 1 {
            return Ok(ArgumentValues::Constant(value_of(
                column.get(0)?,
                data_type,
            )?));
        }
        let series = column.as_materialized_series();
        Ok(match data_type {
            DataType::String => ArgumentValues::Strings(series.str()?.iter().collect()),
            DataType::Long => ArgumentValues::Longs(series.i64()?.iter().collect()),
            DataType::Integer => ArgumentValues::Integers(series.i32()?.iter().collect()),
            DataType::Double => ArgumentValues::Doubles(series.f64()?.iter().collect()),
            _ => ArgumentValues::Other(column, data_type),
        })
    }

    fn get(&self, row: usize) -> Result<Value> {
        let missing = || EngineError::Internal(format!("no argument value for row {row}"));
        Ok(match self {
            ArgumentValues::Strings(v) => v
                .get(row)
                .ok_or_else(missing)?
                .map_or(Value::Null, |s| Value::String(s.to_string())),
            ArgumentValues::Longs(v) => v
                .get(row)
                .ok_or_else(missing)?
                .map_or(Value::Null, Value::Long),
            ArgumentValues::Integers(v) => v
                .get(row)
                .ok_or_else(missing)?
                .map_or(Value::Null, Value::Integer),
            ArgumentValues::Doubles(v) => v
                .get(row)
                .ok_or_else(missing)?
                .map_or(Value::Null, Value::Double),
            ArgumentValues::Constant(v) => v.clone(),
            ArgumentValues::Other(column, data_type) => value_of(column.get(row)?, data_type)?,
        })
    }
}

/// The results as a column of `data_type`, built directly for the common
/// types (the generic path goes through a polars `AnyValue` per value).
fn result_series(name: PlSmallStr, values: &[Value], data_type: &DataType) -> Result<Series> {
    let wrong = |v: &Value| {
        EngineError::Internal(format!(
            "a UDF declared {} returned {v:?}",
            data_type.simple_string()
        ))
    };
    macro_rules! typed {
        ($chunked:ty, $variant:ident) => {{
            let items = values
                .iter()
                .map(|v| match v {
                    Value::Null => Ok(None),
                    Value::$variant(x) => Ok(Some(x.clone())),
                    other => Err(wrong(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            <$chunked>::from_iter_options(name, items.into_iter()).into_series()
        }};
    }
    Ok(match data_type {
        DataType::String => {
            let items = values
                .iter()
                .map(|v| match v {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(Some(s.as_str())),
                    other => Err(wrong(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            pl::StringChunked::from_iter_options(name, items.into_iter()).into_series()
        }
        DataType::Long => typed!(pl::Int64Chunked, Long),
        DataType::Integer => typed!(pl::Int32Chunked, Integer),
        DataType::Double => typed!(pl::Float64Chunked, Double),
        DataType::Boolean => typed!(pl::BooleanChunked, Boolean),
        _ => {
            let any = values
                .iter()
                .map(|v| any_value_of(v, data_type))
                .collect::<Result<Vec<_>>>()?;
            Series::from_any_values_and_dtype(name, &any, &data_type.to_polars(), true)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit, Expr};
    use crate::Session;

    /// Doubles a bigint; fails on 13 when `fail_on_13` is set.
    struct Doubler {
        fail_on_13: bool,
    }

    impl ScalarUdf for Doubler {
        fn name(&self) -> &str {
            "double"
        }

        fn return_type(&self) -> &DataType {
            &DataType::Long
        }

        fn call_batch(&self, args: Vec<Vec<Value>>) -> Result<Vec<Value>> {
            assert!(args.len() <= UDF_BATCH_ROWS);
            args.into_iter()
                .map(|row| match row.first() {
                    Some(Value::Long(13)) if self.fail_on_13 => Err(EngineError::spark(
                        "PYTHON_EXCEPTION",
                        "Traceback\nValueError: 13",
                    )),
                    Some(Value::Long(v)) => Ok(Value::Long(v * 2)),
                    _ => Ok(Value::Null),
                })
                .collect()
        }
    }

    fn call(fail_on_13: bool, args: Vec<Expr>) -> Expr {
        Expr::Udf {
            function: Udf(Arc::new(Doubler { fail_on_13 })),
            args,
        }
    }

    #[test]
    fn a_udf_runs_on_every_row_and_names_its_column_as_spark_does() -> Result<()> {
        let session = Session::new("local[2]")?;
        let df = session
            .range(0, 10_000, 1, Some(3))?
            .select(vec![call(false, vec![col("id")])])?;
        assert_eq!(df.columns(), vec!["double(id)"]);
        let total: i64 = df
            .collect()?
            .iter()
            .map(|row| match row[0] {
                Value::Long(v) => v,
                _ => 0,
            })
            .sum();
        assert_eq!(total, 2 * (0..10_000).sum::<i64>());
        Ok(())
    }

    /// Counts its calls; deterministic as told.
    struct Counter {
        calls: std::sync::atomic::AtomicUsize,
        deterministic: bool,
    }

    impl ScalarUdf for Counter {
        fn name(&self) -> &str {
            "counted"
        }

        fn return_type(&self) -> &DataType {
            &DataType::Long
        }

        fn call_batch(&self, args: Vec<Vec<Value>>) -> Result<Vec<Value>> {
            self.calls
                .fetch_add(args.len(), std::sync::atomic::Ordering::SeqCst);
            Ok(args.into_iter().map(|row| row[0].clone()).collect())
        }

        fn deterministic(&self) -> bool {
            self.deterministic
        }
    }

    #[test]
    fn a_deterministic_udf_runs_once_per_distinct_argument_of_a_partition() -> Result<()> {
        let session = Session::new("local[1]")?;
        for (deterministic, expected_calls) in [(true, 3), (false, 1000)] {
            let counter = Arc::new(Counter {
                calls: Default::default(),
                deterministic,
            });
            let udf = Expr::Udf {
                function: Udf(counter.clone()),
                args: vec![col("id").binary(crate::expr::BinaryOp::Modulo, lit(3i64))],
            };
            let rows = session
                .range(0, 1000, 1, Some(1))?
                .select(vec![udf.alias("k")])?
                .collect()?;
            let total: i64 = rows
                .iter()
                .map(|r| match r[0] {
                    Value::Long(v) => v,
                    _ => 0,
                })
                .sum();
            assert_eq!(total, (0..1000).map(|i| i % 3).sum::<i64>());
            assert_eq!(
                counter.calls.load(std::sync::atomic::Ordering::SeqCst),
                expected_calls
            );
        }
        Ok(())
    }

    #[test]
    fn literal_arguments_are_passed_to_each_row() -> Result<()> {
        let session = Session::new("local[1]")?;
        let rows = session
            .range(0, 2, 1, None)?
            .select(vec![call(false, vec![lit(21i64)]).alias("x")])?
            .collect()?;
        assert_eq!(rows, vec![vec![Value::Long(42)], vec![Value::Long(42)]]);
        Ok(())
    }

    #[test]
    fn a_failure_inside_the_function_keeps_its_error_class_and_text() -> Result<()> {
        let session = Session::new("local[2]")?;
        let error = session
            .range(0, 100, 1, None)?
            .select(vec![call(true, vec![col("id")])])?
            .collect()
            .err()
            .ok_or_else(|| EngineError::Internal("the failing UDF succeeded".into()))?;
        assert_eq!(error.error_class(), Some("PYTHON_EXCEPTION"));
        assert!(
            error.to_string().contains("Traceback\nValueError: 13"),
            "{error}"
        );
        Ok(())
    }
}
