//! Column expressions as the user writes them (DataFrame API or SQL), before
//! analysis: names are unresolved, types unknown. Each knows the column name
//! Spark would give it (`max(duration)`, `(a + b)`, `CAST(x AS BIGINT)`).

use std::fmt;

use crate::types::DataType;
use crate::udf::Udf;
use crate::value::Value;
use crate::window::WindowSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Plus,
    Minus,
    Multiply,
    Divide,
    /// Integer division (`div`).
    IntDivide,
    Modulo,
    Eq,
    /// `<=>`: equality where null equals null.
    EqNullSafe,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Plus => "+",
            BinaryOp::Minus => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::IntDivide => "div",
            BinaryOp::Modulo => "%",
            BinaryOp::Eq => "=",
            BinaryOp::EqNullSafe => "<=>",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::EqNullSafe
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Plus
                | BinaryOp::Minus
                | BinaryOp::Multiply
                | BinaryOp::Divide
                | BinaryOp::IntDivide
                | BinaryOp::Modulo
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Negate,
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column by name; `plan_id` ties `df.a` to the DataFrame it came from,
    /// so `df.a == other.a` resolves after a join.
    Column {
        name: String,
        plan_id: Option<u64>,
    },
    /// `*` or `t.*`.
    Star(Option<String>),
    Literal(Value),
    Alias(Box<Expr>, String),
    /// A generator named column by column (`posexplode(a).alias("p", "v")`).
    MultiAlias(Box<Expr>, Vec<String>),
    Cast(Box<Expr>, DataType),
    /// `try_cast`: null instead of an error.
    TryCast(Box<Expr>, DataType),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A function from the registry, by name (scalar or aggregate); an
    /// aggregate's `filter` (SQL's `FILTER (WHERE ...)`) limits the rows it sees.
    Function {
        name: String,
        args: Vec<Expr>,
        distinct: bool,
        filter: Option<Box<Expr>>,
    },
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    SortOrder {
        expr: Box<Expr>,
        ascending: bool,
        nulls_first: bool,
    },
    /// `function OVER (spec)`: a ranking, offset, value or aggregate
    /// function evaluated over a window of rows.
    Window {
        function: Box<Expr>,
        spec: Box<WindowSpec>,
    },
    /// A user-defined function (a Python UDF) over its arguments.
    Udf {
        function: Udf,
        args: Vec<Expr>,
    },
}

pub fn col(name: &str) -> Expr {
    Expr::Column {
        name: name.to_string(),
        plan_id: None,
    }
}

pub fn lit(value: impl Into<Value>) -> Expr {
    Expr::Literal(value.into())
}

/// The function computing its second argument, named by its first: a
/// subquery's answer, found by a join or in advance, keeps the name Spark
/// gives the subquery (`exists(LocationID)`).
pub const SHOWN_AS: &str = "__kiln_shown_as";

/// `value`, named `name` in column names and plans.
pub fn shown_as(value: Expr, name: String) -> Expr {
    func(SHOWN_AS, vec![lit(name), value])
}

