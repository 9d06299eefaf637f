//! The function registry, shared by the DataFrame API and SQL: each Spark
//! function by name, its argument rules, result type and polars lowering.
//! Aggregates also say how to split into a partial (per partition) and a
//! final phase.

use polars::prelude::{self as pl, lit as pl_lit, when as pl_when, DataType as PlType};

use crate::co_moments;
use crate::error::{EngineError, Result, ILLEGAL_ARGUMENT};
use crate::expr::{lit, BinaryOp, Expr};
use crate::lower::{cast, common_type, literal, local_to_utc, utc_to_local, LowerContext, Typed};
use crate::rounding::{self, Half};
use crate::types::{DataType, StructField};
use crate::value::{Value, MICROS_PER_DAY, MICROS_PER_SECOND};
use crate::zone::{InstantTruncator, TruncUnit};

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "mean",
    "min",
    "max",
    "first",
    "last",
    "first_value",
    "last_value",
    "collect_list",
    "collect_set",
    "stddev",
    "corr",
    "mode",
    "covar_samp",
    "covar_pop",
    "stat_corr",
    "stat_covar_samp",
    "stddev_samp",
    "stddev_pop",
    "std",
    "variance",
    "var_samp",
    "var_pop",
    "skewness",
    "kurtosis",
    "count_distinct",
    "countdistinct",
    "any_value",
    "approx_count_distinct",
    "percentile_approx",
    "approx_percentile",
    "percentile",
    "percentile_cont",
    "percentile_disc",
    "median",
    "count_if",
    "bool_and",
    "every",
    "bool_or",
    "some",
    "any",
    "max_by",
    "min_by",
    "listagg",
    "string_agg",
];

pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

/// True when aggregate `name` over `args` skips null inputs, so a FILTER can
/// turn the rows it rejects into nulls; the `first` family keeps nulls
/// unless told to ignore them.
pub fn skips_nulls(name: &str, args: &[Expr]) -> bool {
    let ignores_nulls = matches!(args.get(1), Some(Expr::Literal(Value::Boolean(true))));
    match name.to_ascii_lowercase().as_str() {
        "first" | "last" | "first_value" | "last_value" | "any_value" => ignores_nulls,
        _ => true,
    }
}

/// `args` of aggregate `name` with FILTER's `condition` applied: each value
/// is null where the condition does not hold. Spark's trailing parameters
/// (a percentage, an accuracy, the ignore-nulls flag) stay as given.
pub fn masked_arguments(name: &str, args: &[Expr], condition: &Expr) -> Vec<Expr> {
    let values = match name.to_ascii_lowercase().as_str() {
        "percentile"
        | "percentile_approx"
        | "approx_percentile"
        | "percentile_cont"
        | "percentile_disc"
        | "mode"
        | "listagg"
        | "string_agg"
        | "approx_count_distinct"
        | "first"
        | "last"
        | "first_value"
        | "last_value"
        | "any_value" => 1,
        _ => args.len(),
    };
    args.iter()
        .enumerate()
        .map(|(i, arg)| match arg {
            // `count(*)` counts the rows the condition keeps.
            Expr::Star(None) if i < values => masked(lit(1), condition),
            arg if i < values => masked(arg.clone(), condition),
            arg => arg.clone(),
        })
        .collect()
}

/// `array()` or `map()`: an empty collection of `data_type` in every row.
fn empty_collection(data_type: DataType) -> Typed {
    let PlType::List(element) = data_type.to_polars() else {
        return literal(&Value::Null);
    };
    let empty = pl::Series::new_empty(pl::PlSmallStr::EMPTY, &element);
    let value = pl::AnyValue::List(empty);
    let scalar = pl::Scalar::new(PlType::List(element), value);
    Typed::new(pl_lit(scalar), data_type, false)
}

/// Spark's error for `FILTER (WHERE ...)` on a function that is not an aggregate.
pub fn filter_unsupported(name: &str) -> EngineError {
    EngineError::analysis(
        "INVALID_SQL_SYNTAX.FUNCTION_WITH_UNSUPPORTED_SYNTAX",
        format!("Invalid SQL syntax: The function `{name}` does not support FILTER."),
    )
}

fn masked(value: Expr, condition: &Expr) -> Expr {
    Expr::Case {
        branches: vec![(condition.clone(), value)],
        otherwise: None,
    }
}

/// The name Spark prints for a function in a generated column name.
pub fn display_name(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "mean" => "avg".into(),
        "countdistinct" | "count_distinct" => "count".into(),
        "dayofmonth" => "dayofmonth".into(),
        "dateadd" => "date_add".into(),
        upper if crate::library::UPPER_CASE_NAMES.contains(&upper) => upper.to_ascii_uppercase(),
        "rlike" => "RLIKE".into(),
        "regexp" => "REGEXP".into(),
        "regexp_like" => "REGEXP_LIKE".into(),
        "ifnull" | "nvl" => name.to_ascii_lowercase(),
        "rank" | "dense_rank" | "percent_rank" | "ceil" | "floor" | "spark_partition_id"
        | "sqrt" | "cbrt" | "exp" | "log10" | "log2" | "log" => name.to_ascii_uppercase(),
        _ => name.to_string(),
    }
}

fn arity_error(name: &str, expected: &str, got: usize) -> EngineError {
    EngineError::analysis(
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        format!(
            "The `{name}` requires {expected} parameters but the actual number is {got}. \
             Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix."
        ),
    )
}

pub(crate) fn expect_args(name: &str, args: &[Typed], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            min.to_string()
        } else {
            format!("[{min}, {max}]")
        };
        return Err(arity_error(name, &expected, args.len()));
    }
    Ok(())
}

/// A literal string argument (a date unit, a format).
pub(crate) fn literal_string(arg: &Typed, name: &str, position: usize) -> Result<String> {
    if let pl::Expr::Literal(value) = &arg.expr {
        if let Some(text) = value.extract_str() {
            return Ok(text.to_string());
        }
    }
    Err(EngineError::analysis(
        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
        format!("The {position} argument of `{name}` must be a constant string."),
    ))
}

fn literal_int(arg: &Typed, name: &str, position: usize) -> Result<i64> {
    if let pl::Expr::Literal(value) = &arg.expr {
        if let Some(any) = value.to_any_value() {
            if let Some(v) = any.extract::<i64>() {
                return Ok(v);
            }
        }
    }
    Err(EngineError::analysis(
        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
        format!("The {position} argument of `{name}` must be a constant integer."),
    ))
}

/// Casts every argument to their common type; also says whether all may be null.
fn coerce_to_common(
    args: Vec<Typed>,
    name: &str,
    ctx: &LowerContext<'_>,
) -> Result<(Vec<pl::Expr>, DataType, bool)> {
    let common = args
        .iter()
        .skip(1)
        .try_fold(args[0].data_type.clone(), |acc, a| common_type(&acc, &a.data_type))
        .ok_or_else(|| {
            EngineError::analysis(
                "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                format!("Cannot resolve \"{name}\" due to data type mismatch: the arguments have different types."),
            )
        })?;
    let all_nullable = args.iter().all(|a| a.nullable);
    let exprs = args
        .into_iter()
        .map(|a| ctx.coerce_to(a, &common).map(|t| t.expr))
        .collect::<Result<Vec<_>>>()?;
    Ok((exprs, common, all_nullable))
}

/// Moves an argument out (arguments are consumed once each).
fn take(args: &mut [Typed], i: usize) -> Typed {
    std::mem::replace(&mut args[i], literal(&Value::Null))
}

/// Spark's `INVALID_ARRAY_INDEX` for the first row whose 0-based index is
/// outside its (non-null) array.
fn check_array_indices(lists: &pl::Column, indices: &pl::Column) -> pl::PolarsResult<()> {
    let lists = lists.list()?.rechunk();
    let indices = indices.i64()?;
    let broadcast = indices.len() == 1;
    let mut row = 0usize;
    for array in lists.downcast_iter() {
        let offsets = array.offsets().buffer();
        for i in 0..array.len() {
            let position = if broadcast { 0 } else { row };
            row += 1;
            if !polars_arrow::array::Array::is_valid(array, i) {
                continue;
            }
            let Some(index) = indices.get(position) else {
                continue;
            };
            let length = offsets[i + 1] - offsets[i];
            if index < 0 || index >= length {
                return Err(pl::PolarsError::ComputeError(
                    format!(
                        "[INVALID_ARRAY_INDEX] The index {index} is out of bounds. The array has {length} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead."
                    )
                    .into(),
                ));
            }
        }
    }
    Ok(())
}

