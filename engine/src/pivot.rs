//! Pivoting (`groupBy(...).pivot(column, values)` and SQL's `PIVOT`): each
//! aggregate computed once per pivot value, over that value's rows only.

use crate::expr::{lit, Expr, UnaryOp};
use crate::value::Value;

/// One pivot value and the label its columns are named by.
#[derive(Debug, Clone)]
pub struct PivotValue {
    pub value: Value,
    pub label: String,
}

impl PivotValue {
    /// A value labelled as Spark prints it (`null` for a null).
    pub fn new(value: Value, time_zone: &chrono_tz::Tz) -> PivotValue {
        let label = match &value {
            Value::Null => "null".to_string(),
            other => other.to_spark_string(time_zone),
        };
        PivotValue { value, label }
    }
}

/// The aggregate columns of a pivot over `column`: for each value, each
/// aggregate restricted to the rows where `column` is that value, named by
/// the value's label alone when there is one aggregate and
/// `label_aggregate` otherwise. A group without rows for a value gets null.
pub fn pivot_aggregates(column: &Expr, values: &[PivotValue], aggregates: &[Expr]) -> Vec<Expr> {
    let single = aggregates.len() == 1;
    let mut out = Vec::new();
    for PivotValue { value, label } in values {
        let matches = if value.is_null() {
            Expr::Unary(UnaryOp::IsNull, Box::new(column.clone()))
        } else {
            column.clone().eq(Expr::Literal(value.clone()))
        };
        let present = Expr::Function {
            name: "count".into(),
            args: vec![lit(1)],
            distinct: false,
            filter: Some(Box::new(matches.clone())),
        }
        .gt(lit(0));
        for aggregate in aggregates {
            let restricted = aggregate
                .clone()
                .unaliased()
                .transform_down(&mut |e| match e {
                    Expr::Function {
                        name,
                        args,
                        distinct,
                        filter,
                    } if crate::functions::is_aggregate(name) => Some(Expr::Function {
                        name: name.clone(),
                        args: args.clone(),
                        distinct: *distinct,
                        filter: Some(Box::new(match filter {
                            Some(own) => own.as_ref().clone().and(matches.clone()),
                            None => matches.clone(),
                        })),
                    }),
                    _ => None,
                });
            let column = Expr::Case {
                branches: vec![(present.clone(), restricted)],
                otherwise: None,
            };
            let name = if single {
                label.clone()
            } else {
                format!("{label}_{}", aggregate.output_name())
            };
            out.push(column.alias(&name));
        }
    }
    out
}
