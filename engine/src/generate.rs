//! Generators: `explode`, `posexplode`, `inline` (each with an `_outer`
//! form) and `stack`, which turn one row into one row per element of an
//! array or map. What a call generates, the columns it adds and their names.

use crate::error::{EngineError, Result};
use crate::expr::{func, lit, Expr};
use crate::types::{DataType, StructField};
use crate::value::Value;

/// What a generator call makes of each row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generator {
    /// `posexplode`: each element's index comes first.
    pub position: bool,
    /// `_outer`: an empty or null collection still yields one row, of nulls.
    pub outer: bool,
    /// `inline` and `stack`: each element is a struct whose fields become
    /// the columns.
    pub inline: bool,
}

/// What a generator reads: a collection, or `stack`'s count and values
/// (which `stack_collection` makes into the structs `inline` reads).
#[derive(Debug, Clone, Copy)]
pub enum GeneratorInput<'a> {
    Collection(&'a Expr),
    Stack(&'a [Expr]),
}

/// The generator `expr` calls (aliases aside) and what it reads.
pub fn generator_call(expr: &Expr) -> Option<(Generator, GeneratorInput<'_>)> {
    let Expr::Function { name, args, .. } = without_alias(expr) else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    if name == "stack" {
        let generator = Generator {
            position: false,
            outer: false,
            inline: true,
        };
        return Some((generator, GeneratorInput::Stack(args)));
    }
    let (position, outer, inline) = match name.as_str() {
        "explode" => (false, false, false),
        "explode_outer" => (false, true, false),
        "posexplode" => (true, false, false),
        "posexplode_outer" => (true, true, false),
        "inline" => (false, false, true),
        "inline_outer" => (false, true, true),
        _ => return None,
    };
    let generator = Generator {
        position,
        outer,
        inline,
    };
    match args.as_slice() {
        [collection] => Some((generator, GeneratorInput::Collection(collection))),
        _ => None,
    }
}

/// `stack(n, v1, v2, ...)` as an array of `n` structs of `ceil(k / n)`
/// fields `col0`, `col1`, ... holding the `k` values row by row (nulls
/// after the last), given the arguments' types. As in Spark, `n` is an
/// integer literal and each column's values have one type (nulls aside).
pub fn stack_collection(call: &Expr, args: &[Expr], types: &[DataType]) -> Result<Expr> {
    let shown = without_alias(call).to_string();
    let mismatch = |detail: String| {
        EngineError::analysis(
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            format!("Cannot resolve \"{shown}\" due to data type mismatch: {detail}"),
        )
    };
    if args.len() < 2 {
        return Err(EngineError::analysis(
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
            format!("The `stack` requires > 1 parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix.", args.len()),
        ));
    }
    let rows = match (&args[0], &types[0]) {
        (Expr::Literal(Value::Integer(n)), _) if *n > 0 => *n as usize,
        (Expr::Literal(Value::Integer(n)), _) => {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                format!("Cannot resolve \"{shown}\" due to data type mismatch: The `n` must be between (0, 2147483647] (current value = {n})."),
            ))
        }
        (first, DataType::Integer) => {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                format!("Cannot resolve \"{shown}\" due to data type mismatch: the input `n` should be a foldable \"INT\" expression; however, got \"{first}\"."),
            ))
        }
        (first, other) => {
            return Err(mismatch(format!(
                "The first parameter requires the \"INT\" type, however \"{first}\" has the type \"{}\".",
                other.simple_string().to_uppercase()
            )))
        }
    };
    let values = &args[1..];
    let columns = values.len().div_ceil(rows);
    let mut column_types = Vec::with_capacity(columns);
    for column in 0..columns {
        let mut seen: Option<(usize, &DataType)> = None;
        for at in (column..values.len()).step_by(columns) {
            let data_type = &types[at + 1];
            if *data_type == DataType::Null {
                continue;
            }
            match seen {
                Some((first, expected)) if expected != data_type => {
                    return Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.STACK_COLUMN_DIFF_TYPES",
                        format!(
                            "Cannot resolve \"{shown}\" due to data type mismatch: The data type of the column ({column}) do not have the same type: \"{}\" ({first}) <> \"{}\" ({}).",
                            expected.simple_string().to_uppercase(),
                            data_type.simple_string().to_uppercase(),
                            at + 1
                        ),
                    ))
                }
                Some(_) => {}
                None => seen = Some((at + 1, data_type)),
            }
        }
        column_types.push(seen.map_or(DataType::Null, |(_, t)| t.clone()));
    }
    let structs = (0..rows)
        .map(|row| {
            let fields = column_types
                .iter()
                .enumerate()
                .flat_map(|(column, data_type)| {
                    let at = row * columns + column;
                    let value = match (values.get(at), types.get(at + 1)) {
                        (Some(value), Some(t)) if t != &DataType::Null => value.clone(),
                        _ => Expr::Cast(Box::new(lit(Value::Null)), data_type.clone()),
                    };
                    [lit(format!("col{column}").as_str()), value]
                })
                .collect();
            func("named_struct", fields)
        })
        .collect();
    Ok(func("array", structs))
}