/// Lowers a scalar (row-wise) function call.
pub fn scalar(name: &str, args: Vec<Typed>, ctx: &LowerContext<'_>) -> Result<Typed> {
    let lower_name = name.to_ascii_lowercase();
    let nullable = args.iter().any(|a| a.nullable);
    let tz = ctx.time_zone;
    let string_arg = |a: Typed| ctx.coerce_to(a, &DataType::String);
    let mut args = args;
    Ok(match lower_name.as_str() {
        "coalesce" | "ifnull" | "nvl" => {
            if lower_name != "coalesce" {
                expect_args(&lower_name, &args, 2, 2)?;
            }
            if args.is_empty() {
                return Err(arity_error("coalesce", "> 0", 0));
            }
            let (exprs, common, all_nullable) = coerce_to_common(args, &lower_name, ctx)?;
            Typed::new(pl::coalesce(&exprs), common, all_nullable)
        }
        "if" => {
            expect_args(name, &args, 3, 3)?;
            let condition = take(&mut args, 0);
            if !matches!(condition.data_type, DataType::Boolean | DataType::Null) {
                return Err(boolean_input_error(&lower_name, &condition.data_type));
            }
            let values = args.split_off(1);
            let (exprs, common, _) = coerce_to_common(values, &lower_name, ctx)?;
            let (then, otherwise) = (exprs[0].clone(), exprs[1].clone());
            Typed::new(
                pl_when(condition.expr.fill_null(pl_lit(false)))
                    .then(then)
                    .otherwise(otherwise),
                common,
                nullable,
            )
        }
        crate::expr::SHOWN_AS => {
            expect_args(name, &args, 2, 2)?;
            take(&mut args, 1)
        }
        "nvl2" => {
            expect_args(name, &args, 3, 3)?;
            let tested = take(&mut args, 0);
            let values = args.split_off(1);
            let (exprs, common, _) = coerce_to_common(values, &lower_name, ctx)?;
            let (then, otherwise) = (exprs[0].clone(), exprs[1].clone());
            Typed::new(
                pl_when(tested.expr.is_not_null()).then(then).otherwise(otherwise),
                common,
                nullable,
            )
        }
        "typeof" => {
            expect_args(name, &args, 1, 1)?;
            literal(&Value::String(args[0].data_type.simple_string()))
        }
        "trunc" => {
            expect_args(name, &args, 2, 2)?;
            let unit = literal_string(&args[1], name, 2)?.to_ascii_uppercase();
            let every = match unit.as_str() {
                "YEAR" | "YYYY" | "YY" => Some("1y"),
                "QUARTER" => Some("1q"),
                "MONTH" | "MM" | "MON" => Some("1mo"),
                "WEEK" => Some("1w"),
                _ => None,
            };
            let date = cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?;
            match every {
                Some(every) => Typed::new(date.expr.dt().truncate(pl_lit(every)), DataType::Date, nullable),
                None => Typed::new(pl_lit(pl::Null {}).cast(PlType::Date), DataType::Date, true),
            }
        }
        // PySpark's `-column` calls this; SQL's `-x` is the operator.
        "negative" => {
            expect_args(name, &args, 1, 1)?;
            ctx.unary(crate::expr::UnaryOp::Negate, take(&mut args, 0))?
        }
        "positive" => {
            expect_args(name, &args, 1, 1)?;
            take(&mut args, 0)
        }
        "array" => {
            if args.is_empty() {
                return Ok(empty_collection(DataType::Array(Box::new(DataType::Null), false)));
            }
            let contains_null = args.iter().any(|a| a.nullable);
            let (exprs, common, _) = coerce_to_common(args, &lower_name, ctx)?;
            Typed::new(
                pl::concat_list(exprs)?,
                DataType::Array(Box::new(common), contains_null),
                false,
            )
        }
        "sequence" => {
            expect_args(name, &args, 2, 3)?;
            if args.iter().take(2).any(|a| a.data_type == DataType::Date) {
                return date_sequence(args, nullable, ctx);
            }
            let integral = |t: &DataType| t.is_integral() || *t == DataType::Null;
            if let Some(other) = args.iter().find(|a| !integral(&a.data_type)) {
                return Err(first_parameter_error(name, "\"INTEGRAL\"", &other.data_type));
            }
            let (exprs, common, _) = coerce_to_common(args, &lower_name, ctx)?;
            let parts: Vec<pl::Expr> = exprs.into_iter().map(|e| e.cast(PlType::Int64)).collect();
            let expr = parts[0].clone().map_many(
                |columns: &mut [pl::Column]| integer_sequences(columns),
                &parts[1..],
                |_, fields| {
                    Ok(pl::Field::new(
                        fields[0].name().clone(),
                        PlType::List(Box::new(PlType::Int64)),
                    ))
                },
            );
            let data_type = DataType::Array(Box::new(common), false);
            Typed::new(expr.cast(data_type.to_polars()), data_type, nullable)
        }
        "size" | "cardinality" => {
            expect_args(name, &args, 1, 1)?;
            let input = take(&mut args, 0);
            if !matches!(input.data_type, DataType::Array(..) | DataType::Map(..)) {
                return Err(collection_input_error(name, &input.data_type));
            }
            Typed::new(
                input.expr.list().len().cast(PlType::Int32),
                DataType::Integer,
                nullable,
            )
        }
        "array_contains" => {
            expect_args(name, &args, 2, 2)?;
            let value = take(&mut args, 1);
            let array = take(&mut args, 0);
            let DataType::Array(element, _) = &array.data_type else {
                return Err(collection_input_error(name, &array.data_type));
            };
            let value = ctx.coerce_to(value, element)?;
            // Spark: true when found, else null when the array holds a null, else false.
            let found = array.expr.clone().list().contains(value.expr, false);
            let known = array.expr.clone().list().eval(pl::col("").drop_nulls());
            let has_null = known.list().len().lt(array.expr.list().len());
            Typed::new(
                pl_when(found.clone())
                    .then(pl_lit(true))
                    .when(has_null)
                    .then(pl_lit(pl::Null {}).cast(PlType::Boolean))
                    .otherwise(found),
                DataType::Boolean,
                true,
            )
        }
        "sort_array" | "array_sort" => {
            expect_args(name, &args, 1, if lower_name == "sort_array" { 2 } else { 1 })?;
            let ascending = args.len() < 2 || literal_bool(&args[1]);
            let array = take(&mut args, 0);
            if !matches!(array.data_type, DataType::Array(..)) {
                return Err(collection_input_error(name, &array.data_type));
            }
            // sort_array puts nulls first ascending, last descending;
            // array_sort puts them last.
            let nulls_last = lower_name == "array_sort" || !ascending;
            let options = pl::SortOptions::default()
                .with_order_descending(!ascending)
                .with_nulls_last(nulls_last)
                .with_maintain_order(true);
            Typed::new(array.expr.list().sort(options), array.data_type.clone(), nullable)
        }
        "map" => {
            if args.is_empty() {
                let null = Box::new(DataType::Null);
                return Ok(empty_collection(DataType::Map(null.clone(), null, false)));
            }
            if !args.len().is_multiple_of(2) {
                return Err(EngineError::analysis(
                    "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                    format!(
                        "The `map` requires 2n (n > 0) parameters but the actual number is {}.",
                        args.len()
                    ),
                ));
            }
            let (mut keys, mut values) = (Vec::new(), Vec::new());
            for (i, arg) in args.into_iter().enumerate() {
                if i % 2 == 0 {
                    keys.push(arg);
                } else {
                    values.push(arg);
                }
            }
            let value_contains_null = values.iter().any(|v| v.nullable);
            let (keys, key_type, _) = coerce_to_common(keys, &lower_name, ctx)?;
            let (values, value_type, _) = coerce_to_common(values, &lower_name, ctx)?;
            let constant = keys
                .iter()
                .chain(&values)
                .all(|e| matches!(e, pl::Expr::Literal(_)));
            let entries: Vec<pl::Expr> = keys
                .into_iter()
                .zip(values)
                .map(|(k, v)| pl::as_struct(vec![k.alias("key"), v.alias("value")]))
                .collect();
            let map = pl::concat_list(entries)?;
            Typed::new(
                if constant { folded(map)? } else { map },
                DataType::Map(Box::new(key_type), Box::new(value_type), value_contains_null),
                false,
            )
        }
        "named_struct" => {
            if !args.len().is_multiple_of(2) || args.is_empty() {
                return Err(EngineError::analysis(
                    "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                    format!(
                        "The `named_struct` requires 2n (n > 0) parameters but the actual number is {}.",
                        args.len()
                    ),
                ));
            }
            let mut fields = Vec::new();
            let mut exprs = Vec::new();
            let mut args = args.into_iter();
            let mut position = 1;
            while let (Some(field_name), Some(value)) = (args.next(), args.next()) {
                let field_name = literal_string(&field_name, name, position)?;
                fields.push(StructField::new(field_name.clone(), value.data_type, value.nullable));
                exprs.push(value.expr.alias(field_name));
                position += 2;
            }
            Typed::new(pl::as_struct(exprs), DataType::Struct(fields), false)
        }
        "isnull" => {
            expect_args(name, &args, 1, 1)?;
            Typed::new(take(&mut args, 0).expr.is_null(), DataType::Boolean, false)
        }
        "isnotnull" => {
            expect_args(name, &args, 1, 1)?;
            Typed::new(take(&mut args, 0).expr.is_not_null(), DataType::Boolean, false)
        }
        "to_date" | "date" => {
            expect_args(name, &args, 1, 2)?;
            if args.len() == 2 {
                let format = java_to_strftime(&literal_string(&args[1], name, 2)?);
                let input = string_arg(take(&mut args, 0))?;
                let options = pl::StrptimeOptions {
                    format: Some(format.into()),
                    strict: false,
                    exact: true,
                    cache: true,
                };
                Typed::new(input.expr.str().to_date(options), DataType::Date, true)
            } else {
                cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?
            }
        }
        "to_timestamp" => {
            expect_args(name, &args, 1, 2)?;
            if args.len() == 2 {
                let format = java_to_strftime(&literal_string(&args[1], name, 2)?);
                let input = string_arg(take(&mut args, 0))?;
                let options = pl::StrptimeOptions {
                    format: Some(format.into()),
                    strict: false,
                    exact: true,
                    cache: true,
                };
                let naive = input.expr.str().to_datetime(
                    Some(pl::TimeUnit::Microseconds),
                    None,
                    options,
                    pl_lit("raise"),
                );
                Typed::new(local_to_utc(naive, &tz), DataType::Timestamp, true)
            } else {
                cast(take(&mut args, 0), &DataType::Timestamp, ctx.ansi, &tz)?
            }
        }
        "date_trunc" => {
            expect_args(name, &args, 2, 2)?;
            let Some(unit) = TruncUnit::parse(&literal_string(&args[0], name, 1)?) else {
                return Ok(Typed::new(
                    pl_lit(pl::Null {}).cast(DataType::Timestamp.to_polars()),
                    DataType::Timestamp,
                    true,
                ));
            };
            let ts = cast(take(&mut args, 1), &DataType::Timestamp, ctx.ansi, &tz)?;
            let truncated = ts.expr.map(
                move |c: pl::Column| {
                    let mut truncator = InstantTruncator::new(unit, tz);
                    let micros = c.datetime()?.physical();
                    let out = pl::Int64Chunked::from_chunk_iter(
                        c.name().clone(),
                        micros.downcast_iter().map(|chunk| {
                            let values: Vec<i64> = chunk
                                .values()
                                .iter()
                                .map(|&v| truncator.truncate(v))
                                .collect();
                            polars_arrow::array::PrimitiveArray::new(
                                polars_arrow::datatypes::ArrowDataType::Int64,
                                values.into(),
                                chunk.validity().cloned(),
                            )
                        }),
                    );
                    use pl::{IntoColumn, IntoSeries};
                    Ok(out
                        .into_datetime(pl::TimeUnit::Microseconds, None)
                        .into_series()
                        .into_column())
                },
                |_, f| Ok(f.clone()),
            );
            Typed::new(truncated, DataType::Timestamp, ts.nullable)
        }
        "year" | "month" | "dayofmonth" | "day" | "hour" | "minute" | "second" | "quarter"
        | "dayofyear" | "dayofweek" | "weekofyear" => {
            expect_args(name, &args, 1, 1)?;
            let input = take(&mut args, 0);
            let local = match input.data_type {
                DataType::Date => input.expr,
                DataType::Timestamp => utc_to_local(input.expr, &tz),
                _ => utc_to_local(cast(input, &DataType::Timestamp, ctx.ansi, &tz)?.expr, &tz),
            };
            let dt = local.dt();
            let expr = match lower_name.as_str() {
                "year" => dt.year(),
                "month" => dt.month(),
                "dayofmonth" | "day" => dt.day(),
                "hour" => dt.hour(),
                "minute" => dt.minute(),
                "second" => dt.second(),
                "quarter" => dt.quarter(),
                "dayofyear" => dt.ordinal_day(),
                "weekofyear" => dt.week(),
                // Spark: Sunday = 1 … Saturday = 7; polars: Monday = 1 … Sunday = 7.
                _ => dt.weekday() % pl_lit(7) + pl_lit(1),
            };
            Typed::new(expr.cast(PlType::Int32), DataType::Integer, nullable)
        }
        "unix_timestamp" => {
            expect_args(name, &args, 0, 2)?;
            if args.is_empty() {
                let now = chrono::Utc::now().timestamp();
                return Ok(literal(&Value::Long(now)));
            }
            let ts = if args.len() == 2 {
                scalar("to_timestamp", args, ctx)?
            } else {
                cast(take(&mut args, 0), &DataType::Timestamp, ctx.ansi, &tz)?
            };
            Typed::new(
                ts.expr
                    .cast(PlType::Int64)
                    .floor_div(pl_lit(MICROS_PER_SECOND)),
                DataType::Long,
                ts.nullable,
            )
        }
        "datediff" | "date_diff" => {
            expect_args(name, &args, 2, 2)?;
            let end = cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?;
            let start = cast(take(&mut args, 1), &DataType::Date, ctx.ansi, &tz)?;
            Typed::new(
                end.expr.cast(PlType::Int32) - start.expr.cast(PlType::Int32),
                DataType::Integer,
                nullable,
            )
        }
        "date_add" | "dateadd" | "date_sub" => {
            expect_args(name, &args, 2, 2)?;
            let date = cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?;
            let days = ctx.coerce_to(take(&mut args, 1), &DataType::Integer)?;
            let days = if lower_name == "date_sub" {
                pl_lit(0) - days.expr
            } else {
                days.expr
            };
            Typed::new(
                (date.expr.cast(PlType::Int32) + days).cast(PlType::Date),
                DataType::Date,
                nullable,
            )
        }
        "upper" | "ucase" | "lower" | "lcase" | "trim" | "ltrim" | "rtrim" | "length"
        | "char_length" | "reverse" => {
            expect_args(name, &args, 1, 1)?;
            let input = string_arg(take(&mut args, 0))?.expr;
            let s = input.str();
            let (expr, data_type) = match lower_name.as_str() {
                "upper" | "ucase" => (s.to_uppercase(), DataType::String),
                "lower" | "lcase" => (s.to_lowercase(), DataType::String),
                "trim" => (s.strip_chars(pl_lit(" ")), DataType::String),
                "ltrim" => (s.strip_chars_start(pl_lit(" ")), DataType::String),
                "rtrim" => (s.strip_chars_end(pl_lit(" ")), DataType::String),
                "reverse" => (s.reverse(), DataType::String),
                _ => (s.len_chars().cast(PlType::Int32), DataType::Integer),
            };
            Typed::new(expr, data_type, nullable)
        }
        "initcap" => {
            expect_args(name, &args, 1, 1)?;
            let input = string_arg(take(&mut args, 0))?.expr;
            Typed::new(map_strings(input, title_case), DataType::String, nullable)
        }
        "translate" => {
            expect_args(name, &args, 3, 3)?;
            let matching: Vec<char> = literal_string(&args[1], name, 2)?.chars().collect();
            let replace: Vec<char> = literal_string(&args[2], name, 3)?.chars().collect();
            let mut table: Vec<(char, Option<char>)> = Vec::new();
            for (i, c) in matching.into_iter().enumerate() {
                if !table.iter().any(|(m, _)| *m == c) {
                    table.push((c, replace.get(i).copied()));
                }
            }
            let input = string_arg(take(&mut args, 0))?.expr;
            let translate = move |text: &str| -> String {
                text.chars()
                    .filter_map(|c| match table.iter().find(|(m, _)| *m == c) {
                        Some((_, to)) => *to,
                        None => Some(c),
                    })
                    .collect()
            };
            Typed::new(map_strings(input, translate), DataType::String, nullable)
        }
        "hash" => {
            let exprs: Vec<pl::Expr> = args.into_iter().map(|a| a.expr).collect();
            let Some(first) = exprs.first().cloned() else {
                return Ok(literal(&Value::Integer(42)));
            };
            let expr = first.map_many(
                |columns: &mut [pl::Column]| {
                    let height = columns.iter().map(|c| c.len()).max().unwrap_or(0);
                    let mut hashes = vec![42u32; height];
                    for column in columns.iter() {
                        if column.dtype() == &PlType::Null {
                            continue;
                        }
                        let column = if column.len() == 1 && height != 1 {
                            column.new_from_index(0, height)
                        } else {
                            column.clone()
                        };
                        crate::exec::hash::hash_column(&column, &mut hashes)
                            .map_err(|e| pl::PolarsError::ComputeError(e.to_string().into()))?;
                    }
                    let values: Vec<i32> = hashes.into_iter().map(|h| h as i32).collect();
                    let name = columns[0].name().clone();
                    Ok(pl::IntoColumn::into_column(pl::Int32Chunked::from_vec(name, values)))
                },
                &exprs[1..],
                |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Int32)),
            );
            Typed::new(expr, DataType::Integer, false)
        }
        "map_keys" | "map_values" => {
            expect_args(name, &args, 1, 1)?;
            let input = take(&mut args, 0);
            let DataType::Map(key, value, contains_null) = &input.data_type else {
                return Err(first_parameter_error(name, "\"MAP\"", &input.data_type));
            };
            let (field, data_type) = if lower_name == "map_keys" {
                ("key", DataType::Array(key.clone(), false))
            } else {
                ("value", DataType::Array(value.clone(), *contains_null))
            };
            let expr = input
                .expr
                .list()
                .eval(pl::col("").struct_().field_by_name(field));
            Typed::new(expr, data_type, nullable)
        }
        "element_at" => {
            expect_args(name, &args, 2, 2)?;
            let key = take(&mut args, 1);
            let container = take(&mut args, 0);
            match &container.data_type {
                DataType::Array(element, _) => {
                    let index = ctx.coerce_to(key, &DataType::Integer)?;
                    let element = element.as_ref().clone();
                    let checked = container.expr.clone().list().len().map_many(
                        |columns: &mut [pl::Column]| element_at_indices(columns),
                        &[index.expr.cast(PlType::Int64)],
                        |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Int64)),
                    );
                    Typed::new(container.expr.list().get(checked, true), element, true)
                }
                DataType::Map(..) => map_value(container, key, ctx)?,
                other => return Err(collection_input_error(name, other)),
            }
        }
        "concat" => {
            let exprs = args
                .into_iter()
                .map(|a| string_arg(a).map(|t| t.expr))
                .collect::<Result<Vec<_>>>()?;
            Typed::new(pl::concat_str(exprs, "", false), DataType::String, nullable)
        }
        "concat_ws" => {
            if args.is_empty() {
                return Err(arity_error(name, "> 0", 0));
            }
            let separator = literal_string(&args[0], name, 1)?;
            let exprs = args
                .into_iter()
                .skip(1)
                .map(|a| string_arg(a).map(|t| t.expr))
                .collect::<Result<Vec<_>>>()?;
            Typed::new(pl::concat_str(exprs, &separator, true), DataType::String, false)
        }
        "substring" | "substr" => {
            expect_args(name, &args, 2, 3)?;
            let pos = literal_int(&args[1], name, 2)?;
            let len = if args.len() == 3 {
                Some(literal_int(&args[2], name, 3)?)
            } else {
                None
            };
            let input = string_arg(take(&mut args, 0))?.expr;
            // Spark positions are 1-based; 0 behaves as 1; negative counts from the end.
            let offset = if pos > 0 { pos - 1 } else { pos };
            let length = match len {
                Some(l) if l < 0 => pl_lit(0u64),
                Some(l) => pl_lit(l as u64),
                None => pl_lit(pl::Null {}),
            };
            Typed::new(input.str().slice(pl_lit(offset), length), DataType::String, nullable)
        }
        "round" | "bround" => {
            expect_args(name, &args, 1, 2)?;
            let scale = if args.len() == 2 {
                literal_int(&args[1], name, 2)?
            } else {
                0
            };
            let input = take(&mut args, 0);
            let half = if lower_name == "round" {
                Half::Up
            } else {
                Half::Even
            };
            let input = match &input.data_type {
                DataType::String => ctx.coerce_to(input, &DataType::Double)?,
                _ => input,
            };
            if !input.data_type.is_numeric() {
                return Err(first_parameter_error(name, "\"NUMERIC\"", &input.data_type));
            }
            let scale = scale.clamp(-38, 38) as i32;
            let data_type = rounding::result_type(&input.data_type, scale);
            let expr = rounding::round(input.expr, &input.data_type, scale, half);
            Typed::new(expr, data_type, nullable)
        }
        "abs" => {
            expect_args(name, &args, 1, 1)?;
            let input = take(&mut args, 0);
            let data_type = input.data_type.clone();
            Typed::new(input.expr.abs(), data_type, nullable)
        }
        "floor" | "ceil" | "ceiling" => {
            expect_args(name, &args, 1, 1)?;
            let input = take(&mut args, 0);
            let up = lower_name != "floor";
            match input.data_type {
                DataType::Decimal(p, s) => {
                    let expr = rounding::floor_ceil_decimal(input.expr, p, s, up);
                    return Ok(Typed::new(expr, rounding::floor_ceil_type(p, s), nullable));
                }
                ref t if t.is_integral() => {
                    return ctx.coerce_to(input, &DataType::Long);
                }
                _ => {}
            }
            let input = ctx.coerce_to(input, &DataType::Double)?;
            let expr = if lower_name == "floor" {
                input.expr.floor()
            } else {
                input.expr.ceil()
            };
            Typed::new(expr.cast(PlType::Int64), DataType::Long, nullable)
        }
        "sqrt" | "cbrt" | "exp" => {
            expect_args(name, &args, 1, 1)?;
            let input = ctx.coerce_to(take(&mut args, 0), &DataType::Double)?.expr;
            let expr = match lower_name.as_str() {
                "sqrt" => input.sqrt(),
                "cbrt" => input.cbrt(),
                _ => input.exp(),
            };
            Typed::new(expr, DataType::Double, true)
        }
        // Spark's logarithms are null at and below zero (for a base too).
        "ln" | "log10" | "log2" | "log" => {
            expect_args(name, &args, 1, if lower_name == "log" { 2 } else { 1 })?;
            let positive = |e: pl::Expr| {
                pl_when(e.clone().gt(pl_lit(0.0)))
                    .then(e)
                    .otherwise(pl_lit(pl::Null {}).cast(PlType::Float64))
            };
            let value = ctx.coerce_to(args.pop().ok_or_else(|| arity_error(name, "1", 0))?, &DataType::Double)?.expr;
            let log = |e: pl::Expr, f: fn(f64) -> f64| {
                e.map(
                    move |c: pl::Column| {
                        let out: pl::Float64Chunked =
                            pl::ChunkApply::apply_values(c.f64()?, f);
                        Ok(pl::IntoColumn::into_column(out))
                    },
                    |_, field| Ok(pl::Field::new(field.name().clone(), PlType::Float64)),
                )
            };
            let expr = match (lower_name.as_str(), args.pop()) {
                ("log", Some(base)) => {
                    let base = ctx.coerce_to(base, &DataType::Double)?.expr;
                    log(positive(value), f64::ln) / log(positive(base), f64::ln)
                }
                ("log10", _) => log(positive(value), f64::log10),
                ("log2", _) => log(positive(value), f64::log2),
                _ => log(positive(value), f64::ln),
            };
            Typed::new(expr, DataType::Double, true)
        }
        "pow" | "power" => {
            expect_args(name, &args, 2, 2)?;
            let base = ctx.coerce_to(take(&mut args, 0), &DataType::Double)?.expr;
            let exponent = ctx.coerce_to(take(&mut args, 1), &DataType::Double)?.expr;
            Typed::new(base.pow(exponent), DataType::Double, nullable)
        }
        "greatest" | "least" => {
            if args.len() < 2 {
                return Err(arity_error(name, "> 1", args.len()));
            }
            // Unlike other functions, these take no string for a number.
            let strings = args.iter().filter(|a| a.data_type == DataType::String).count();
            if strings > 0 && strings < args.len() {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                    format!("Cannot resolve \"{lower_name}\" due to data type mismatch: Input to `{lower_name}` should all be the same type."),
                ));
            }
            let (exprs, common, all_nullable) = coerce_to_common(args, &lower_name, ctx)?;
            let expr = if lower_name == "greatest" {
                polars::lazy::dsl::max_horizontal(exprs)?
            } else {
                polars::lazy::dsl::min_horizontal(exprs)?
            };
            Typed::new(expr, common, all_nullable)
        }
        "between" => {
            expect_args(name, &args, 3, 3)?;
            let value = take(&mut args, 0);
            let low = take(&mut args, 1);
            let high = take(&mut args, 2);
            let above = ctx.binary(crate::expr::BinaryOp::GtEq, value.clone(), low)?;
            let below = ctx.binary(crate::expr::BinaryOp::LtEq, value, high)?;
            ctx.binary(crate::expr::BinaryOp::And, above, below)?
        }
        "nullif" => {
            expect_args(name, &args, 2, 2)?;
            let a = take(&mut args, 0);
            let b = take(&mut args, 1);
            let data_type = a.data_type.clone();
            let equal = ctx.binary(crate::expr::BinaryOp::Eq, a.clone(), b)?;
            Typed::new(
                pl_when(equal.expr.fill_null(pl_lit(false)))
                    .then(pl_lit(pl::Null {}).cast(data_type.to_polars()))
                    .otherwise(a.expr),
                data_type,
                true,
            )
        }
        "current_date" => {
            expect_args(name, &args, 0, 0)?;
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let days = (today - crate::value::epoch()).num_days() as i32;
            literal(&Value::Date(days))
        }
        "current_timestamp" | "now" => {
            expect_args(name, &args, 0, 0)?;
            literal(&Value::Timestamp(chrono::Utc::now().timestamp_micros()))
        }
        "date_format" => {
            expect_args(name, &args, 2, 2)?;
            let format = java_to_strftime_output(&literal_string(&args[1], name, 2)?);
            let ts = cast(take(&mut args, 0), &DataType::Timestamp, ctx.ansi, &tz)?;
            Typed::new(
                utc_to_local(ts.expr, &tz).dt().strftime(&format),
                DataType::String,
                ts.nullable,
            )
        }
        "from_unixtime" => {
            expect_args(name, &args, 1, 2)?;
            let format = if args.len() == 2 {
                java_to_strftime_output(&literal_string(&args[1], name, 2)?)
            } else {
                "%Y-%m-%d %H:%M:%S".to_string()
            };
            let seconds = ctx.coerce_to(take(&mut args, 0), &DataType::Long)?;
            let instant = (seconds.expr * pl_lit(MICROS_PER_SECOND))
                .cast(PlType::Datetime(pl::TimeUnit::Microseconds, None));
            Typed::new(
                utc_to_local(instant, &tz).dt().strftime(&format),
                DataType::String,
                seconds.nullable,
            )
        }
        "extract" | "date_part" => {
            expect_args(name, &args, 2, 2)?;
            let field = literal_string(&args[0], name, 1)?.to_ascii_lowercase();
            let source = take(&mut args, 1);
            if matches!(source.data_type, DataType::DayTimeInterval(_)) {
                // Components of a day-time interval: days, then hours 0-23, minutes, seconds.
                let micros = source.expr.cast(PlType::Int64);
                let (expr, data_type) = match field.as_str() {
                    "day" | "days" | "d" => (micros.floor_div(pl_lit(MICROS_PER_DAY)), DataType::Integer),
                    "hour" | "hours" | "h" | "hr" | "hrs" => ((micros.floor_div(pl_lit(3_600 * MICROS_PER_SECOND))) % pl_lit(24i64), DataType::Byte),
                    "minute" | "minutes" | "m" | "min" | "mins" => ((micros.floor_div(pl_lit(60 * MICROS_PER_SECOND))) % pl_lit(60i64), DataType::Byte),
                    "second" | "seconds" | "s" | "sec" | "secs" => (
                        (micros % pl_lit(60 * MICROS_PER_SECOND)).cast(PlType::Float64) / pl_lit(MICROS_PER_SECOND as f64),
                        DataType::Decimal(8, 6),
                    ),
                    other => return Err(extract_field_error(other, &source.data_type)),
                };
                return Ok(Typed::new(expr.cast(data_type.to_polars()), data_type, source.nullable));
            }
            if matches!(source.data_type, DataType::YearMonthInterval(_)) {
                // Whole years, then the months left (-11 to 11), both signed as the interval.
                let months = source.expr.cast(PlType::Int64);
                let sign = pl_when(months.clone().lt(pl_lit(0i64)))
                    .then(pl_lit(-1i64))
                    .otherwise(pl_lit(1i64));
                let size = months.abs();
                let (part, data_type) = match field.as_str() {
                    "year" | "years" | "y" | "yr" | "yrs" => (size.floor_div(pl_lit(12i64)), DataType::Integer),
                    "month" | "months" | "mon" | "mons" => (size % pl_lit(12i64), DataType::Byte),
                    other => return Err(extract_field_error(other, &source.data_type)),
                };
                let expr = (sign * part).cast(data_type.to_polars());
                return Ok(Typed::new(expr, data_type, source.nullable));
            }
            let function = match field.as_str() {
                "year" | "years" | "y" | "yr" | "yrs" => "year",
                "quarter" | "qtr" => "quarter",
                "month" | "months" | "mon" | "mons" => "month",
                "week" | "weeks" | "w" => "weekofyear",
                "day" | "days" | "d" => "dayofmonth",
                "dayofweek" | "dow" => "dayofweek",
                "doy" => "dayofyear",
                "hour" | "hours" | "h" | "hr" | "hrs" => "hour",
                "minute" | "minutes" | "m" | "min" | "mins" => "minute",
                "second" | "seconds" | "s" | "sec" | "secs" => {
                    return seconds_with_fraction(source, ctx);
                }
                other => return Err(extract_field_error(other, &source.data_type)),
            };
            scalar(function, vec![source], ctx)?
        }
        "regexp_replace" => {
            expect_args(name, &args, 3, 3)?;
            let pattern = literal_string(&args[1], name, 2)?;
            let replacement = java_replacement(&literal_string(&args[2], name, 3)?);
            let input = string_arg(take(&mut args, 0))?;
            Typed::new(
                input.expr.str().replace_all(pl_lit(pattern), pl_lit(replacement), false),
                DataType::String,
                nullable,
            )
        }
        "regexp_extract" => {
            expect_args(name, &args, 3, 3)?;
            let pattern = literal_string(&args[1], name, 2)?;
            let group = literal_int(&args[2], name, 3)?;
            let input = string_arg(take(&mut args, 0))?;
            // Spark gives "" (not null) when the pattern does not match.
            Typed::new(
                input.expr.str().extract(pl_lit(pattern), group.max(0) as usize).fill_null(pl_lit("")),
                DataType::String,
                nullable,
            )
        }
        "rlike" | "regexp" | "regexp_like" => {
            expect_args(name, &args, 2, 2)?;
            let pattern = literal_string(&args[1], name, 2)?;
            let input = string_arg(take(&mut args, 0))?;
            Typed::new(input.expr.str().contains(pl_lit(pattern), true), DataType::Boolean, nullable)
        }
        "like" | "ilike" => {
            expect_args(name, &args, 2, 3)?;
            let escape = match args.get(2) {
                Some(_) => escape_char(&literal_string(&args[2], name, 3)?)?,
                None => '\\',
            };
            let pattern = like_to_regex(&literal_string(&args[1], name, 2)?, lower_name == "ilike", escape);
            let input = string_arg(take(&mut args, 0))?;
            Typed::new(input.expr.str().contains(pl_lit(pattern), true), DataType::Boolean, nullable)
        }
        _ if crate::expr::like_many(&lower_name).is_some() => {
            if args.len() < 2 {
                return Err(arity_error(name, "> 1", args.len()));
            }
            let case_insensitive = lower_name.contains("ilike");
            let negated = lower_name.starts_with("not");
            let every = lower_name.ends_with("all");
            let patterns = (1..args.len())
                .map(|i| Ok(like_to_regex(&literal_string(&args[i], name, i + 1)?, case_insensitive, '\\')))
                .collect::<Result<Vec<_>>>()?;
            let input = string_arg(take(&mut args, 0))?.expr;
            let expr = patterns
                .into_iter()
                .map(|p| {
                    let matched = input.clone().str().contains(pl_lit(p), true);
                    if negated { matched.not() } else { matched }
                })
                .reduce(|a, b| if every { a.and(b) } else { a.or(b) })
                .ok_or_else(|| arity_error(name, "> 1", 1))?;
            Typed::new(expr, DataType::Boolean, nullable)
        }
        "contains" | "startswith" | "endswith" => {
            expect_args(name, &args, 2, 2)?;
            let input = string_arg(take(&mut args, 0))?.expr;
            let other = string_arg(take(&mut args, 1))?.expr;
            let expr = match lower_name.as_str() {
                "contains" => input.str().contains_literal(other),
                "startswith" => input.str().starts_with(other),
                _ => input.str().ends_with(other),
            };
            Typed::new(expr, DataType::Boolean, nullable)
        }
        "lpad" | "rpad" => {
            expect_args(name, &args, 2, 3)?;
            let width = literal_int(&args[1], name, 2)?.max(0) as usize;
            let fill = if args.len() == 3 {
                literal_string(&args[2], name, 3)?
            } else {
                " ".to_string()
            };
            let left = lower_name == "lpad";
            let input = string_arg(take(&mut args, 0))?;
            let expr = input.expr.map(
                move |c: pl::Column| {
                    let values = c.str()?;
                    let out: pl::StringChunked = values
                        .iter()
                        .map(|v| v.map(|v| pad_string(v, width, &fill, left)))
                        .collect();
                    Ok(pl::IntoColumn::into_column(out.with_name(c.name().clone())))
                },
                |_, f| Ok(pl::Field::new(f.name().clone(), PlType::String)),
            );
            Typed::new(expr, DataType::String, nullable)
        }
        "split" => {
            expect_args(name, &args, 2, 3)?;
            let pattern = literal_string(&args[1], name, 2)?;
            let input = string_arg(take(&mut args, 0))?;
            let expr = input.expr.map(
                move |c: pl::Column| {
                    let regex = regex_lite_split(&pattern);
                    let values = c.str()?;
                    use pl::ListBuilderTrait;
                    let mut builder = pl::ListStringChunkedBuilder::new(c.name().clone(), values.len(), values.len() * 2);
                    for v in values.iter() {
                        match v {
                            Some(v) => {
                                let parts = regex(v);
                                builder.append_values_iter(parts.iter().map(String::as_str))
                            }
                            None => builder.append_null(),
                        }
                    }
                    Ok(pl::IntoColumn::into_column(builder.finish()))
                },
                |_, f| Ok(pl::Field::new(f.name().clone(), PlType::List(Box::new(PlType::String)))),
            );
            Typed::new(expr, DataType::Array(Box::new(DataType::String), false), nullable)
        }
        // `c.getItem(i)` / `c[i]` on an array: the 0-based element, null
        // past either end.
        "get_item" => {
            expect_args(name, &args, 2, 2)?;
            let container = take(&mut args, 0);
            if let DataType::Map(..) = container.data_type {
                return map_value(container, take(&mut args, 1), ctx);
            }
            let DataType::Array(element, _) = &container.data_type else {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                    format!(
                        "Cannot resolve \"{}[...]\": getItem needs an array column, but it is {}.",
                        name,
                        container.data_type.simple_string().to_uppercase()
                    ),
                ));
            };
            let index = take(&mut args, 1);
            if !index.data_type.is_integral() {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                    format!(
                        "The index of an array must be an integer, but it is {}.",
                        index.data_type.simple_string().to_uppercase()
                    ),
                ));
            }
            let index = index.expr.cast(PlType::Int64);
            let list = if ctx.ansi {
                // Spark's ANSI mode fails on an index past either end.
                container.expr.map_many(
                    |columns: &mut [pl::Column]| {
                        check_array_indices(&columns[0], &columns[1])?;
                        Ok(std::mem::take(&mut columns[0]))
                    },
                    std::slice::from_ref(&index),
                    |_, fields| Ok(fields[0].clone()),
                )
            } else {
                container.expr
            };
            let index = pl_when(index.clone().lt(pl_lit(0i64)))
                .then(pl_lit(pl::Null {}))
                .otherwise(index);
            Typed::new(list.list().get(index, true), (**element).clone(), true)
        }
        // `c.getField(name)` / `c.name` on a struct.
        "get_field" => {
            expect_args(name, &args, 2, 2)?;
            let field = literal_string(&args[1], name, 2)?;
            let container = take(&mut args, 0);
            if let DataType::Map(..) = container.data_type {
                // `m['key']` / `m.key` on a map looks the key up, as Spark's
                // extract-value does.
                return map_value(container, take(&mut args, 1), ctx);
            }
            let DataType::Struct(fields) = &container.data_type else {
                return Err(EngineError::analysis(
                    "INVALID_EXTRACT_BASE_FIELD_TYPE",
                    format!(
                        "Can't extract a value from a column of type {}. Need a complex type [STRUCT, ARRAY, MAP] but got {}.",
                        container.data_type.simple_string().to_uppercase(),
                        container.data_type.simple_string().to_uppercase()
                    ),
                ));
            };
            let Some(found) = fields.iter().find(|f| f.name.eq_ignore_ascii_case(&field)) else {
                let names = fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>();
                return Err(EngineError::analysis(
                    "FIELD_NOT_FOUND",
                    format!("No such struct field `{field}` in {}.", names.join(", ")),
                ));
            };
            let expr = container.expr.struct_().field_by_name(&found.name);
            Typed::new(
                expr,
                found.data_type.clone(),
                container.nullable || found.nullable,
            )
        }
        "instr" => {
            expect_args(name, &args, 2, 2)?;
            let needle = literal_string(&args[1], name, 2)?;
            let input = string_arg(take(&mut args, 0))?;
            let found = input.expr.str().find_literal(pl_lit(needle));
            Typed::new(
                (found.fill_null(pl_lit(-1i64)).cast(PlType::Int32) + pl_lit(1)).cast(PlType::Int32),
                DataType::Integer,
                nullable,
            )
        }
        "isnan" => {
            expect_args(name, &args, 1, 1)?;
            let input = ctx.coerce_to(take(&mut args, 0), &DataType::Double)?;
            Typed::new(input.expr.is_nan().fill_null(pl_lit(false)), DataType::Boolean, false)
        }
        "signum" | "sign" => {
            expect_args(name, &args, 1, 1)?;
            let input = ctx.coerce_to(take(&mut args, 0), &DataType::Double)?.expr;
            Typed::new(
                pl_when(input.clone().gt(pl_lit(0.0)))
                    .then(pl_lit(1.0))
                    .when(input.clone().lt(pl_lit(0.0)))
                    .then(pl_lit(-1.0))
                    .otherwise(input),
                DataType::Double,
                nullable,
            )
        }
        "add_months" | "last_day" => {
            expect_args(name, &args, 1, 2)?;
            let last_day = lower_name == "last_day";
            if !last_day {
                expect_args(name, &args, 2, 2)?;
            }
            let months = match args.get(1) {
                Some(months) if !matches!(months.expr, pl::Expr::Literal(_)) => {
                    let months = ctx.coerce_to(take(&mut args, 1), &DataType::Integer)?;
                    let date = cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?;
                    let expr = date.expr.cast(PlType::Int32).map_many(
                        |columns: &mut [pl::Column]| {
                            let rows = Broadcast::new(columns)?;
                            let out: pl::Int32Chunked = (0..rows.height)
                                .map(|row| match (rows.get(0, row), rows.get(1, row)) {
                                    (Some(days), Some(months)) => {
                                        shift_months(days, months, false)
                                    }
                                    _ => None,
                                })
                                .collect();
                            Ok(pl::IntoColumn::into_column(
                                out.with_name(columns[0].name().clone()),
                            ))
                        },
                        std::slice::from_ref(&months.expr.cast(PlType::Int32)),
                        |_, fields| Ok(fields[0].clone()),
                    );
                    return Ok(Typed::new(expr.cast(PlType::Date), DataType::Date, nullable));
                }
                Some(months) => literal_int(months, name, 2)? as i32,
                None => 0,
            };
            let date = cast(take(&mut args, 0), &DataType::Date, ctx.ansi, &tz)?.expr;
            let expr = date.cast(PlType::Int32).map(
                move |c: pl::Column| {
                    let days = c.i32()?;
                    let out: pl::Int32Chunked = days
                        .iter()
                        .map(|d| d.and_then(|d| shift_months(d, months, last_day)))
                        .collect();
                    Ok(pl::IntoColumn::into_column(out.with_name(c.name().clone())))
                },
                |_, f| Ok(pl::Field::new(f.name().clone(), PlType::Int32)),
            );
            Typed::new(expr.cast(PlType::Date), DataType::Date, nullable)
        }
        "months_between" => {
            expect_args(name, &args, 2, 3)?;
            let round_off = args.len() < 3 || literal_bool(&args[2]);
            let local = |a: Typed| -> Result<pl::Expr> {
                let instant = cast(a, &DataType::Timestamp, ctx.ansi, &tz)?;
                Ok(utc_to_local(instant.expr, &tz).cast(PlType::Int64))
            };
            let later = local(take(&mut args, 0))?;
            let earlier = local(take(&mut args, 1))?;
            let expr = later.map_many(
                move |columns: &mut [pl::Column]| {
                    let (a, b) = (columns[0].i64()?, columns[1].i64()?);
                    let height = a.len().max(b.len());
                    let at = |c: &pl::Int64Chunked, row: usize| c.get(if c.len() == 1 { 0 } else { row });
                    let out: pl::Float64Chunked = (0..height)
                        .map(|row| Some(months_between(at(a, row)?, at(b, row)?, round_off)))
                        .collect();
                    Ok(pl::IntoColumn::into_column(out.with_name(columns[0].name().clone())))
                },
                &[earlier],
                |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Float64)),
            );
            Typed::new(expr, DataType::Double, nullable)
        }
        "make_dt_interval" | "make_ym_interval" => {
            let day_time = lower_name == "make_dt_interval";
            expect_args(name, &args, 0, if day_time { 4 } else { 2 })?;
            // Each part in its unit; a missing part is 0, a null one makes NULL.
            let units: &[i64] = if day_time {
                &[
                    crate::value::MICROS_PER_DAY,
                    3_600 * MICROS_PER_SECOND,
                    60 * MICROS_PER_SECOND,
                ]
            } else {
                &[12, 1]
            };
            let mut total = pl_lit(0i64);
            for (i, arg) in args.into_iter().enumerate() {
                let part = match units.get(i) {
                    Some(unit) => ctx.coerce_to(arg, &DataType::Long)?.expr * pl_lit(*unit),
                    // Seconds with a fraction, to the microsecond.
                    None => (ctx.coerce_to(arg, &DataType::Double)?.expr
                        * pl_lit(MICROS_PER_SECOND as f64))
                    .round(0, pl::RoundMode::HalfAwayFromZero)
                    .cast(PlType::Int64),
                };
                total = total + part;
            }
            let data_type = if day_time {
                DataType::DayTimeInterval(crate::types::IntervalFields::DAY_TO_SECOND)
            } else {
                DataType::YearMonthInterval(crate::types::IntervalFields::YEAR_TO_MONTH)
            };
            let physical = if day_time { PlType::Int64 } else { PlType::Int32 };
            Typed::new(
                total.cast(physical).cast(data_type.to_polars()),
                data_type,
                nullable,
            )
        }
        "make_date" => {
            expect_args(name, &args, 3, 3)?;
            let parts = args
                .into_iter()
                .map(|a| Ok(ctx.coerce_to(a, &DataType::Integer)?.expr.cast(PlType::Int32)))
                .collect::<Result<Vec<_>>>()?;
            let ansi = ctx.ansi;
            let expr = parts[0].clone().map_many(
                move |columns: &mut [pl::Column]| {
                    let rows = Broadcast::new(columns)?;
                    let mut out = Vec::with_capacity(rows.height);
                    for row in 0..rows.height {
                        let (Some(year), Some(month), Some(day)) =
                            (rows.get(0, row), rows.get(1, row), rows.get(2, row))
                        else {
                            out.push(None);
                            continue;
                        };
                        let date = u32::try_from(month)
                            .ok()
                            .zip(u32::try_from(day).ok())
                            .and_then(|(m, d)| chrono::NaiveDate::from_ymd_opt(year, m, d));
                        match date {
                            Some(date) => {
                                out.push(Some((date - crate::value::epoch()).num_days() as i32))
                            }
                            None if ansi => {
                                return Err(pl::PolarsError::ComputeError(
                                    format!(
                                        "[DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION] {}.",
                                        invalid_date(year, month, day)
                                    )
                                    .into(),
                                ))
                            }
                            None => out.push(None),
                        }
                    }
                    let days: pl::Int32Chunked = out.into_iter().collect();
                    Ok(pl::IntoColumn::into_column(
                        days.with_name(columns[0].name().clone()),
                    ))
                },
                &parts[1..],
                |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Int32)),
            );
            Typed::new(expr.cast(PlType::Date), DataType::Date, true)
        }
        "pmod" => {
            expect_args(name, &args, 2, 2)?;
            let divisor = take(&mut args, 1);
            let dividend = take(&mut args, 0);
            // Spark's Pmod: the remainder, moved up by the divisor when negative.
            let remainder = ctx.binary(BinaryOp::Modulo, dividend, divisor.clone())?;
            let moved = ctx.binary(BinaryOp::Plus, remainder.clone(), divisor.clone())?;
            let wrapped = ctx.binary(BinaryOp::Modulo, moved, divisor)?;
            Typed::new(
                pl_when(remainder.expr.clone().lt(pl_lit(0)))
                    .then(wrapped.expr)
                    .otherwise(remainder.expr),
                remainder.data_type,
                remainder.nullable,
            )
        }
        // A projection reads them from the columns `row_ids` adds below it.
        "monotonically_increasing_id" | "spark_partition_id" | "rand" | "random" | "randn" => {
            return Err(EngineError::spark(
                "UNSUPPORTED_FEATURE",
                format!("Kiln computes {name}() in select, withColumn, filter and orderBy; select it into a column first, then group or join by that column."),
            ))
        }
        _ => return crate::library::scalar(&lower_name, args, ctx),
    })
}

