//! Values that depend on the partition a row is in and its place there:
//! `monotonically_increasing_id()`, `spark_partition_id()`, and `rand` /
//! `randn`, whose generator Spark seeds per partition and draws from row by
//! row. An operator using them reads columns a `RowIds` node adds below it,
//! as Spark evaluates them in the operator, counting the rows it sees
//! partition by partition.

use std::hash::{BuildHasher, Hasher};

use crate::error::{EngineError, Result};
use crate::expr::Expr;
use crate::plan::PlanSchema;
use crate::types::{DataType, StructField};
use crate::value::Value;

/// Spark's names for the two id calls, which their columns carry.
pub const ROW_ID: &str = "monotonically_increasing_id()";
pub const PARTITION_ID: &str = "SPARK_PARTITION_ID()";

/// One value a `RowIds` node adds as a column.
#[derive(Debug, Clone, PartialEq)]
pub enum RowValue {
    RowId,
    PartitionId,
    /// `rand(seed)`: uniform in [0, 1).
    Uniform(i64),
    /// `randn(seed)`: standard normal.
    Gaussian(i64),
}

impl RowValue {
    /// The added column's name.
    pub fn column_name(&self) -> String {
        match self {
            RowValue::RowId => ROW_ID.into(),
            RowValue::PartitionId => PARTITION_ID.into(),
            RowValue::Uniform(seed) => format!("rand({seed})"),
            RowValue::Gaussian(seed) => format!("randn({seed})"),
        }
    }

    fn field(&self) -> StructField {
        let data_type = match self {
            RowValue::RowId => DataType::Long,
            RowValue::PartitionId => DataType::Integer,
            RowValue::Uniform(_) | RowValue::Gaussian(_) => DataType::Double,
        };
        StructField::new(self.column_name(), data_type, false)
    }
}

pub fn is_random(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "rand" | "random" | "randn"
    )
}

/// The value a call computes, if it is one of these functions with a
/// usable seed (an unseeded `rand()` has been given one by `seeded`).
fn row_value(expr: &Expr) -> Option<RowValue> {
    let Expr::Function { name, args, .. } = expr else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    match (name.as_str(), args.as_slice()) {
        ("monotonically_increasing_id", []) => Some(RowValue::RowId),
        ("spark_partition_id", []) => Some(RowValue::PartitionId),
        ("rand" | "random" | "randn", [Expr::Literal(seed)]) => {
            let seed = match seed {
                Value::Null => 0,
                Value::Integer(v) => i64::from(*v),
                Value::Long(v) => *v,
                _ => return None,
            };
            Some(if name == "randn" {
                RowValue::Gaussian(seed)
            } else {
                RowValue::Uniform(seed)
            })
        }
        _ => None,
    }
}

/// True when `expr` calls any of these functions.
pub fn uses_row_values(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| {
        found |= row_value(e).is_some()
            || matches!(e, Expr::Function { name, args, .. } if args.is_empty() && is_random(name))
    });
    found
}

/// A seed as Spark draws one for a call written without it.
fn random_seed() -> i64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish() as i64
}

/// `expr` with every unseeded `rand()` / `randn()` given a seed of its own,
/// drawn once so the plan returns the same values each time it runs.
pub fn seeded(expr: Expr) -> Expr {
    expr.transform_down(&mut |e| match e {
        Expr::Function { name, args, .. } if args.is_empty() && is_random(name) => {
            let mut call = e.clone();
            if let Expr::Function { args, .. } = &mut call {
                args.push(Expr::Literal(Value::Long(random_seed())));
            }
            Some(call)
        }
        _ => None,
    })
}

/// The values `exprs` compute, each once, in order of appearance.
pub fn row_values(exprs: &[Expr]) -> Vec<RowValue> {
    let mut values = Vec::new();
    for expr in exprs {
        expr.walk(&mut |e| {
            if let Some(value) = row_value(e) {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
        });
    }
    values
}

/// `schema` with a column per value added after its own.
pub fn with_row_value_columns(schema: &PlanSchema, values: &[RowValue]) -> PlanSchema {
    let mut schema = schema.clone();
    for value in values {
        schema.push(value.field(), vec![], None);
    }
    schema
}

/// `expr` reading the columns of `schema` (from `with_row_value_columns`)
/// instead of calling the functions.
pub fn reading_row_values(expr: Expr, schema: &PlanSchema) -> Expr {
    expr.transform_down(&mut |e| {
        let wanted = row_value(e)?.column_name();
        let attr = schema.attrs.iter().rev().find(|a| a.field.name == wanted)?;
        Some(Expr::Column {
            name: format!("`{}`", attr.physical.replace('`', "``")),
            plan_id: None,
        })
    })
}

/// Spark's analysis errors for a `rand` / `randn` call whose seed is not a
/// constant integer; `display` is the call as Spark prints it.
pub fn check_seed(name: &str, args: &[Expr], display: &str) -> Result<()> {
    let Some(seed) = args.first() else {
        return Ok(());
    };
    if args.len() > 1 {
        return Err(EngineError::analysis(
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
            format!(
                "The `{}` requires [0, 1] parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix.",
                name.to_ascii_lowercase(),
                args.len()
            ),
        ));
    }
    match seed {
        Expr::Literal(Value::Null | Value::Integer(_) | Value::Long(_)) => Ok(()),
        Expr::Literal(value) => Err(EngineError::analysis(
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            format!(
                "Cannot resolve \"{display}\" due to data type mismatch: The first parameter requires the (\"INT\" or \"BIGINT\") type, however \"{seed}\" has the type \"{}\".",
                value.data_type().simple_string().to_uppercase()
            ),
        )),
        _ => Err(EngineError::analysis(
            "SEED_EXPRESSION_IS_UNFOLDABLE",
            format!("The seed expression \"{seed}\" of the expression \"{display}\" must be foldable."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Function {
            name: name.into(),
            args,
            distinct: false,
            filter: None,
        }
    }

    #[test]
    fn seeded_calls_share_a_column_and_unseeded_ones_get_their_own_seed() {
        let exprs = vec![
            call("rand", vec![Expr::Literal(Value::Integer(42))]),
            call("random", vec![Expr::Literal(Value::Long(42))]),
            call("randn", vec![Expr::Literal(Value::Null)]),
            seeded(call("rand", vec![])),
            seeded(call("rand", vec![])),
        ];
        let values = row_values(&exprs);
        assert_eq!(values[..2], [RowValue::Uniform(42), RowValue::Gaussian(0)]);
        assert_eq!(values.len(), 4, "{values:?}");
        assert_eq!(values[0].column_name(), "rand(42)");
    }
}
