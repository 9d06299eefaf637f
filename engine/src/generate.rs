//! Generators: `explode`, `explode_outer`, `posexplode` and
//! `posexplode_outer`, which turn one row into one row per element of an
//! array or map. What a call generates, the columns it adds and their names.

use crate::error::{EngineError, Result};
use crate::expr::Expr;
use crate::types::{DataType, StructField};

/// What a generator call makes of each row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generator {
    /// `posexplode`: each element's index comes first.
    pub position: bool,
    /// `_outer`: an empty or null collection still yields one row, of nulls.
    pub outer: bool,
}

/// The generator `expr` calls (aliases aside) and the collection it reads.
pub fn generator_call(expr: &Expr) -> Option<(Generator, &Expr)> {
    let Expr::Function { name, args, .. } = without_alias(expr) else {
        return None;
    };
    let generator = match name.to_ascii_lowercase().as_str() {
        "explode" => Generator {
            position: false,
            outer: false,
        },
        "explode_outer" => Generator {
            position: false,
            outer: true,
        },
        "posexplode" => Generator {
            position: true,
            outer: false,
        },
        "posexplode_outer" => Generator {
            position: true,
            outer: true,
        },
        _ => return None,
    };
    match args.as_slice() {
        [collection] => Some((generator, collection)),
        _ => None,
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
/// position, then the element (or key and value), named `names` when the
/// query gives names and as Spark names them otherwise.
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