/// Int32 columns of one row count, where a single value (a literal) stands
/// for every row.
struct Broadcast {
    columns: Vec<pl::Int32Chunked>,
    height: usize,
}

impl Broadcast {
    fn new(columns: &[pl::Column]) -> pl::PolarsResult<Broadcast> {
        let columns = columns
            .iter()
            .map(|c| Ok(c.cast(&PlType::Int32)?.i32()?.clone()))
            .collect::<pl::PolarsResult<Vec<_>>>()?;
        let height = columns.iter().map(|c| c.len()).max().unwrap_or(0);
        Ok(Broadcast { columns, height })
    }

    fn get(&self, column: usize, row: usize) -> Option<i32> {
        let values = &self.columns[column];
        values.get(if values.len() == 1 { 0 } else { row })
    }
}

/// `f` over every string of `input`, nulls kept.
fn map_strings(input: pl::Expr, f: impl Fn(&str) -> String + Send + Sync + 'static) -> pl::Expr {
    input.map(
        move |c: pl::Column| {
            let out: pl::StringChunked = c.str()?.iter().map(|v| v.map(&f)).collect();
            Ok(pl::IntoColumn::into_column(out.with_name(c.name().clone())))
        },
        |_, field| Ok(pl::Field::new(field.name().clone(), PlType::String)),
    )
}