pub fn func(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function {
        name: name.to_string(),
        args,
        distinct: false,
        filter: None,
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Integer(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Long(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl Expr {
    pub fn alias(self, name: &str) -> Expr {
        Expr::Alias(Box::new(self.unaliased()), name.to_string())
    }

    pub fn cast(self, to: DataType) -> Expr {
        Expr::Cast(Box::new(self), to)
    }

    pub fn binary(self, op: BinaryOp, other: Expr) -> Expr {
        Expr::Binary(op, Box::new(self), Box::new(other))
    }

    pub fn eq(self, other: Expr) -> Expr {
        self.binary(BinaryOp::Eq, other)
    }

    pub fn gt(self, other: Expr) -> Expr {
        self.binary(BinaryOp::Gt, other)
    }

    pub fn lt(self, other: Expr) -> Expr {
        self.binary(BinaryOp::Lt, other)
    }

    pub fn and(self, other: Expr) -> Expr {
        self.binary(BinaryOp::And, other)
    }

    pub fn asc(self) -> Expr {
        Expr::SortOrder {
            expr: Box::new(self),
            ascending: true,
            nulls_first: true,
        }
    }

    pub fn desc(self) -> Expr {
        Expr::SortOrder {
            expr: Box::new(self),
            ascending: false,
            nulls_first: false,
        }
    }

    /// The expression under any alias.
    pub fn unaliased(self) -> Expr {
        match self {
            Expr::Alias(inner, _) | Expr::MultiAlias(inner, _) => inner.unaliased(),
            other => other,
        }
    }

    /// The column name Spark gives this expression in a result.
    pub fn output_name(&self) -> String {
        match self {
            Expr::Alias(_, name) => name.clone(),
            Expr::Column { name, .. } => last_name_part(name).to_string(),
            // Spark names a cast of a bare column after the column.
            Expr::Cast(inner, _) | Expr::TryCast(inner, _)
                if matches!(**inner, Expr::Column { .. }) =>
            {
                inner.output_name()
            }
            Expr::SortOrder { expr, .. } => expr.output_name(),
            other => other.to_string(),
        }
    }

    /// True when the expression contains an aggregate function call; a
    /// window's own function does not count, aggregates in its arguments do.
    pub fn contains_aggregate(&self) -> bool {
        match self {
            Expr::Window { function, spec } => {
                function
                    .children()
                    .into_iter()
                    .any(Expr::contains_aggregate)
                    || spec.exprs().any(Expr::contains_aggregate)
            }
            Expr::Function { name, .. } if crate::functions::is_aggregate(name) => true,
            other => other.children().into_iter().any(Expr::contains_aggregate),
        }
    }

    /// True when the expression contains a window function.
    pub fn contains_window(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Window { .. }));
        found
    }

    /// Rewrites the tree top-down: where `replace` answers, its answer stands
    /// (and is not descended into); elsewhere the children are rewritten.
    pub fn transform_down(self, replace: &mut dyn FnMut(&Expr) -> Option<Expr>) -> Expr {
        if let Some(replaced) = replace(&self) {
            return replaced;
        }
        let mut child = |e: Box<Expr>| Box::new(e.transform_down(replace));
        match self {
            Expr::Alias(e, name) => Expr::Alias(child(e), name),
            Expr::MultiAlias(e, names) => Expr::MultiAlias(child(e), names),
            Expr::Cast(e, t) => Expr::Cast(child(e), t),
            Expr::TryCast(e, t) => Expr::TryCast(child(e), t),
            Expr::Unary(op, e) => Expr::Unary(op, child(e)),
            Expr::SortOrder {
                expr,
                ascending,
                nulls_first,
            } => Expr::SortOrder {
                expr: child(expr),
                ascending,
                nulls_first,
            },
            Expr::Binary(op, l, r) => {
                let l = child(l);
                Expr::Binary(op, l, child(r))
            }
            Expr::Function {
                name,
                args,
                distinct,
                filter,
            } => Expr::Function {
                name,
                args: args.into_iter().map(|a| *child(Box::new(a))).collect(),
                distinct,
                filter: filter.map(child),
            },
            Expr::Case {
                branches,
                otherwise,
            } => Expr::Case {
                branches: branches
                    .into_iter()
                    .map(|(c, v)| (*child(Box::new(c)), *child(Box::new(v))))
                    .collect(),
                otherwise: otherwise.map(&mut child),
            },
            Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: child(expr),
                list: list.into_iter().map(|a| *child(Box::new(a))).collect(),
                negated,
            },
            Expr::Window { function, spec } => Expr::Window {
                function: child(function),
                spec: Box::new(spec.map_exprs(&mut |e| *child(Box::new(e)))),
            },
            Expr::Udf { function, args } => Expr::Udf {
                function,
                args: args.into_iter().map(|a| *child(Box::new(a))).collect(),
            },
            leaf @ (Expr::Column { .. } | Expr::Star(_) | Expr::Literal(_)) => leaf,
        }
    }

    /// Equal as Spark's analyzer matches a select item to a grouping
    /// expression: aliases aside, column names compared case-insensitively.
    pub fn same_as(&self, other: &Expr) -> bool {
        fn normal(e: &Expr) -> Expr {
            e.clone().transform_down(&mut |node| match node {
                Expr::Alias(inner, _) => Some(normal(inner)),
                Expr::Column { name, plan_id } => Some(Expr::Column {
                    name: name.to_ascii_lowercase(),
                    plan_id: *plan_id,
                }),
                Expr::Function {
                    name,
                    args,
                    distinct,
                    filter,
                } => Some(Expr::Function {
                    name: name.to_ascii_lowercase(),
                    args: args.iter().map(normal).collect(),
                    distinct: *distinct,
                    filter: filter.as_deref().map(|f| Box::new(normal(f))),
                }),
                _ => None,
            })
        }
        normal(self) == normal(other)
    }

    /// Visits this expression and all sub-expressions.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        visit(self);
        for child in self.children() {
            child.walk(visit);
        }
    }

    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Alias(e, _)
            | Expr::MultiAlias(e, _)
            | Expr::Cast(e, _)
            | Expr::TryCast(e, _)
            | Expr::Unary(_, e)
            | Expr::SortOrder { expr: e, .. } => vec![e],
            Expr::Binary(_, l, r) => vec![l, r],
            Expr::Function { args, filter, .. } => args.iter().chain(filter.as_deref()).collect(),
            Expr::Udf { args, .. } => args.iter().collect(),
            Expr::Case {
                branches,
                otherwise,
            } => branches
                .iter()
                .flat_map(|(c, v)| [c, v])
                .chain(otherwise.as_deref())
                .collect(),
            Expr::InList { expr, list, .. } => std::iter::once(expr.as_ref()).chain(list).collect(),
            Expr::Window { function, spec } => std::iter::once(function.as_ref())
                .chain(spec.exprs())
                .collect(),
            Expr::Column { .. } | Expr::Star(_) | Expr::Literal(_) => vec![],
        }
    }
}