/// The argument a one-argument generator call reads, as written.
fn generator_argument(call: &Expr) -> String {
    match without_alias(call) {
        Expr::Function { args, .. } => args.first().map(|a| a.to_string()).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn without_alias(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(inner, _) | Expr::MultiAlias(inner, _) => without_alias(inner),
        other => other,
    }
}

/// True when `expr` calls a generator anywhere.
pub fn contains_generator(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| found |= generator_call(e).is_some());
    found
}

/// Spark's error for a generator inside a larger expression.
pub fn nested_generator_error(expr: &Expr) -> EngineError {
    EngineError::analysis(
        "UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS",
        format!("The generator is not supported: nested in expressions \"{expr}\"."),
    )
}

/// The columns `call` adds over a collection of `collection_type`: the
/// position, then the element (or key and value, or an inlined struct's
/// fields), named `names` when the query gives names and as Spark names
/// them otherwise.
pub fn generated_fields(
    call: &Expr,
    generator: Generator,
    collection_type: &DataType,
    names: Option<&[String]>,
) -> Result<Vec<StructField>> {
    let outer = generator.outer;
    let mut fields = Vec::new();
    if generator.position {
        fields.push(StructField::new("pos", DataType::Integer, outer));
    }
    match collection_type {
        DataType::Array(element, contains_null) if generator.inline => match element.as_ref() {
            DataType::Struct(members) => fields.extend(members.iter().map(|m| {
                StructField::new(&m.name, m.data_type.clone(), m.nullable || *contains_null || outer)
            })),
            other => {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                    format!(
                        "Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the \"ARRAY<STRUCT>\" type, however \"{}\" has the type \"ARRAY<{}>\".",
                        without_alias(call),
                        generator_argument(call),
                        other.simple_string().to_uppercase()
                    ),
                ))
            }
        },
        DataType::Array(element, contains_null) => fields.push(StructField::new(
            "col",
            element.as_ref().clone(),
            *contains_null || outer,
        )),
        DataType::Map(key, value, contains_null) => {
            fields.push(StructField::new("key", key.as_ref().clone(), outer));
            fields.push(StructField::new(
                "value",
                value.as_ref().clone(),
                *contains_null || outer,
            ));
        }
        other => {
            return Err(crate::functions::collection_input_error(
                &without_alias(call).to_string(),
                other,
            ))
        }
    }
    if let Some(names) = names {
        if names.len() != fields.len() {
            return Err(EngineError::analysis(
                "UDTF_ALIAS_NUMBER_MISMATCH",
                format!("The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF. Expected {} aliases, but got {}.", fields.len(), names.len()),
            ));
        }
        for (field, name) in fields.iter_mut().zip(names) {
            field.name = name.clone();
        }
    }
    Ok(fields)
}