/// Spark's `initcap`: lower case, then each letter after a space (or at
/// the start) upper case.
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if at_word_start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        at_word_start = c == ' ';
    }
    out
}

/// The value `map` holds for `key` (null when it has none): a literal key
/// is matched inside each map by polars; a key that varies by row is
/// looked up row by row.
fn map_value(map: Typed, key: Typed, ctx: &LowerContext<'_>) -> Result<Typed> {
    let DataType::Map(key_type, value_type, _) = &map.data_type else {
        return Err(collection_input_error("element_at", &map.data_type));
    };
    let value_type = value_type.as_ref().clone();
    let key = ctx.coerce_to(key, key_type)?;
    if let pl::Expr::Literal(_) = &key.expr {
        let entry = pl::col("");
        let matching = entry
            .clone()
            .filter(entry.struct_().field_by_name("key").eq(key.expr));
        let expr = map
            .expr
            .list()
            .eval(matching)
            .list()
            .first()
            .struct_()
            .field_by_name("value");
        return Ok(Typed::new(expr, value_type, true));
    }
    let output = value_type.to_polars();
    // The keys lead: polars sizes the result by its first input, and a map
    // written as a literal is one row standing for all.
    let expr = key.expr.map_many(
        move |columns: &mut [pl::Column]| map_values_by_row(columns, &output),
        &[map.expr],
        {
            let output = value_type.to_polars();
            move |_, fields| Ok(pl::Field::new(fields[0].name().clone(), output.clone()))
        },
    );
    Ok(Typed::new(expr, value_type, true))
}