/// `t.a` names column `a`; back-quoted parts are kept whole.
fn last_name_part(name: &str) -> &str {
    if name.contains('`') {
        return name.trim_matches('`');
    }
    name.rsplit('.').next().unwrap_or(name)
}

/// Literals print as Spark's pretty SQL does in column names: strings bare,
/// null as `NULL`, decimals with their scale.
fn literal_name(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Long(v) => format!("{v}L").trim_end_matches('L').to_string(),
        Value::Timestamp(_) | Value::TimestampNtz(_) | Value::Date(_) => {
            let utc = chrono_tz::Tz::UTC;
            let text = value.to_spark_string(&utc);
            match value {
                Value::Date(_) => format!("DATE '{text}'"),
                Value::TimestampNtz(_) => format!("TIMESTAMP_NTZ '{text}'"),
                _ => format!("TIMESTAMP '{text}'"),
            }
        }
        other => other.to_spark_string(&chrono_tz::Tz::UTC),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column { name, .. } => write!(f, "{}", last_name_part(name)),
            Expr::Star(None) => write!(f, "*"),
            Expr::Star(Some(q)) => write!(f, "{q}.*"),
            Expr::Literal(v) => write!(f, "{}", literal_name(v)),
            Expr::Alias(e, name) => write!(f, "{e} AS {name}"),
            Expr::MultiAlias(e, names) => write!(f, "{e} AS ({})", names.join(", ")),
            Expr::Cast(e, t) => write!(f, "CAST({e} AS {})", t.simple_string().to_uppercase()),
            Expr::TryCast(e, t) => {
                write!(f, "TRY_CAST({e} AS {})", t.simple_string().to_uppercase())
            }
            Expr::Unary(UnaryOp::Not, e) => write!(f, "(NOT {e})"),
            Expr::Unary(UnaryOp::Negate, e) => write!(f, "(- {e})"),
            Expr::Unary(UnaryOp::IsNull, e) => write!(f, "({e} IS NULL)"),
            Expr::Unary(UnaryOp::IsNotNull, e) => write!(f, "({e} IS NOT NULL)"),
            Expr::Binary(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("extract") && args.len() == 2 =>
            {
                let field = match &args[0] {
                    Expr::Literal(Value::String(f)) => f.clone(),
                    other => other.to_string(),
                };
                write!(f, "extract({field} FROM {})", args[1])
            }
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("if") && args.len() == 3 =>
            {
                write!(f, "(IF({}, {}, {}))", args[0], args[1], args[2])
            }
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("positive") && args.len() == 1 =>
            {
                write!(f, "(+ {})", args[0])
            }
            Expr::Function { name, args, .. } if name == SHOWN_AS && args.len() == 2 => {
                match &args[0] {
                    Expr::Literal(Value::String(shown)) => write!(f, "{shown}"),
                    other => write!(f, "{other}"),
                }
            }
            Expr::Function { name, args, .. } if name == "get_item" && args.len() == 2 => {
                write!(f, "{}[{}]", args[0], args[1])
            }
            Expr::Function { name, args, .. } if name == "get_field" && args.len() == 2 => {
                let field = match &args[1] {
                    Expr::Literal(Value::String(f)) => f.clone(),
                    other => other.to_string(),
                };
                write!(f, "{}.{field}", args[0])
            }
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("like") && args.len() == 2 =>
            {
                write!(f, "{} LIKE {}", args[0], args[1])
            }
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("like") && args.len() == 3 =>
            {
                write!(f, "{} LIKE {} ESCAPE '{}'", args[0], args[1], args[2])
            }
            // Spark leaves the escape character out of this one's name.
            Expr::Function { name, args, .. }
                if name.eq_ignore_ascii_case("ilike") && args.len() == 3 =>
            {
                write!(f, "ilike({}, {})", args[0], args[1])
            }
            // Spark names these by their input alone.
            Expr::Function { name, args, .. } if like_many(name).is_some() && !args.is_empty() => {
                match like_many(name) {
                    Some((shown, true)) => write!(f, "{shown}(lower({}))", args[0]),
                    _ => write!(f, "{}({})", name.to_ascii_lowercase(), args[0]),
                }
            }
            Expr::Function {
                name,
                args,
                distinct,
                filter,
            } => {
                // Spark leaves the relative error out of this one's name,
                // and the ignore-nulls flag out of lag's and lead's.
                let shown = if name.eq_ignore_ascii_case("approx_count_distinct") {
                    &args[..args.len().min(1)]
                } else if name.eq_ignore_ascii_case("lag") || name.eq_ignore_ascii_case("lead") {
                    &args[..args.len().min(3)]
                } else {
                    &args[..]
                };
                match within_group_name(name, args) {
                    Some(call) => write!(f, "{call}")?,
                    None => {
                        let name = crate::functions::display_name(name);
                        let args = shown.iter().map(|a| a.to_string()).collect::<Vec<_>>();
                        let distinct = if *distinct { "DISTINCT " } else { "" };
                        write!(f, "{name}({distinct}{})", args.join(", "))?;
                    }
                }
                match filter {
                    Some(filter) => write!(f, " FILTER (WHERE {filter})"),
                    None => Ok(()),
                }
            }
            Expr::Case {
                branches,
                otherwise,
            } => {
                write!(f, "CASE")?;
                for (c, v) in branches {
                    write!(f, " WHEN {c} THEN {v}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " ELSE {o}")?;
                }
                write!(f, " END")
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let list = list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
                let not = if *negated { "NOT " } else { "" };
                write!(f, "({not}{expr} IN ({}))", list.join(", "))
            }
            Expr::SortOrder {
                expr,
                ascending,
                nulls_first,
            } => write!(
                f,
                "{expr} {} NULLS {}",
                if *ascending { "ASC" } else { "DESC" },
                if *nulls_first { "FIRST" } else { "LAST" }
            ),
            Expr::Window { function, spec } => write!(f, "{function} OVER ({spec})"),
            Expr::Udf { function, args } => {
                let args = args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
                write!(f, "{}({})", function.name(), args.join(", "))
            }
        }
    }
}

