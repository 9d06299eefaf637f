//! Spark's everyday functions beyond the core registry (`functions.rs`):
//! trigonometry and other math on doubles, hashes and encodings, string
//! helpers (`left`, `split_part`, `substring_index`, ...), and epoch and
//! time-zone conversions. Each computes what Spark computes, null in, null
//! out, with Spark's column names (`display_name`).

use polars::prelude::{self as pl, AnyValue, DataType as PlType, IntoColumn};
use sha2::Digest;

use crate::error::{EngineError, Result};
use crate::lower::{LowerContext, Typed};
use crate::types::DataType;
use crate::value::MICROS_PER_SECOND;

/// Two strings and an integer: `split_part`, `substring_index`, `locate`.
const TEXT_TEXT_NUMBER: &[DataType] = &[DataType::String, DataType::String, DataType::Integer];

/// The functions Spark names in upper case (`SIN(1)`, `PI()`).
pub const UPPER_CASE_NAMES: &[&str] = &[
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "cot", "degrees",
    "radians", "pi", "e", "log1p", "expm1", "hypot", "signum",
];

/// Lowers `name(args)` when it is one of this module's functions; any
/// other name is Spark's `UNRESOLVED_ROUTINE`.
pub fn scalar(name: &str, args: Vec<Typed>, ctx: &LowerContext<'_>) -> Result<Typed> {
    let arity = |min: usize, max: usize| crate::functions::expect_args(name, &args, min, max);
    let double = |f: fn(f64) -> Option<f64>| -> Result<Typed> {
        arity(1, 1)?;
        doubles(&args, ctx, move |v| f(v[0]))
    };
    match name {
        "sin" => double(|x| Some(x.sin())),
        "cos" => double(|x| Some(x.cos())),
        "tan" => double(|x| Some(x.tan())),
        "asin" => double(|x| Some(x.asin())),
        "acos" => double(|x| Some(x.acos())),
        "atan" => double(|x| Some(x.atan())),
        "sinh" => double(|x| Some(x.sinh())),
        "cosh" => double(|x| Some(x.cosh())),
        "tanh" => double(|x| Some(x.tanh())),
        "cot" => double(|x| Some(1.0 / x.tan())),
        "degrees" => double(|x| Some(x.to_degrees())),
        "radians" => double(|x| Some(x.to_radians())),
        // Spark's logarithms are null at and below their asymptote.
        "log1p" => double(|x| (x > -1.0).then(|| x.ln_1p())),
        "expm1" => double(|x| Some(x.exp_m1())),
        "rint" => double(|x| Some(x.round_ties_even())),
        // Java's signum keeps a zero (and its sign) and NaN.
        "signum" => double(|x| {
            Some(if x == 0.0 || x.is_nan() {
                x
            } else {
                x.signum()
            })
        }),
        "atan2" | "hypot" => {
            arity(2, 2)?;
            let f: fn(f64, f64) -> f64 = if name == "atan2" {
                f64::atan2
            } else {
                f64::hypot
            };
            doubles(&args, ctx, move |v| Some(f(v[0], v[1])))
        }
        "pi" | "e" => {
            arity(0, 0)?;
            let value = if name == "pi" {
                std::f64::consts::PI
            } else {
                std::f64::consts::E
            };
            Ok(Typed::new(pl::lit(value), DataType::Double, false))
        }
        "factorial" => {
            arity(1, 1)?;
            let n = coerced(&args, ctx, &[DataType::Integer])?;
            Ok(row_wise(n, DataType::Long, |v| {
                let n = v[0].extract::<i64>()?;
                (0..=20)
                    .contains(&n)
                    .then(|| AnyValue::Int64((1..=n).product()))
            }))
        }
        "left" | "right" | "repeat" => {
            arity(2, 2)?;
            let inputs = coerced(&args, ctx, &[DataType::String, DataType::Integer])?;
            let which = name.to_string();
            Ok(row_wise(inputs, DataType::String, move |v| {
                let (text, n) = (v[0].get_str()?, v[1].extract::<i64>()?);
                let count = usize::try_from(n.max(0)).ok()?;
                let chars = text.chars().count();
                let out: String = match which.as_str() {
                    "left" => text.chars().take(count).collect(),
                    "right" => text.chars().skip(chars.saturating_sub(count)).collect(),
                    _ => text.repeat(count),
                };
                Some(AnyValue::StringOwned(out.into()))
            }))
        }
        "replace" => {
            arity(2, 3)?;
            let inputs = strings(&args, ctx)?;
            Ok(row_wise(inputs, DataType::String, |v| {
                let (text, search) = (v[0].get_str()?, v[1].get_str()?);
                let with = match v.get(2) {
                    Some(value) => value.get_str()?,
                    None => "",
                };
                let out = if search.is_empty() {
                    text.to_string()
                } else {
                    text.replace(search, with)
                };
                Some(AnyValue::StringOwned(out.into()))
            }))
        }
        "split_part" => {
            arity(3, 3)?;
            let inputs = coerced(&args, ctx, TEXT_TEXT_NUMBER)?;
            let zero = inputs[2].clone().eq(pl::lit(0));
            let parts = row_wise(inputs, DataType::String, |v| {
                let (text, delimiter, part) =
                    (v[0].get_str()?, v[1].get_str()?, v[2].extract::<i64>()?);
                let pieces: Vec<&str> = if delimiter.is_empty() {
                    vec![text]
                } else {
                    text.split(delimiter).collect()
                };
                let index = if part > 0 {
                    usize::try_from(part - 1).ok()
                } else {
                    pieces
                        .len()
                        .checked_sub(usize::try_from(part.unsigned_abs()).ok()?)
                };
                let piece = index.and_then(|i| pieces.get(i)).copied().unwrap_or("");
                Some(AnyValue::StringOwned(piece.into()))
            });
            Ok(Typed::new(
                crate::lower::raise_where(
                    zero,
                    "INVALID_INDEX_OF_ZERO",
                    "The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1).",
                    parts.expr,
                ),
                DataType::String,
                true,
            ))
        }
        "substring_index" => {
            arity(3, 3)?;
            let inputs = coerced(&args, ctx, TEXT_TEXT_NUMBER)?;
            Ok(row_wise(inputs, DataType::String, |v| {
                let (text, delimiter, count) =
                    (v[0].get_str()?, v[1].get_str()?, v[2].extract::<i64>()?);
                Some(AnyValue::StringOwned(
                    substring_index(text, delimiter, count).into(),
                ))
            }))
        }
        "locate" | "position" => {
            arity(2, 3)?;
            let inputs = coerced(&args, ctx, TEXT_TEXT_NUMBER)?;
            Ok(row_wise(inputs, DataType::Integer, |v| {
                let (needle, text) = (v[0].get_str()?, v[1].get_str()?);
                let start = match v.get(2) {
                    Some(value) => value.extract::<i64>()?,
                    None => 1,
                };
                Some(AnyValue::Int32(locate(needle, text, start)))
            }))
        }
        "ascii" => {
            arity(1, 1)?;
            let inputs = strings(&args, ctx)?;
            Ok(row_wise(inputs, DataType::Integer, |v| {
                let first = v[0].get_str()?.chars().next();
                Some(AnyValue::Int32(first.map_or(0, |c| c as i32)))
            }))
        }
        "chr" | "char" => {
            arity(1, 1)?;
            let inputs = coerced(&args, ctx, &[DataType::Long])?;
            Ok(row_wise(inputs, DataType::String, |v| {
                let code = v[0].extract::<i64>()?;
                let out = if code < 0 {
                    String::new()
                } else {
                    char::from((code & 0xFF) as u8).to_string()
                };
                Some(AnyValue::StringOwned(out.into()))
            }))
        }
        "bit_length" | "octet_length" => {
            arity(1, 1)?;
            let bits = name == "bit_length";
            let inputs = binaries(&args, ctx)?;
            Ok(row_wise(inputs, DataType::Integer, move |v| {
                let bytes = bytes_of(&v[0])?.len() as i32;
                Some(AnyValue::Int32(if bits { bytes * 8 } else { bytes }))
            }))
        }
        "levenshtein" => {
            arity(2, 2)?;
            let inputs = strings(&args, ctx)?;
            Ok(row_wise(inputs, DataType::Integer, |v| {
                Some(AnyValue::Int32(levenshtein(
                    v[0].get_str()?,
                    v[1].get_str()?,
                )))
            }))
        }
        "md5" | "sha1" | "sha" | "crc32" | "base64" => {
            arity(1, 1)?;
            let inputs = binaries(&args, ctx)?;
            let which = name.to_string();
            let output = if which == "crc32" {
                DataType::Long
            } else {
                DataType::String
            };
            Ok(row_wise(inputs, output, move |v| {
                let bytes = bytes_of(&v[0])?;
                Some(match which.as_str() {
                    "crc32" => AnyValue::Int64(i64::from(crc32fast::hash(bytes))),
                    "base64" => AnyValue::StringOwned(base64_encode(bytes).into()),
                    "md5" => AnyValue::StringOwned(hex_lower(&md5::Md5::digest(bytes)).into()),
                    _ => AnyValue::StringOwned(hex_lower(&sha1::Sha1::digest(bytes)).into()),
                })
            }))
        }
        "sha2" => {
            arity(2, 2)?;
            let mut inputs = binaries(&args[..1], ctx)?;
            inputs.extend(coerced(&args[1..], ctx, &[DataType::Integer])?);
            Ok(row_wise(inputs, DataType::String, |v| {
                use sha2::Digest;
                let bytes = bytes_of(&v[0])?;
                let digest = match v[1].extract::<i64>()? {
                    224 => sha2::Sha224::digest(bytes).to_vec(),
                    0 | 256 => sha2::Sha256::digest(bytes).to_vec(),
                    384 => sha2::Sha384::digest(bytes).to_vec(),
                    512 => sha2::Sha512::digest(bytes).to_vec(),
                    _ => return None,
                };
                Some(AnyValue::StringOwned(hex_lower(&digest).into()))
            }))
        }
        "unbase64" | "unhex" => {
            arity(1, 1)?;
            let inputs = strings(&args, ctx)?;
            let hex = name == "unhex";
            Ok(row_wise(inputs, DataType::Binary, move |v| {
                let text = v[0].get_str()?;
                let bytes = if hex {
                    unhex(text)?
                } else {
                    base64_decode(text)?
                };
                Some(AnyValue::BinaryOwned(bytes))
            }))
        }
        "hex" => {
            arity(1, 1)?;
            let input = &args[0];
            if input.data_type.is_integral() {
                let inputs = coerced(&args, ctx, &[DataType::Long])?;
                return Ok(row_wise(inputs, DataType::String, |v| {
                    Some(AnyValue::StringOwned(
                        format!("{:X}", v[0].extract::<i64>()?).into(),
                    ))
                }));
            }
            let inputs = binaries(&args, ctx)?;
            Ok(row_wise(inputs, DataType::String, |v| {
                Some(AnyValue::StringOwned(
                    hex_lower(bytes_of(&v[0])?).to_uppercase().into(),
                ))
            }))
        }
        "timestamp_seconds" | "timestamp_millis" | "timestamp_micros" => {
            arity(1, 1)?;
            let per = match name {
                "timestamp_seconds" => MICROS_PER_SECOND,
                "timestamp_millis" => 1_000,
                _ => 1,
            };
            let input = &args[0];
            let micros = if name == "timestamp_seconds" && !input.data_type.is_integral() {
                let seconds = ctx.coerce_to(input.clone(), &DataType::Double)?.expr;
                (seconds * pl::lit(MICROS_PER_SECOND as f64)).cast(PlType::Int64)
            } else {
                ctx.coerce_to(input.clone(), &DataType::Long)?.expr * pl::lit(per)
            };
            Ok(Typed::new(
                micros.cast(DataType::Timestamp.to_polars()),
                DataType::Timestamp,
                input.nullable,
            ))
        }
        "unix_seconds" | "unix_millis" | "unix_micros" => {
            arity(1, 1)?;
            let per = match name {
                "unix_seconds" => MICROS_PER_SECOND,
                "unix_millis" => 1_000,
                _ => 1,
            };
            one(&args, ctx, DataType::Timestamp, DataType::Long, |e| {
                e.cast(PlType::Int64).floor_div(pl::lit(per))
            })
        }
        "unix_date" => {
            arity(1, 1)?;
            one(&args, ctx, DataType::Date, DataType::Integer, |e| {
                e.cast(PlType::Int32)
            })
        }
        "date_from_unix_date" => {
            arity(1, 1)?;
            one(&args, ctx, DataType::Integer, DataType::Date, |e| {
                e.cast(PlType::Int32).cast(PlType::Date)
            })
        }
        "to_utc_timestamp" | "from_utc_timestamp" => {
            arity(2, 2)?;
            let zone_text = crate::functions::literal_string(&args[1], name, 2)?;
            let zone: chrono_tz::Tz = zone_text.parse().map_err(|_| {
                EngineError::spark(
                    "INVALID_TIMEZONE",
                    format!("The timezone: {zone_text} is invalid. The timezone must be either a region-based zone ID or a zone offset."),
                )
            })?;
            let instant = ctx.coerce_to(args[0].clone(), &DataType::Timestamp)?;
            // Spark's `convertTz`: the UTC wall clock read in `zone` (to UTC),
            // or the wall clock in `zone` read as UTC (from UTC).
            let utc = chrono_tz::UTC;
            let (from, to) = match name {
                "to_utc_timestamp" => (utc, zone),
                _ => (zone, utc),
            };
            let wall = crate::lower::utc_to_local(instant.expr, &from);
            Ok(Typed::new(
                crate::lower::local_to_utc(wall, &to),
                DataType::Timestamp,
                instant.nullable,
            ))
        }
        "dayname" | "monthname" => {
            arity(1, 1)?;
            let format = if name == "dayname" { "%a" } else { "%b" };
            one(&args, ctx, DataType::Date, DataType::String, |e| {
                e.dt().strftime(format)
            })
        }
        "weekday" => {
            arity(1, 1)?;
            one(&args, ctx, DataType::Date, DataType::Integer, |e| {
                (e.dt().weekday().cast(PlType::Int32) - pl::lit(1)).cast(PlType::Int32)
            })
        }
        "next_day" => {
            arity(2, 2)?;
            let date = ctx.coerce_to(args[0].clone(), &DataType::Date)?;
            let day = ctx.coerce_to(args[1].clone(), &DataType::String)?;
            let inputs = vec![date.expr.cast(PlType::Int32), day.expr];
            let moved = row_wise(inputs, DataType::Integer, |v| {
                let days = v[0].extract::<i32>()?;
                let target = day_of_week(v[1].get_str()?)?;
                // 1970-01-01 was a Thursday (3 counting from Monday as 0).
                let today = (days + 3).rem_euclid(7);
                let ahead = (target - today - 1).rem_euclid(7) + 1;
                Some(AnyValue::Int32(days + ahead))
            });
            Ok(Typed::new(
                moved.expr.cast(PlType::Date),
                DataType::Date,
                true,
            ))
        }
        "try_divide" => {
            arity(2, 2)?;
            let mut args = args;
            let divisor = args.pop().ok_or_else(|| unresolved(name))?;
            let dividend = args.pop().ok_or_else(|| unresolved(name))?;
            let zero = divisor.expr.clone().eq(pl::lit(0));
            let lenient = LowerContext {
                input: ctx.input,
                time_zone: ctx.time_zone,
                ansi: false,
            };
            let quotient = lenient.binary(crate::expr::BinaryOp::Divide, dividend, divisor)?;
            Ok(Typed::new(
                pl::when(zero)
                    .then(pl::lit(pl::Null {}).cast(quotient.data_type.to_polars()))
                    .otherwise(quotient.expr),
                quotient.data_type,
                true,
            ))
        }
        "get_json_object" => {
            arity(2, 2)?;
            let inputs = strings(&args, ctx)?;
            Ok(row_wise(inputs, DataType::String, |v| {
                crate::json_path::get_json_object(v[0].get_str()?, v[1].get_str()?)
                    .map(|found| AnyValue::StringOwned(found.into()))
            }))
        }
        "array_distinct" | "array_max" | "array_min" => {
            arity(1, 1)?;
            let array = &args[0];
            let element = element_type(name, array)?;
            let output = match name {
                "array_distinct" => array.data_type.clone(),
                _ => element.clone(),
            };
            let distinct_only = name == "array_distinct";
            let max = name == "array_max";
            let item_type = element.to_polars();
            Ok(row_wise(vec![array.expr.clone()], output, move |v| {
                let items = list_of(&v[0])?;
                if distinct_only {
                    return Some(list_value(distinct(&items), &item_type));
                }
                let known = items.drop_nulls();
                let extreme = if max {
                    known.max_reduce().ok()?
                } else {
                    known.min_reduce().ok()?
                };
                Some(extreme.value().clone().into_static())
            }))
        }
        "array_position" | "array_remove" => {
            arity(2, 2)?;
            let array = &args[0];
            let element = element_type(name, array)?;
            let value = ctx.coerce_to(args[1].clone(), &element)?;
            let remove = name == "array_remove";
            let output = if remove {
                array.data_type.clone()
            } else {
                DataType::Long
            };
            let item_type = element.to_polars();
            Ok(row_wise(
                vec![array.expr.clone(), value.expr],
                output,
                move |v| {
                    let items = series_values(&list_of(&v[0])?);
                    let target = v[1].clone().into_static();
                    if remove {
                        let kept = items.into_iter().filter(|x| *x != target).collect();
                        return Some(list_value(kept, &item_type));
                    }
                    let at = items.iter().position(|x| *x == target).map_or(0, |i| i + 1);
                    Some(AnyValue::Int64(at as i64))
                },
            ))
        }
        "array_union" | "array_intersect" | "array_except" | "arrays_overlap" => {
            arity(2, 2)?;
            let common = crate::lower::common_type(&args[0].data_type, &args[1].data_type)
                .filter(|t| matches!(t, DataType::Array(..)))
                .ok_or_else(|| {
                    EngineError::analysis(
                        "DATATYPE_MISMATCH.BINARY_ARRAY_DIFF_TYPES",
                        format!(
                            "Cannot resolve \"{name}\" due to data type mismatch: input to function `{name}` should have been two \"ARRAY\" with same element type, but it's [\"{}\", \"{}\"].",
                            args[0].data_type.simple_string().to_uppercase(),
                            args[1].data_type.simple_string().to_uppercase()
                        ),
                    )
                })?;
            let element = element_type(name, &Typed::new(pl::lit(0), common.clone(), true))?;
            let inputs = coerced(&args, ctx, &[common.clone(), common.clone()])?;
            let which = name.to_string();
            let output = if which == "arrays_overlap" {
                DataType::Boolean
            } else {
                common
            };
            let item_type = element.to_polars();
            Ok(row_wise(inputs, output, move |v| {
                let (a, b) = (
                    series_values(&list_of(&v[0])?),
                    series_values(&list_of(&v[1])?),
                );
                let kept: Vec<AnyValue<'static>> = match which.as_str() {
                    "array_union" => a.into_iter().chain(b).collect(),
                    "array_intersect" => a.into_iter().filter(|x| b.contains(x)).collect(),
                    "array_except" => a.into_iter().filter(|x| !b.contains(x)).collect(),
                    _ => {
                        // Spark's three-valued answer: unknown when only nulls could meet.
                        let common = a.iter().any(|x| !x.is_null() && b.contains(x));
                        let nulls = a.iter().chain(&b).any(|x| x.is_null());
                        return match (common, nulls && !a.is_empty() && !b.is_empty()) {
                            (true, _) => Some(AnyValue::Boolean(true)),
                            (false, true) => None,
                            (false, false) => Some(AnyValue::Boolean(false)),
                        };
                    }
                };
                let items =
                    pl::Series::from_any_values_and_dtype("".into(), &kept, &item_type, false)
                        .ok()?;
                Some(list_value(distinct(&items), &item_type))
            }))
        }
        "array_join" => {
            arity(2, 3)?;
            let array = &args[0];
            element_type(name, array)?;
            let strings_array = DataType::Array(Box::new(DataType::String), true);
            let mut inputs = vec![ctx.coerce_to(array.clone(), &strings_array)?.expr];
            inputs.extend(strings(&args[1..], ctx)?);
            Ok(row_wise(inputs, DataType::String, |v| {
                let delimiter = v[1].get_str()?;
                let replacement = v.get(2).and_then(|r| r.get_str());
                let items = series_values(&list_of(&v[0])?);
                let texts: Vec<&str> = items
                    .iter()
                    .filter_map(|x| x.get_str().or(replacement))
                    .collect();
                Some(AnyValue::StringOwned(texts.join(delimiter).into()))
            }))
        }
        "slice" => {
            arity(3, 3)?;
            let array = &args[0];
            element_type(name, array)?;
            let bounds = coerced(&args[1..], ctx, &[DataType::Integer, DataType::Integer])?;
            let (start, length) = (bounds[0].clone(), bounds[1].clone());
            let item_type = element_type(name, array)?.to_polars();
            let sliced = row_wise(
                vec![array.expr.clone(), start.clone(), length.clone()],
                array.data_type.clone(),
                move |v| {
                    let items = series_values(&list_of(&v[0])?);
                    let (start, length) = (v[1].extract::<i64>()?, v[2].extract::<i64>()?);
                    let n = items.len() as i64;
                    let from = if start > 0 { start - 1 } else { n + start };
                    let kept = if from < 0 || from >= n {
                        Vec::new()
                    } else {
                        let to = (from + length).min(n);
                        items[from as usize..to.max(from) as usize].to_vec()
                    };
                    Some(list_value(kept, &item_type))
                },
            );
            let checked = crate::lower::raise_where(
                start.eq(pl::lit(0)),
                "INVALID_PARAMETER_VALUE.START",
                "The value of parameter(s) `start` in `slice` is invalid: Expects a positive or a negative value for `start`, but got 0.",
                crate::lower::raise_where(
                    length.lt(pl::lit(0)),
                    "INVALID_PARAMETER_VALUE.LENGTH",
                    "The value of parameter(s) `length` in `slice` is invalid: Expects `length` greater than or equal to 0.",
                    sliced.expr,
                ),
            );
            Ok(Typed::new(checked, sliced.data_type, true))
        }
        _ => Err(unresolved(name)),
    }
}