/// A constant expression as the literal it evaluates to. Polars shares a
/// constant that a query repeats (`map('a', 1)[x]` twice) as a column
/// computed on its own, which comes out empty; a literal is not shared.
fn folded(constant: pl::Expr) -> Result<pl::Expr> {
    let frame = pl::IntoLazy::lazy(pl::DataFrame::empty())
        .select([constant.alias("constant")])
        .collect()
        .map_err(crate::exec::from_polars)?;
    let value = frame
        .column("constant")
        .map_err(crate::exec::from_polars)?
        .as_materialized_series();
    let first = value
        .get(0)
        .map_err(crate::exec::from_polars)?
        .into_static();
    Ok(pl::Expr::Literal(pl::LiteralValue::Scalar(
        pl::Scalar::new(value.dtype().clone(), first),
    )))
}

/// Row by row, the value of the map in `columns[1]` under the key in
/// `columns[0]` (either may be one row, standing for every row).
fn map_values_by_row(columns: &mut [pl::Column], output: &PlType) -> pl::PolarsResult<pl::Column> {
    let keys = columns[0].as_materialized_series().clone();
    let maps = columns[1].list()?.clone();
    let rows = maps.len().max(keys.len());
    let at = |len: usize, row: usize| if len == 1 { 0 } else { row };
    let mut values = Vec::with_capacity(rows);
    for row in 0..rows {
        let key = keys.get(at(keys.len(), row))?;
        let entries = maps.get_as_series(at(maps.len(), row));
        let found = match entries {
            Some(entries) if !key.is_null() => {
                let fields = entries.struct_()?.fields_as_series();
                let (map_keys, map_values) = (&fields[0], &fields[1]);
                let mut found = pl::AnyValue::Null;
                for entry in 0..map_keys.len() {
                    if map_keys.get(entry)? == key {
                        found = map_values.get(entry)?.into_static();
                        break;
                    }
                }
                found
            }
            _ => pl::AnyValue::Null,
        };
        values.push(found);
    }
    let name = columns[0].name().clone();
    Ok(pl::Series::from_any_values_and_dtype(name, &values, output, false)?.into())
}

/// `element_at(array, i)`'s 0-based list positions from the arrays'
/// lengths and the 1-based (or from the end, negative) indices, with
/// Spark's errors for index 0 and, under ANSI, for an index past the end.
fn element_at_indices(columns: &mut [pl::Column]) -> pl::PolarsResult<pl::Column> {
    let lengths = columns[0].cast(&PlType::Int64)?;
    let lengths = lengths.i64()?;
    let indices = columns[1].i64()?;
    let height = lengths.len().max(indices.len());
    let at = |c: &pl::Int64Chunked, row: usize| c.get(if c.len() == 1 { 0 } else { row });
    let mut positions: Vec<Option<i64>> = Vec::with_capacity(height);
    for row in 0..height {
        let (Some(length), Some(index)) = (at(lengths, row), at(indices, row)) else {
            positions.push(None);
            continue;
        };
        if index == 0 {
            return Err(pl::PolarsError::ComputeError(
                "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1).".into(),
            ));
        }
        if index.unsigned_abs() > length as u64 {
            return Err(pl::PolarsError::ComputeError(
                format!("[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {index} is out of bounds. The array has {length} elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead.").into(),
            ));
        }
        positions.push(Some(if index > 0 { index - 1 } else { index }));
    }
    let name = columns[0].name().clone();
    let positions: pl::Int64Chunked = positions.into_iter().collect();
    Ok(pl::IntoColumn::into_column(positions.with_name(name)))
}