/// The name Spark gives an aggregate called with `WITHIN GROUP (ORDER BY
/// ...)`, from the arguments the SQL frontend joins the ordering to
/// (`percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`). Spark names a
/// deterministic `mode` by the opposite of its ordering.
fn within_group_name(name: &str, args: &[Expr]) -> Option<String> {
    let descending = |flag: &Expr| match flag {
        Expr::Literal(Value::Boolean(true)) => " DESC",
        _ => "",
    };
    match (name.to_ascii_lowercase().as_str(), args) {
        (name @ ("percentile_cont" | "percentile_disc"), [key, p, flag]) => Some(format!(
            "{name}({p}) WITHIN GROUP (ORDER BY {key}{})",
            descending(flag)
        )),
        ("mode", [key, Expr::Literal(Value::Boolean(true))]) => {
            Some(format!("mode() WITHIN GROUP (ORDER BY {key} DESC)"))
        }
        ("mode", [key, _]) => Some(format!("mode({key})")),
        ("mode", [key, _, _]) => Some(format!("mode() WITHIN GROUP (ORDER BY {key})")),
        (name @ ("listagg" | "string_agg"), [value, delimiter, ordering]) => Some(format!(
            "{name}({value}, {delimiter}) WITHIN GROUP (ORDER BY {ordering})"
        )),
        _ => None,
    }
}