/// The element type of an array argument, or Spark's type error. Arrays
/// of arrays, maps or structs are refused: their rows do not come back
/// whole from polars' values here.
fn element_type(name: &str, array: &Typed) -> Result<DataType> {
    match &array.data_type {
        DataType::Array(element, _)
            if matches!(
                **element,
                DataType::Array(..) | DataType::Map(..) | DataType::Struct(_)
            ) =>
        {
            Err(EngineError::spark(
                "UNSUPPORTED_FEATURE",
                format!("Kiln's {name} does not support arrays of arrays, maps or structs yet."),
            ))
        }
        DataType::Array(element, _) => Ok((**element).clone()),
        other => Err(crate::functions::collection_input_error(name, other)),
    }
}

/// An array value's elements.
fn list_of(value: &AnyValue<'_>) -> Option<pl::Series> {
    match value {
        AnyValue::List(items) => Some(items.clone()),
        _ => None,
    }
}

fn series_values(items: &pl::Series) -> Vec<AnyValue<'static>> {
    (0..items.len())
        .map(|i| items.get(i).map_or(AnyValue::Null, |v| v.into_static()))
        .collect()
}

/// The elements without repeats, first occurrences in order (one null kept).
fn distinct(items: &pl::Series) -> Vec<AnyValue<'static>> {
    let mut seen: Vec<AnyValue<'static>> = Vec::new();
    for item in series_values(items) {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn list_value(items: Vec<AnyValue<'static>>, item_type: &PlType) -> AnyValue<'static> {
    match pl::Series::from_any_values_and_dtype("".into(), &items, item_type, false) {
        Ok(series) => AnyValue::List(series),
        Err(_) => AnyValue::Null,
    }
}

fn unresolved(name: &str) -> EngineError {
    EngineError::analysis(
        "UNRESOLVED_ROUTINE",
        format!(
            "Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]."
        ),
    )
}

/// The one argument coerced to `input`, made an `output` value by `f`.
fn one(
    args: &[Typed],
    ctx: &LowerContext<'_>,
    input: DataType,
    output: DataType,
    f: impl FnOnce(pl::Expr) -> pl::Expr,
) -> Result<Typed> {
    let arg = ctx.coerce_to(args[0].clone(), &input)?;
    Ok(Typed::new(f(arg.expr), output, arg.nullable))
}

/// The arguments as doubles, `f` over each row's values (a null in, null out).
fn doubles(
    args: &[Typed],
    ctx: &LowerContext<'_>,
    f: impl Fn(&[f64]) -> Option<f64> + Send + Sync + 'static,
) -> Result<Typed> {
    let inputs = args
        .iter()
        .map(|a| Ok(ctx.coerce_to(a.clone(), &DataType::Double)?.expr))
        .collect::<Result<Vec<_>>>()?;
    Ok(row_wise(inputs, DataType::Double, move |v| {
        let values = v
            .iter()
            .map(|x| x.extract::<f64>())
            .collect::<Option<Vec<f64>>>()?;
        f(&values).map(AnyValue::Float64)
    }))
}

/// The arguments coerced to `types`, in order.
fn coerced(args: &[Typed], ctx: &LowerContext<'_>, types: &[DataType]) -> Result<Vec<pl::Expr>> {
    args.iter()
        .zip(types)
        .map(|(a, t)| Ok(ctx.coerce_to(a.clone(), t)?.expr))
        .collect()
}

fn strings(args: &[Typed], ctx: &LowerContext<'_>) -> Result<Vec<pl::Expr>> {
    coerced(args, ctx, &vec![DataType::String; args.len()])
}

/// The arguments as bytes: binaries as they are, anything else as its
/// string's UTF-8 bytes (Spark casts strings to binary for the hashes).
fn binaries(args: &[Typed], ctx: &LowerContext<'_>) -> Result<Vec<pl::Expr>> {
    args.iter()
        .map(|a| {
            Ok(match a.data_type {
                DataType::Binary => a.expr.clone(),
                _ => ctx
                    .coerce_to(a.clone(), &DataType::String)?
                    .expr
                    .cast(PlType::Binary),
            })
        })
        .collect()
}

/// `f` over each row of `inputs` (a single value, a literal, stands for
/// every row); a null input or a `None` answer gives null.
fn row_wise(
    inputs: Vec<pl::Expr>,
    output: DataType,
    f: impl Fn(&[AnyValue<'_>]) -> Option<AnyValue<'static>> + Send + Sync + 'static,
) -> Typed {
    let dtype = output.to_polars();
    let field_type = dtype.clone();
    let mut inputs = inputs.into_iter();
    let Some(first) = inputs.next() else {
        return Typed::new(pl::lit(pl::Null {}).cast(dtype), output, true);
    };
    let others: Vec<pl::Expr> = inputs.collect();
    let expr = first.map_many(
        move |columns: &mut [pl::Column]| {
            let height = columns.iter().map(|c| c.len()).max().unwrap_or(0);
            let name = columns[0].name().clone();
            let mut out = Vec::with_capacity(height);
            let mut row = Vec::with_capacity(columns.len());
            for i in 0..height {
                row.clear();
                for column in columns.iter() {
                    let at = if column.len() == 1 { 0 } else { i };
                    row.push(column.get(at)?);
                }
                let value = if row.iter().any(|v| v.is_null()) {
                    None
                } else {
                    f(&row)
                };
                out.push(value.unwrap_or(AnyValue::Null));
            }
            Ok(pl::Series::from_any_values_and_dtype(name, &out, &dtype, false)?.into_column())
        },
        &others,
        move |_, fields| Ok(pl::Field::new(fields[0].name().clone(), field_type.clone())),
    );
    Typed::new(expr, output, true)
}

/// Spark's `substring_index`: the text before the `count`-th delimiter,
/// or (negative) after the `count`-th from the end.
fn substring_index(text: &str, delimiter: &str, count: i64) -> String {
    if delimiter.is_empty() || count == 0 {
        return String::new();
    }
    let starts: Vec<usize> = text.match_indices(delimiter).map(|(i, _)| i).collect();
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if wanted > starts.len() {
        return text.to_string();
    }
    if count > 0 {
        text[..starts[wanted - 1]].to_string()
    } else {
        text[starts[starts.len() - wanted] + delimiter.len()..].to_string()
    }
}

/// Spark's `locate`: the 1-based character position of `needle` in `text`
/// at or after `start`; 0 when absent or when `start` is below 1.
fn locate(needle: &str, text: &str, start: i64) -> i32 {
    if start < 1 {
        return 0;
    }
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let Some((offset, _)) = text
        .char_indices()
        .nth(skip)
        .or_else(|| (skip == text.chars().count()).then_some((text.len(), ' ')))
    else {
        return 0;
    };
    match text[offset..].find(needle) {
        Some(found) => (text[..offset + found].chars().count() + 1) as i32,
        None => 0,
    }
}

/// Edit distance in characters.
fn levenshtein(a: &str, b: &str) -> i32 {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()] as i32
}

/// A day of the week (`Mon`, `monday`, `MO`) counted from Monday as 0.
fn day_of_week(text: &str) -> Option<i32> {
    let lower = text.trim().to_ascii_lowercase();
    let days = [
        ("mo", "mon", "monday"),
        ("tu", "tue", "tuesday"),
        ("we", "wed", "wednesday"),
        ("th", "thu", "thursday"),
        ("fr", "fri", "friday"),
        ("sa", "sat", "saturday"),
        ("su", "sun", "sunday"),
    ];
    days.iter()
        .position(|(a, b, c)| lower == *a || lower == *b || lower == *c)
        .map(|i| i as i32)
}

/// A binary value's bytes.
fn bytes_of<'v>(value: &'v AnyValue<'_>) -> Option<&'v [u8]> {
    match value {
        AnyValue::Binary(bytes) => Some(bytes),
        AnyValue::BinaryOwned(bytes) => Some(bytes),
        _ => None,
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Spark's `unhex`: pairs of hex digits (a leading odd one alone), null
/// for any other character.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut bytes = Vec::with_capacity(digits.len().div_ceil(2));
    let (head, rest) = digits.split_at(digits.len() % 2);
    bytes.extend(head.iter().copied());
    for pair in rest.chunks(2) {
        bytes.push(pair[0] * 16 + pair[1]);
    }
    Some(bytes)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional and whitespace ignored (as Java's
/// MIME decoder Spark uses reads it); null for other characters.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        if c == b'=' || c.is_ascii_whitespace() {
            continue;
        }
        let value = BASE64.iter().position(|b| *b == c)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_helpers_follow_spark() {
        assert_eq!(substring_index("a.b.c", ".", 2), "a.b");
        assert_eq!(substring_index("a.b.c", ".", -1), "c");
        assert_eq!(substring_index("a.b.c", ".", 5), "a.b.c");
        assert_eq!(substring_index("a.b.c", "", 1), "");
        assert_eq!(locate("b", "abcb", 1), 2);
        assert_eq!(locate("b", "abcb", 3), 4);
        assert_eq!(locate("b", "abcb", 0), 0);
        assert_eq!(locate("", "abc", 4), 4);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(day_of_week("MON"), Some(0));
        assert_eq!(unhex("616263"), Some(b"abc".to_vec()));
        assert_eq!(unhex("1"), Some(vec![1]));
        assert_eq!(unhex("zz"), None);
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YWI="), Some(b"ab".to_vec()));
    }
}