/// `sequence(start, stop[, step])` per row: from `start` to `stop`
/// inclusive by `step` (1 or -1 by default, toward `stop`); null when an
/// argument is null.
fn integer_sequences(columns: &mut [pl::Column]) -> pl::PolarsResult<pl::Column> {
    const MAX_LENGTH: i128 = i32::MAX as i128 - 15;
    sequences_by_row(columns, |start, stop, step| {
        let step = step.unwrap_or(if start <= stop { 1 } else { -1 });
        check_boundaries(start, stop, step, (start, stop))?;
        let length = if step == 0 {
            1
        } else {
            (i128::from(stop) - i128::from(start)) / i128::from(step) + 1
        };
        if length > MAX_LENGTH {
            return Err(pl::PolarsError::ComputeError(
                format!("[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {length} elements which exceeding the array size limit 2147483632.").into(),
            ));
        }
        Ok((0..length as i64).map(|i| start + i * step).collect())
    })
}

/// Sequences row by row over the i64 columns start, stop and (if given)
/// step, any of them one row standing for all: a null argument makes a
/// null sequence, `items` makes the others from start, stop and the step.
fn sequences_by_row(
    columns: &[pl::Column],
    items: impl Fn(i64, i64, Option<i64>) -> pl::PolarsResult<Vec<i64>>,
) -> pl::PolarsResult<pl::Column> {
    let values = columns
        .iter()
        .map(|c| Ok(c.i64()?.clone()))
        .collect::<pl::PolarsResult<Vec<_>>>()?;
    let height = values.iter().map(|c| c.len()).max().unwrap_or(0);
    let at = |column: usize, row: usize| -> Option<Option<i64>> {
        let c = values.get(column)?;
        Some(c.get(if c.len() == 1 { 0 } else { row }))
    };
    let mut sequences: Vec<Option<pl::Series>> = Vec::with_capacity(height);
    for row in 0..height {
        let sequence = match (at(0, row), at(1, row), at(2, row)) {
            (Some(Some(start)), Some(Some(stop)), None) => Some(items(start, stop, None)?),
            (Some(Some(start)), Some(Some(stop)), Some(Some(step))) => {
                Some(items(start, stop, Some(step))?)
            }
            _ => None,
        };
        sequences.push(sequence.map(|items| {
            pl::IntoSeries::into_series(pl::Int64Chunked::from_vec(pl::PlSmallStr::EMPTY, items))
        }));
    }
    let name = columns[0].name().clone();
    let lists: pl::ListChunked = sequences.into_iter().collect();
    Ok(pl::IntoColumn::into_column(lists.with_name(name)))
}

/// Spark's refusal of a sequence that cannot get from `start` to `stop` by
/// `step`, quoting the bounds as `shown`.
fn check_boundaries(start: i64, stop: i64, step: i64, shown: (i64, i64)) -> pl::PolarsResult<()> {
    let wrong_way = (step > 0 && start > stop) || (step < 0 && start < stop);
    if (step == 0 && start != stop) || wrong_way {
        return Err(pl::PolarsError::ComputeError(
            format!(
                "{ILLEGAL_ARGUMENT}requirement failed: Illegal sequence boundaries: {} to {} by {step}",
                shown.0, shown.1
            )
            .into(),
        ));
    }
    Ok(())
}

/// `sequence(start, stop[, step])` over dates: a day apart (or back) by
/// default, or `step` apart, a day-time interval of whole days or a
/// year-month interval (each date `start` plus i steps, clamped to the end
/// of its month as `add_months` does).
fn date_sequence(mut args: Vec<Typed>, nullable: bool, ctx: &LowerContext<'_>) -> Result<Typed> {
    let step = (args.len() == 3).then(|| take(&mut args, 2));
    let stop = ctx.coerce_to(take(&mut args, 1), &DataType::Date)?;
    let start = ctx.coerce_to(take(&mut args, 0), &DataType::Date)?;
    let months = match step.as_ref().map(|s| &s.data_type) {
        None | Some(DataType::DayTimeInterval(_)) => false,
        Some(DataType::YearMonthInterval(_)) => true,
        Some(other) => {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.SEQUENCE_WRONG_INPUT_TYPES",
                format!(
                    "Cannot resolve \"sequence\" due to data type mismatch: `sequence` uses the wrong parameter type. The parameter type must conform to: 1. The start and stop expressions must resolve to the same type. 2. Otherwise, if start and stop expressions resolve to the \"DATE\" type, then the step expression must resolve to the \"INTERVAL\" type. Got \"{}\".",
                    other.simple_string().to_uppercase()
                ),
            ))
        }
    };
    let mut parts = vec![
        start.expr.cast(PlType::Int64),
        stop.expr.cast(PlType::Int64),
    ];
    parts.extend(step.map(|s| s.expr.cast(PlType::Int64)));
    let expr = parts[0].clone().map_many(
        move |columns: &mut [pl::Column]| date_sequences(columns, months),
        &parts[1..],
        |_, fields| {
            Ok(pl::Field::new(
                fields[0].name().clone(),
                PlType::List(Box::new(PlType::Int64)),
            ))
        },
    );
    let data_type = DataType::Array(Box::new(DataType::Date), false);
    let days = expr.cast(PlType::List(Box::new(PlType::Int32)));
    Ok(Typed::new(
        days.cast(data_type.to_polars()),
        data_type,
        nullable,
    ))
}

/// The day numbers of date sequences: `columns` hold the start and stop
/// days and, if given, the step (microseconds, or months when `months`).
fn date_sequences(columns: &mut [pl::Column], months: bool) -> pl::PolarsResult<pl::Column> {
    if !months {
        if let Some(step) = columns.get(2) {
            let micros = step.i64()?;
            if micros.iter().flatten().any(|m| m % MICROS_PER_DAY != 0) {
                return Err(pl::PolarsError::ComputeError(
                    format!("{ILLEGAL_ARGUMENT}sequence step must be an interval day to second of day granularity if start and end values are dates").into(),
                ));
            }
            let days: pl::Int64Chunked =
                pl::ChunkApply::apply_values(micros, |m| m / MICROS_PER_DAY);
            columns[2] = pl::IntoColumn::into_column(days.with_name(step.name().clone()));
        }
        return integer_sequences(columns);
    }
    sequences_by_row(columns, |start, stop, step| {
        let step = step.unwrap_or(1);
        // Spark quotes the dates as microseconds since the epoch here.
        check_boundaries(
            start,
            stop,
            step,
            (start * MICROS_PER_DAY, stop * MICROS_PER_DAY),
        )?;
        let mut items = vec![start];
        if step == 0 {
            return Ok(items);
        }
        // Each date is `start` moved by i steps, clamped to its month's end.
        for i in 1.. {
            let shift = i32::try_from(i * step).ok();
            let Some(days) = shift.and_then(|m| shift_months(i32::try_from(start).ok()?, m, false))
            else {
                break;
            };
            let days = i64::from(days);
            if (step > 0 && days > stop) || (step < 0 && days < stop) {
                break;
            }
            items.push(days);
        }
        Ok(items)
    })
}

/// `extract(SECOND FROM ts)`: the local seconds with their microseconds,
/// a `decimal(8,6)` as Spark's (`second(ts)` is the whole seconds).
fn seconds_with_fraction(source: Typed, ctx: &LowerContext<'_>) -> Result<Typed> {
    let nullable = source.nullable;
    let instant = cast(source, &DataType::Timestamp, ctx.ansi, &ctx.time_zone)?;
    let micros = utc_to_local(instant.expr, &ctx.time_zone).cast(PlType::Int64)
        % pl_lit(60 * MICROS_PER_SECOND);
    let expr = micros.map(
        |c: pl::Column| {
            let unscaled: pl::Int128Chunked = c.i64()?.iter().map(|v| v.map(i128::from)).collect();
            Ok(pl::IntoColumn::into_column(
                unscaled
                    .with_name(c.name().clone())
                    .into_decimal_unchecked(8, 6),
            ))
        },
        |_, f| Ok(pl::Field::new(f.name().clone(), PlType::Decimal(8, 6))),
    );
    Ok(Typed::new(expr, DataType::Decimal(8, 6), nullable))
}

/// Spark's `months_between` of two local wall-clock times (microseconds):
/// whole months when the days of month match or both are month ends,
/// otherwise the difference in days and time over 31-day months, rounded to
/// 8 places when `round_off`.
fn months_between(later: i64, earlier: i64, round_off: bool) -> f64 {
    use chrono::{Datelike, Timelike};
    let at = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    };
    let (a, b) = (at(later), at(earlier));
    let month_end = |t: &chrono::NaiveDateTime| (t.date() + chrono::Days::new(1)).day() == 1;
    let months = f64::from((a.year() - b.year()) * 12 + a.month() as i32 - b.month() as i32);
    if a.day() == b.day() || (month_end(&a) && month_end(&b)) {
        return months;
    }
    const DAY: i64 = 86_400;
    let seconds = |t: &chrono::NaiveDateTime| {
        i64::from(t.day()) * DAY + i64::from(t.num_seconds_from_midnight())
    };
    let diff = months + (seconds(&a) - seconds(&b)) as f64 / (31 * DAY) as f64;
    if round_off {
        (diff * 1e8).round() / 1e8
    } else {
        diff
    }
}

/// Why `make_date` has no date for these fields, in java.time's words.
fn invalid_date(year: i32, month: i32, day: i32) -> String {
    const MONTHS: [&str; 12] = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ];
    if !(1..=12).contains(&month) {
        format!("Invalid value for MonthOfYear (valid values 1 - 12): {month}")
    } else if !(1..=31).contains(&day) {
        format!("Invalid value for DayOfMonth (valid values 1 - 28/31): {day}")
    } else if month == 2 && day == 29 {
        format!("Invalid date 'February 29' as '{year}' is not a leap year")
    } else {
        format!("Invalid date '{} {day}'", MONTHS[month as usize - 1])
    }
}

fn extract_field_error(field: &str, source: &DataType) -> EngineError {
    EngineError::analysis(
        "INVALID_EXTRACT_FIELD",
        format!(
            "Cannot extract `{}` from \"{}\".",
            field.to_uppercase(),
            source.simple_string().to_uppercase()
        ),
    )
}

/// Java's `$1` group references in replacements become the regex crate's `${1}`.
fn java_replacement(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
        } else if chars[i] == '$' && i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
            let digits: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            out.push_str(&format!("${{{digits}}}"));
            i += 1 + digits.len();
        } else if chars[i] == '$' {
            out.push_str("$$");
            i += 1;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// SQL LIKE (`%`, `_`, `\` escape) as an anchored regex.
pub fn like_to_regex(pattern: &str, case_insensitive: bool, escape: char) -> String {
    let mut out = String::from(if case_insensitive { "(?is)^" } else { "(?s)^" });
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => {
                if let Some(next) = chars.next() {
                    out.push_str(&regex_escape(next));
                }
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            other => out.push_str(&regex_escape(other)),
        }
    }
    out.push('$');
    out
}

/// The one character a LIKE's ESCAPE names.
fn escape_char(text: &str) -> Result<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(EngineError::analysis(
            "INVALID_ESCAPE_CHAR",
            format!(
                "The escape character must be a string literal of length one, but got '{text}'."
            ),
        )),
    }
}

fn regex_escape(c: char) -> String {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// Local wall-clock microseconds moved by whole months, the time of day
/// kept and the day clamped to the month's last.
pub(crate) fn shift_local_months(micros: i64, months: i32) -> Option<i64> {
    let (days, time) = (
        micros.div_euclid(MICROS_PER_DAY),
        micros.rem_euclid(MICROS_PER_DAY),
    );
    let moved = shift_months(i32::try_from(days).ok()?, months, false)?;
    Some(i64::from(moved) * MICROS_PER_DAY + time)
}

/// Days since the epoch moved by whole months (clamped to the month's last
/// day, as Spark's `add_months`), or to the last day of the month.
fn shift_months(days: i32, months: i32, last_day: bool) -> Option<i32> {
    use chrono::Datelike;
    let date = crate::value::epoch() + chrono::Duration::days(days as i64);
    let total = date.year() * 12 + date.month0() as i32 + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let first = chrono::NaiveDate::from_ymd_opt(year, month0 + 1, 1)?;
    let next = if month0 == 11 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month0 + 2, 1)?
    };
    let length = (next - first).num_days() as u32;
    let day = if last_day {
        length
    } else {
        date.day().min(length)
    };
    let result = chrono::NaiveDate::from_ymd_opt(year, month0 + 1, day)?;
    Some((result - crate::value::epoch()).num_days() as i32)
}