/// `likeany`, `notlikeall` and the like: the name Spark shows and whether
/// it matches case-insensitively (`ILIKE ANY` shows as `likeany(lower(s))`).
pub(crate) fn like_many(name: &str) -> Option<(&'static str, bool)> {
    Some(match name.to_ascii_lowercase().as_str() {
        "likeany" => ("likeany", false),
        "likeall" => ("likeall", false),
        "notlikeany" => ("notlikeany", false),
        "notlikeall" => ("notlikeall", false),
        "ilikeany" => ("likeany", true),
        "ilikeall" => ("likeall", true),
        "notilikeany" => ("notlikeany", true),
        "notilikeall" => ("notlikeall", true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_names_follow_spark() {
        assert_eq!(
            func("max", vec![col("duration")]).output_name(),
            "max(duration)"
        );
        assert_eq!(func("count", vec![lit(1)]).output_name(), "count(1)");
        assert_eq!(
            func("to_date", vec![col("pickup_datetime")]).output_name(),
            "to_date(pickup_datetime)"
        );
        assert_eq!(
            col("a").binary(BinaryOp::Plus, col("b")).output_name(),
            "(a + b)"
        );
        assert_eq!(col("x").cast(DataType::Long).output_name(), "x");
        assert_eq!(
            col("a")
                .binary(BinaryOp::Plus, col("b"))
                .cast(DataType::Long)
                .output_name(),
            "CAST((a + b) AS BIGINT)"
        );
        assert_eq!(lit("green").output_name(), "green");
        assert_eq!(
            func("date_trunc", vec![lit("month"), col("ts")]).output_name(),
            "date_trunc(month, ts)"
        );
        assert_eq!(col("t.zone").output_name(), "zone");
        assert_eq!(col("a").gt(lit(1)).alias("big").output_name(), "big");
    }
}
