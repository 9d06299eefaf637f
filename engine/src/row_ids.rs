//! `monotonically_increasing_id()` and `spark_partition_id()`: values that
//! depend on the partition a row is in and its place there. A projection
//! calling them reads two columns a `RowIds` node adds below it (Spark
//! counts the rows its projection sees, partition by partition).

use crate::expr::Expr;
use crate::plan::PlanSchema;
use crate::types::{DataType, StructField};

/// Spark's names for the two calls, which the added columns carry.
pub const ROW_ID: &str = "monotonically_increasing_id()";
pub const PARTITION_ID: &str = "SPARK_PARTITION_ID()";

/// Which added column a call reads, if it is one of the two.
fn added_column(expr: &Expr) -> Option<&'static str> {
    match expr {
        Expr::Function { name, args, .. } if args.is_empty() => {
            match name.to_ascii_lowercase().as_str() {
                "monotonically_increasing_id" => Some(ROW_ID),
                "spark_partition_id" => Some(PARTITION_ID),
                _ => None,
            }
        }
        _ => None,
    }
}

/// True when `expr` calls either function.
pub fn uses_row_ids(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| found |= added_column(e).is_some());
    found
}

/// `schema` with the two columns added after its own.
pub fn with_row_id_columns(schema: &PlanSchema) -> PlanSchema {
    let mut schema = schema.clone();
    schema.push(
        StructField::new(ROW_ID, DataType::Long, false),
        vec![],
        None,
    );
    schema.push(
        StructField::new(PARTITION_ID, DataType::Integer, false),
        vec![],
        None,
    );
    schema
}

/// `expr` reading the columns of `schema` (from `with_row_id_columns`)
/// instead of calling the functions, keeping the name Spark gives `expr`.
pub fn reading_row_ids(expr: Expr, schema: &PlanSchema) -> Expr {
    if !uses_row_ids(&expr) {
        return expr;
    }
    let name = expr.output_name();
    let aliased = matches!(expr, Expr::Alias(..));
    let rewritten = expr.transform_down(&mut |e| {
        let wanted = added_column(e)?;
        let attr = schema.attrs.iter().rev().find(|a| a.field.name == wanted)?;
        Some(Expr::Column {
            name: format!("`{}`", attr.physical.replace('`', "``")),
            plan_id: None,
        })
    });
    if aliased {
        rewritten
    } else {
        rewritten.alias(&name)
    }
}
