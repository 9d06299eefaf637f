//! A Column's text as PySpark 4 prints it in `repr(column)` and in error
//! messages: Spark's column-node form, where operators are written as
//! calls (`+(id, 1)`, `!(=(a, 1))`) and string literals are quoted.

use kiln_engine::expr::{BinaryOp, Expr, UnaryOp};
use kiln_engine::value::Value;
use kiln_engine::window::WindowSpec;

/// `Column<'...'>`'s inside.
pub fn node_string(expr: &Expr) -> String {
    match expr {
        Expr::Column { name, .. } => name.replace('`', ""),
        Expr::Star(None) => "*".into(),
        Expr::Star(Some(q)) => format!("{q}.*"),
        Expr::Literal(value) => literal(value),
        Expr::Alias(inner, name) => format!("{} AS {name}", node_string(inner)),
        Expr::MultiAlias(inner, names) => {
            format!("{} AS ({})", node_string(inner), names.join(", "))
        }
        Expr::Cast(inner, t) | Expr::TryCast(inner, t) => format!(
            "CAST({} AS {})",
            node_string(inner),
            t.simple_string().to_uppercase()
        ),
        Expr::Unary(op, inner) => {
            let name = match op {
                UnaryOp::Not => "!",
                UnaryOp::Negate => "negative",
                UnaryOp::IsNull => "isNull",
                UnaryOp::IsNotNull => "isNotNull",
            };
            call(name, [inner.as_ref()])
        }
        Expr::Binary(op, l, r) => {
            let name = match op {
                BinaryOp::And => "and",
                BinaryOp::Or => "or",
                BinaryOp::Eq => "=",
                BinaryOp::NotEq => "!=",
                other => other.symbol(),
            };
            call(name, [l.as_ref(), r.as_ref()])
        }
        Expr::Function { name, args, .. } => match (name.as_str(), args.as_slice()) {
            ("get_item", [array, index]) => {
                format!("{}[{}]", node_string(array), node_string(index))
            }
            ("get_field", [value, field]) => {
                format!("{}[{}]", node_string(value), node_string(field))
            }
            _ => call(name, args),
        },
        Expr::Udf { function, args } => call(function.name(), args),
        Expr::Case {
            branches,
            otherwise,
        } => {
            let mut text = String::from("CASE");
            for (condition, value) in branches {
                text += &format!(
                    " WHEN {} THEN {}",
                    node_string(condition),
                    node_string(value)
                );
            }
            if let Some(otherwise) = otherwise {
                text += &format!(" ELSE {}", node_string(otherwise));
            }
            text + " END"
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let inner = call("in", std::iter::once(expr.as_ref()).chain(list));
            if *negated {
                format!("!({inner})")
            } else {
                inner
            }
        }
        Expr::SortOrder {
            expr,
            ascending,
            nulls_first,
        } => format!(
            "{} {} NULLS {}",
            node_string(expr),
            if *ascending { "ASC" } else { "DESC" },
            if *nulls_first { "FIRST" } else { "LAST" }
        ),
        Expr::Window { function, spec } => {
            format!("{} OVER ({})", node_string(function), window(spec))
        }
    }
}

fn call<'a>(name: &str, args: impl IntoIterator<Item = &'a Expr>) -> String {
    let args: Vec<String> = args.into_iter().map(node_string).collect();
    format!("{name}({})", args.join(", "))
}

fn window(spec: &WindowSpec) -> String {
    let mut parts = Vec::new();
    if !spec.partition_by.is_empty() {
        let keys: Vec<String> = spec.partition_by.iter().map(node_string).collect();
        parts.push(format!("PARTITION BY {}", keys.join(", ")));
    }
    if !spec.order_by.is_empty() {
        let keys: Vec<String> = spec
            .order_by
            .iter()
            .map(|e| match e {
                Expr::SortOrder { .. } => node_string(e),
                plain => format!("{} ASC NULLS FIRST", node_string(plain)),
            })
            .collect();
        parts.push(format!("ORDER BY {}", keys.join(", ")));
    }
    parts.join(" ")
}

fn literal(value: &Value) -> String {
    let utc = chrono_tz::Tz::UTC;
    match value {
        Value::Null => "NULL".into(),
        Value::String(s) => format!("'{s}'"),
        Value::Long(v) => format!("{v}L"),
        Value::Date(_) => format!("DATE '{}'", value.to_spark_string(&utc)),
        Value::Timestamp(_) => format!("TIMESTAMP '{}'", value.to_spark_string(&utc)),
        Value::Array(items) => call(
            "array",
            &items.iter().cloned().map(Expr::Literal).collect::<Vec<_>>(),
        ),
        other => other.to_spark_string(&utc),
    }
}