fn pad_string(value: &str, width: usize, fill: &str, left: bool) -> String {
    let length = value.chars().count();
    if length >= width {
        return value.chars().take(width).collect();
    }
    if fill.is_empty() {
        return value.to_string();
    }
    let padding: String = fill.chars().cycle().take(width - length).collect();
    if left {
        format!("{padding}{value}")
    } else {
        format!("{value}{padding}")
    }
}

/// `split(str, regex)`: Spark splits by a Java regex and keeps trailing empty strings.
fn regex_lite_split(pattern: &str) -> impl Fn(&str) -> Vec<String> {
    let compiled = regex::Regex::new(pattern).ok();
    let literal = pattern.to_string();
    move |text: &str| match &compiled {
        Some(re) => re.split(text).map(str::to_string).collect(),
        None => text.split(literal.as_str()).map(str::to_string).collect(),
    }
}

/// An aggregate lowered for execution.
pub struct AggregateLowering {
    /// Evaluated over a group's rows in one step.
    pub complete: pl::Expr,
    /// Two-phase form when the function allows it: partial states per
    /// partition (named), how states merge after the shuffle, and the final value.
    pub phases: Option<AggregatePhases>,
    pub data_type: DataType,
    pub nullable: bool,
}

pub struct AggregatePhases {
    pub partial: Vec<pl::Expr>,
    pub merge: Vec<pl::Expr>,
    pub finish: pl::Expr,
}

/// Spark's implicit trailing arguments, which its column names show
/// (`percentile_approx(x, 0.5)` is named `percentile_approx(x, 0.5, 10000)`).
pub fn add_default_args(name: &str, args: &mut Vec<Expr>) {
    // `log(x)` is Spark's `LOG(E(), x)`.
    if name.eq_ignore_ascii_case("log") && args.len() == 1 {
        args.insert(0, crate::expr::func("e", vec![]));
    }
    let parts = match name.to_ascii_lowercase().as_str() {
        "make_dt_interval" => vec![
            Value::Integer(0),
            Value::Integer(0),
            Value::Integer(0),
            Value::Decimal(0, 18, 6),
        ],
        "make_ym_interval" => vec![Value::Integer(0), Value::Integer(0)],
        _ => vec![],
    };
    for part in parts.into_iter().skip(args.len()) {
        args.push(Expr::Literal(part));
    }
    let (given, default) = match name.to_ascii_lowercase().as_str() {
        "percentile_approx" | "approx_percentile" => (
            2,
            Value::Integer(crate::percentile::DEFAULT_ACCURACY as i32),
        ),
        "percentile" => (2, Value::Integer(1)),
        "months_between" => (2, Value::Boolean(true)),
        "sort_array" => (1, Value::Boolean(true)),
        "listagg" | "string_agg" => (1, Value::Null),
        "locate" | "position" => (2, Value::Integer(1)),
        "replace" => (2, Value::String(String::new())),
        _ => return,
    };
    if args.len() == given {
        args.push(Expr::Literal(default));
    }
}

/// Lowers `name(args)` as an aggregate; `state` names its partial columns
/// uniquely, `source` holds the arguments as written (for error text).
pub fn aggregate(
    name: &str,
    args: Vec<Typed>,
    source: &[Expr],
    distinct: bool,
    state: &str,
    ctx: &LowerContext<'_>,
) -> Result<AggregateLowering> {
    let lower_name = name.to_ascii_lowercase();
    let s = |k: usize| format!("{state}_{k}");
    let distinct = distinct || matches!(lower_name.as_str(), "count_distinct" | "countdistinct");
    let one_arg = |args: &[Typed]| expect_args(name, args, 1, 1);
    Ok(match lower_name.as_str() {
        "count" | "count_distinct" | "countdistinct" => {
            let counts_rows = args.is_empty()
                || (!distinct && args.len() == 1 && matches!(args[0].expr, pl::Expr::Literal(_)) && !args[0].nullable);
            if counts_rows {
                let partial = pl::len().cast(PlType::Int64).alias(s(0));
                return Ok(AggregateLowering {
                    complete: pl::len().cast(PlType::Int64),
                    phases: Some(AggregatePhases {
                        partial: vec![partial],
                        merge: vec![pl::col(s(0)).sum().alias(s(0))],
                        finish: pl::col(s(0)).fill_null(pl_lit(0i64)),
                    }),
                    data_type: DataType::Long,
                    nullable: false,
                });
            }
            if distinct {
                // Rows where any argument is null are not counted.
                let any_null = args
                    .iter()
                    .map(|a| a.expr.clone().is_null())
                    .reduce(|a, b| a.or(b))
                    .unwrap_or(pl_lit(false));
                let fields: Vec<pl::Expr> = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| a.expr.clone().alias(format!("f{i}")))
                    .collect();
                let value = pl::as_struct(fields);
                let complete = value
                    .filter(any_null.not())
                    .n_unique()
                    .cast(PlType::Int64);
                return Ok(AggregateLowering {
                    complete,
                    phases: None,
                    data_type: DataType::Long,
                    nullable: false,
                });
            }
            let non_null = args
                .iter()
                .map(|a| a.expr.clone().is_not_null())
                .reduce(|a, b| a.and(b))
                .unwrap_or(pl_lit(true));
            let count = non_null.cast(PlType::Int64).sum();
            counted(count, s(0))
        }
        "sum" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            let data_type = match &input.data_type {
                t if t.is_integral() => DataType::Long,
                DataType::Decimal(p, s) => DataType::Decimal((p + 10).min(38), *s),
                DataType::Float | DataType::Double | DataType::String | DataType::Null => {
                    DataType::Double
                }
                interval @ (DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_)) => {
                    interval.clone()
                }
                other => {
                    return Err(aggregate_type_error("sum", other));
                }
            };
            let value = ctx.coerce_to(input, &data_type)?.expr;
            let value = if distinct { value.unique() } else { value };
            let sum = value.clone().sum();
            let count = value.count().cast(PlType::Int64);
            let complete = pl_when(count.clone().gt(pl_lit(0i64)))
                .then(sum.clone())
                .otherwise(pl_lit(pl::Null {}).cast(data_type.to_polars()));
            AggregateLowering {
                complete,
                phases: (!distinct).then(|| AggregatePhases {
                    partial: vec![sum.alias(s(0)), count.alias(s(1))],
                    merge: vec![pl::col(s(0)).sum().alias(s(0)), pl::col(s(1)).sum().alias(s(1))],
                    finish: pl_when(pl::col(s(1)).gt(pl_lit(0i64)))
                        .then(pl::col(s(0)))
                        .otherwise(pl_lit(pl::Null {}).cast(data_type.to_polars())),
                }),
                data_type,
                nullable: true,
            }
        }
        "avg" | "mean" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            if let DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_) = input.data_type {
                return Ok(interval_mean(input, distinct, s));
            }
            if !(input.data_type.is_numeric() || matches!(input.data_type, DataType::String | DataType::Null)) {
                return Err(aggregate_type_error("avg", &input.data_type));
            }
            if let DataType::Decimal(precision, scale) = input.data_type {
                // Exact, as Spark: a decimal(p + 10, s) sum divided by the
                // count into decimal(p + 4, s + 4), rounding half up.
                let (result_precision, result_scale) = ((precision + 4).min(38), (scale + 4).min(38));
                let data_type = DataType::Decimal(result_precision, result_scale);
                let sum_type = DataType::Decimal((precision + 10).min(38), scale);
                let value = ctx.coerce_to(input, &sum_type)?.expr;
                let mean = move |sum, count| {
                    crate::decimal::mean(sum, count, result_precision, result_scale)
                };
                return Ok(averaged(value, distinct, s, mean, data_type));
            }
            let value = ctx.coerce_to(input, &DataType::Double)?.expr;
            let value = if distinct { value.unique() } else { value };
            let sum = value.clone().sum();
            let count = value.clone().count().cast(PlType::Int64);
            AggregateLowering {
                complete: value.mean(),
                phases: (!distinct).then(|| AggregatePhases {
                    partial: vec![sum.alias(s(0)), count.alias(s(1))],
                    merge: vec![pl::col(s(0)).sum().alias(s(0)), pl::col(s(1)).sum().alias(s(1))],
                    finish: pl_when(pl::col(s(1)).gt(pl_lit(0i64)))
                        .then(pl::col(s(0)) / pl::col(s(1)).cast(PlType::Float64))
                        .otherwise(pl_lit(pl::Null {}).cast(PlType::Float64)),
                }),
                data_type: DataType::Double,
                nullable: true,
            }
        }
        "min" | "max" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            let data_type = input.data_type.clone();
            let is_min = lower_name == "min";
            let reduce = |e: pl::Expr| if is_min { e.min() } else { e.max() };
            AggregateLowering {
                complete: reduce(input.expr.clone()),
                phases: Some(AggregatePhases {
                    partial: vec![reduce(input.expr).alias(s(0))],
                    merge: vec![reduce(pl::col(s(0))).alias(s(0))],
                    finish: pl::col(s(0)),
                }),
                data_type,
                nullable: true,
            }
        }
        "first" | "last" | "first_value" | "last_value" | "any_value" => {
            expect_args(name, &args, 1, 2)?;
            let ignore_nulls = args.len() == 2 && literal_bool(&args[1]);
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            let data_type = input.data_type.clone();
            let value = if ignore_nulls {
                input.expr.drop_nulls()
            } else {
                input.expr
            };
            let complete = if lower_name.starts_with("last") {
                value.last()
            } else {
                value.first()
            };
            AggregateLowering {
                complete,
                phases: None,
                data_type,
                nullable: true,
            }
        }
        "collect_list" | "collect_set" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            let element = input.data_type.clone();
            let value = input.expr.drop_nulls();
            let value = if lower_name == "collect_set" || distinct {
                value.unique_stable()
            } else {
                value
            };
            AggregateLowering {
                complete: value.implode(true),
                phases: None,
                data_type: DataType::Array(Box::new(element), false),
                nullable: false,
            }
        }
        "percentile_approx" | "approx_percentile" | "percentile" | "median"
        | "percentile_cont" | "percentile_disc" => {
            return crate::percentile::lower(&lower_name, args, source, ctx);
        }
        "approx_count_distinct" => {
            // Exact: Spark's HyperLogLog++ estimate equals the exact count on
            // small inputs and is within `rsd` of it on large ones.
            expect_args(name, &args, 1, 2)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            AggregateLowering {
                complete: input.expr.drop_nulls().n_unique().cast(PlType::Int64),
                phases: None,
                data_type: DataType::Long,
                nullable: false,
            }
        }
        "listagg" | "string_agg" => {
            expect_args(name, &args, 1, 3)?;
            let mut args = args.into_iter();
            let input = args.next().ok_or_else(|| arity_error(name, "1", 0))?;
            if matches!(
                input.data_type,
                DataType::Array(..) | DataType::Map(..) | DataType::Struct(_)
            ) {
                return Err(first_parameter_error(name, "\"STRING\"", &input.data_type));
            }
            // A null delimiter (the default) joins the values with nothing between.
            let delimiter = match args.next() {
                Some(d) if d.data_type == DataType::Null => String::new(),
                Some(d) => literal_string(&d, name, 2)?,
                None => String::new(),
            };
            let value = ctx.coerce_to(input, &DataType::String)?.expr;
            // `WITHIN GROUP (ORDER BY key)`: the values in the key's order.
            let value = match (args.next(), source.get(2)) {
                (
                    Some(key),
                    Some(Expr::SortOrder {
                        ascending,
                        nulls_first,
                        ..
                    }),
                ) => value.sort_by(
                    [key.expr],
                    pl::SortMultipleOptions::default()
                        .with_order_descending(!ascending)
                        .with_nulls_last(!nulls_first)
                        .with_maintain_order(true),
                ),
                _ => value,
            };
            let value = value.drop_nulls();
            let value = if distinct {
                value.unique_stable()
            } else {
                value
            };
            AggregateLowering {
                complete: pl_when(value.clone().count().gt(pl_lit(0u32)))
                    .then(value.str().join(&delimiter, true))
                    .otherwise(pl_lit(pl::Null {}).cast(PlType::String)),
                phases: None,
                data_type: DataType::String,
                nullable: true,
            }
        }
        "count_if" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            if !matches!(input.data_type, DataType::Boolean | DataType::Null) {
                return Err(boolean_input_error(name, &input.data_type));
            }
            let count = input.expr.fill_null(pl_lit(false)).cast(PlType::Int64).sum();
            counted(count, s(0))
        }
        "bool_and" | "every" | "bool_or" | "some" | "any" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            if !matches!(input.data_type, DataType::Boolean | DataType::Null) {
                return Err(boolean_input_error(name, &input.data_type));
            }
            let all = matches!(lower_name.as_str(), "bool_and" | "every");
            let reduce = move |e: pl::Expr| if all { e.min() } else { e.max() };
            let value = input.expr.cast(PlType::Boolean);
            AggregateLowering {
                complete: reduce(value.clone()),
                phases: Some(AggregatePhases {
                    partial: vec![reduce(value).alias(s(0))],
                    merge: vec![reduce(pl::col(s(0))).alias(s(0))],
                    finish: pl::col(s(0)),
                }),
                data_type: DataType::Boolean,
                nullable: true,
            }
        }
        "max_by" | "min_by" => {
            expect_args(name, &args, 2, 2)?;
            let mut args = args;
            let ordering = args.pop().ok_or_else(|| arity_error(name, "2", 1))?;
            let value = args.pop().ok_or_else(|| arity_error(name, "2", 1))?;
            let data_type = value.data_type.clone();
            // The value of the first row holding the extreme ordering value;
            // rows whose ordering value is null never count.
            let picked = |value: pl::Expr, ordering: pl::Expr| {
                let position = if lower_name == "max_by" {
                    ordering.arg_max()
                } else {
                    ordering.arg_min()
                };
                value.gather(position, true)
            };
            let (value, ordering) = (value.expr, ordering.expr);
            let known = ordering.clone().is_not_null();
            let complete = picked(value.filter(known.clone()), ordering.filter(known)).first();
            AggregateLowering {
                complete,
                phases: None,
                data_type,
                nullable: true,
            }
        }
        "mode" => {
            expect_args(name, &args, 1, 3)?;
            let mut args = args.into_iter();
            let input = args.next().ok_or_else(|| arity_error(name, "1", 0))?;
            if matches!(input.data_type, DataType::Map(..)) {
                return Err(aggregate_type_error("mode", &input.data_type));
            }
            // `mode(x, deterministic)` asks for the lowest of equally
            // frequent values, which Kiln always gives; the SQL frontend's
            // third flag (`WITHIN GROUP (ORDER BY x DESC)`) for the highest.
            for (flag, shown) in args.zip(source.iter().skip(1)) {
                if !matches!(flag.data_type, DataType::Boolean) {
                    return Err(EngineError::analysis(
                        "UNEXPECTED_INPUT_TYPE",
                        format!(
                            "Parameter 2 requires the \"BOOLEAN\" type, however \"{shown}\" has the type \"{}\".",
                            flag.data_type.simple_string().to_uppercase()
                        ),
                    ));
                }
            }
            let highest = matches!(
                source.get(2),
                Some(Expr::Literal(Value::Boolean(true)))
            );
            let data_type = input.data_type.clone();
            let value = if distinct { input.expr.unique_stable() } else { input.expr };
            AggregateLowering {
                complete: crate::mode::mode(value, data_type.to_polars(), highest, state),
                phases: None,
                data_type,
                nullable: true,
            }
        }
        "corr" | "covar_samp" | "covar_pop" | "stat_corr" | "stat_covar_samp" => {
            expect_args(name, &args, 2, 2)?;
            for arg in &args {
                if !(arg.data_type.is_numeric()
                    || matches!(arg.data_type, DataType::Null | DataType::String))
                {
                    return Err(aggregate_type_error(&lower_name, &arg.data_type));
                }
            }
            let mut args = args.into_iter();
            let (Some(x), Some(y)) = (args.next(), args.next()) else {
                return Err(arity_error(name, "2", 0));
            };
            let x = ctx.coerce_to(x, &DataType::Double)?.expr;
            let y = ctx.coerce_to(y, &DataType::Double)?.expr;
            // `df.corr` / `df.cov` call these under internal names.
            let (function, flavor) = match lower_name.strip_prefix("stat_") {
                Some(function) => (function, co_moments::Flavor::Stat),
                None => (lower_name.as_str(), co_moments::Flavor::Sql),
            };
            let partial = co_moments::partial(x, y, flavor, state);
            co_moment_lowering(partial, flavor, function, distinct, s(0))
        }
        "stddev" | "std" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop"
        | "skewness" | "kurtosis" => {
            one_arg(&args)?;
            let input = args.into_iter().next().ok_or_else(|| arity_error(name, "1", 0))?;
            let value = ctx.coerce_to(input, &DataType::Double)?.expr;
            let function = match lower_name.as_str() {
                "stddev" | "std" => "stddev_samp",
                "variance" => "var_samp",
                other => other,
            };
            let value = if distinct { value.unique_stable() } else { value };
            let flavor = co_moments::Flavor::Central;
            let partial = co_moments::partial(value.clone(), value, flavor, state);
            co_moment_lowering(partial, flavor, function, distinct, s(0))
        }
        _ => {
            return Err(EngineError::analysis(
                "UNRESOLVED_ROUTINE",
                format!("Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`]."),
            ))
        }
    })
}

/// `avg` of intervals: the exact sum over the count, rounded half away
/// from zero, in the default fields of the interval's kind (Spark divides
/// the sum as `DivideDTInterval` does).
fn interval_mean(input: Typed, distinct: bool, s: impl Fn(usize) -> String) -> AggregateLowering {
    let (data_type, physical) = match input.data_type {
        DataType::DayTimeInterval(_) => (
            DataType::DayTimeInterval(crate::types::IntervalFields::DAY_TO_SECOND),
            PlType::Int64,
        ),
        _ => (
            DataType::YearMonthInterval(crate::types::IntervalFields::YEAR_TO_MONTH),
            PlType::Int32,
        ),
    };
    let value = input.expr.cast(PlType::Int64);
    let output = data_type.to_polars();
    let mean = move |sum: pl::Expr, count: pl::Expr| {
        pl_when(count.clone().gt(pl_lit(0i64)))
            .then(
                (sum.cast(PlType::Float64) / count.cast(PlType::Float64))
                    .round(0, pl::RoundMode::HalfAwayFromZero)
                    .cast(physical.clone())
                    .cast(output.clone()),
            )
            .otherwise(pl_lit(pl::Null {}).cast(output.clone()))
    };
    averaged(value, distinct, s, mean, data_type)
}

/// An average, `mean(sum, count)` over `value`'s non-null rows: in two
/// phases (each partition's sum and count, added) unless distinct.
fn averaged(
    value: pl::Expr,
    distinct: bool,
    s: impl Fn(usize) -> String,
    mean: impl Fn(pl::Expr, pl::Expr) -> pl::Expr,
    data_type: DataType,
) -> AggregateLowering {
    let value = if distinct { value.unique() } else { value };
    let sum = value.clone().sum();
    let count = value.count().cast(PlType::Int64);
    AggregateLowering {
        complete: mean(sum.clone(), count.clone()),
        phases: (!distinct).then(|| AggregatePhases {
            partial: vec![sum.alias(s(0)), count.alias(s(1))],
            merge: vec![
                pl::col(s(0)).sum().alias(s(0)),
                pl::col(s(1)).sum().alias(s(1)),
            ],
            finish: mean(pl::col(s(0)), pl::col(s(1))),
        }),
        data_type,
        nullable: true,
    }
}

/// A co-moment statistic (`co_moments`) in two phases: each partition's
/// buffer in the state column `state`, merged, then divided out.
fn co_moment_lowering(
    partial: pl::Expr,
    flavor: co_moments::Flavor,
    function: &str,
    distinct: bool,
    state: String,
) -> AggregateLowering {
    AggregateLowering {
        complete: co_moments::finish(co_moments::merge(partial.clone(), flavor), function),
        phases: (!distinct).then(|| AggregatePhases {
            partial: vec![partial.alias(state.as_str())],
            merge: vec![co_moments::merge(pl::col(state.as_str()), flavor).alias(state.as_str())],
            finish: co_moments::finish(pl::col(state.as_str()), function),
        }),
        data_type: DataType::Double,
        nullable: true,
    }
}

fn literal_bool(arg: &Typed) -> bool {
    if let pl::Expr::Literal(value) = &arg.expr {
        if let Some(pl::AnyValue::Boolean(b)) = value.to_any_value() {
            return b;
        }
    }
    false
}

/// A count of rows (`count_expr` sums to it) in two phases: per-partition
/// counts in state column `state`, summed; 0 for no rows.
fn counted(count_expr: pl::Expr, state: String) -> AggregateLowering {
    AggregateLowering {
        complete: count_expr.clone(),
        phases: Some(AggregatePhases {
            partial: vec![count_expr.alias(state.as_str())],
            merge: vec![pl::col(state.as_str()).sum().alias(state.as_str())],
            finish: pl::col(state.as_str()).fill_null(pl_lit(0i64)),
        }),
        data_type: DataType::Long,
        nullable: false,
    }
}

pub(crate) fn collection_input_error(name: &str, got: &DataType) -> EngineError {
    first_parameter_error(name, "(\"ARRAY\" or \"MAP\")", got)
}

fn boolean_input_error(name: &str, got: &DataType) -> EngineError {
    first_parameter_error(name, "\"BOOLEAN\"", got)
}

/// Spark's `UNEXPECTED_INPUT_TYPE` for a first argument not of `expected`
/// (the type names as Spark quotes them).
fn first_parameter_error(name: &str, expected: &str, got: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: the first parameter requires the {expected} type, however it has the type \"{}\".",
            got.simple_string().to_uppercase()
        ),
    )
}

fn aggregate_type_error(name: &str, got: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{name}\" due to data type mismatch: requires numeric or interval type, however the input has type \"{}\".",
            got.simple_string().to_uppercase()
        ),
    )
}

/// Translates a Java `DateTimeFormatter` pattern (Spark's) to strftime for
/// parsing, where a numeric field reads one or two digits however many
/// letters name it.
pub fn java_to_strftime(pattern: &str) -> String {
    translate_java_pattern(pattern, false)
}

/// Translates a Java `DateTimeFormatter` pattern (Spark's) to strftime for
/// formatting, where one letter prints a number unpadded (`d` prints 1,
/// `dd` 01) and `S`s print that many fraction digits.
pub fn java_to_strftime_output(pattern: &str) -> String {
    translate_java_pattern(pattern, true)
}

fn translate_java_pattern(pattern: &str, output: bool) -> String {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                match chars[i] {
                    '%' => out.push_str("%%"),
                    other => out.push(other),
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        // An unpadded number where one letter asks for it in output.
        let number = |padded: &str| {
            if output && run == 1 {
                padded.replacen('%', "%-", 1)
            } else {
                padded.to_string()
            }
        };
        let piece = match (c, run) {
            ('y', 2) => "%y".to_string(),
            ('y', _) => "%Y".to_string(),
            ('M', 1) | ('M', 2) => number("%m"),
            ('M', 3) => "%b".to_string(),
            ('M', _) => "%B".to_string(),
            ('d', _) => number("%d"),
            ('H', _) => number("%H"),
            ('h', _) => number("%I"),
            ('m', _) => number("%M"),
            ('s', _) => number("%S"),
            ('S', 1..=3) if output => "%3f".to_string(),
            ('S', 4..=6) if output => "%6f".to_string(),
            ('S', _) if output => "%9f".to_string(),
            ('S', _) => "%.f".to_string(),
            ('a', _) => "%p".to_string(),
            ('E', 1..=3) => "%a".to_string(),
            ('E', _) => "%A".to_string(),
            ('D', _) => number("%j"),
            ('%', _) => "%%".repeat(run),
            _ => c.to_string().repeat(run),
        };
        out.push_str(&piece);
        i += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns_become_strftime() {
        assert_eq!(java_to_strftime("yyyy-MM-dd HH:mm:ss"), "%Y-%m-%d %H:%M:%S");
        assert_eq!(java_to_strftime("dd/MM/yy"), "%d/%m/%y");
        assert_eq!(java_to_strftime("yyyy-MM-dd'T'HH"), "%Y-%m-%dT%H");
        assert_eq!(java_to_strftime("M/d/yyyy"), "%m/%d/%Y");
    }

    #[test]
    fn one_letter_prints_a_number_unpadded() {
        assert_eq!(java_to_strftime_output("MMM d, yyyy"), "%b %-d, %Y");
        assert_eq!(java_to_strftime_output("M/d/yy h a"), "%-m/%-d/%y %-I %p");
        assert_eq!(java_to_strftime_output("HH:mm:ss.SSS"), "%H:%M:%S.%3f");
        assert_eq!(java_to_strftime_output("D '%' DDD"), "%-j %% %j");
    }

    #[test]
    fn aggregate_names() {
        assert!(is_aggregate("COUNT"));
        assert!(!is_aggregate("upper"));
        assert_eq!(display_name("mean"), "avg");
    }
}
