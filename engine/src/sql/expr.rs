//! SQL expressions (`sqlparser`'s AST) → engine `Expr`, the same expressions
//! the DataFrame API builds, so both get one function registry, one set of
//! coercions and the same generated column names.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use sqlparser::ast::{
    self, BinaryOperator, CastKind, DateTimeField, DuplicateTreatment, FunctionArg,
    FunctionArgExpr, FunctionArguments, UnaryOperator,
};

use super::dialect::TYPED_NUMBER;
use super::parser::object_name;
use crate::error::{EngineError, Result};
use crate::expr::{col, func, lit, shown_as, BinaryOp, Expr, UnaryOp};
use crate::session::Session;
use crate::types::DataType;
use crate::udf::Udf;
use crate::value::Value;
use crate::window::{FrameBound, FrameKind, WindowFrame, WindowSpec};

/// Values for `:name` and `?` parameters (`spark.sql(query, args=...)`).
#[derive(Debug, Clone, Default)]
pub enum SqlArgs {
    #[default]
    None,
    Named(Vec<(String, Value)>),
    Positional(Vec<Value>),
}

/// Lowers expressions for one statement; `tz` reads `TIMESTAMP '...'` literals.
pub struct ExprLowering<'a> {
    pub args: &'a SqlArgs,
    pub tz: chrono_tz::Tz,
    pub next_positional: std::cell::Cell<usize>,
    /// The `WINDOW name AS (...)` definitions of the SELECT being lowered.
    pub named_windows: std::cell::RefCell<Vec<ast::NamedWindowDefinition>>,
    /// Scalar subqueries met since the query lowering last took them; each
    /// stands in the expression as a column named `scalar_subquery(i)`.
    pub scalar_subqueries: std::cell::RefCell<Vec<ast::Query>>,
    /// `IN (subquery)` and `EXISTS` met where no join can stand for them (under
    /// `OR`, in a SELECT list); each stands as a column `set_subquery(i)`.
    pub set_subqueries: std::cell::RefCell<Vec<SetSubquery>>,
    /// The session's registered functions, which SQL calls by name.
    pub udfs: std::collections::BTreeMap<String, Udf>,
}

const SCALAR_SUBQUERY: &str = "__scalar_subquery_";
const SET_SUBQUERY: &str = "__set_subquery_";

/// A subquery tested as a set inside an expression.
#[derive(Debug, Clone)]
pub enum SetSubquery {
    /// `x IN (subquery)`: the expression holds `x IN (set_subquery(i))`;
    /// for a tuple `(a, b) IN (subquery)`, x is `named_struct` of its items.
    Values { query: ast::Query, tuple: bool },
    /// `EXISTS (subquery)`: the expression holds the column `set_subquery(i)`.
    Exists(ast::Query),
}

/// The placeholder column of the i-th set subquery of an expression.
pub fn set_subquery(i: usize) -> String {
    format!("{SET_SUBQUERY}{i}")
}

/// The placeholder column of the i-th scalar subquery of an expression.
pub fn scalar_subquery(i: usize) -> String {
    format!("{SCALAR_SUBQUERY}{i}")
}

/// True for a scalar subquery's placeholder column.
pub fn is_scalar_subquery(name: &str) -> bool {
    name.starts_with(SCALAR_SUBQUERY)
}

impl<'a> ExprLowering<'a> {
    pub fn new(args: &'a SqlArgs, session: &Session) -> Self {
        ExprLowering {
            args,
            tz: session.config().time_zone(),
            udfs: session.udfs(),
            next_positional: std::cell::Cell::new(0),
            named_windows: Default::default(),
            scalar_subqueries: Default::default(),
            set_subqueries: Default::default(),
        }
    }

    /// Lowers an expression and takes the scalar subqueries it holds, whose
    /// placeholders (`scalar_subquery(i)`) stand in it.
    pub fn lower_with_subqueries(&self, expr: &ast::Expr) -> (Result<Expr>, Vec<ast::Query>) {
        let (lowered, scalars, sets) = self.lower_with_set_subqueries(expr);
        let lowered = match sets.is_empty() {
            true => lowered,
            false => Err(unsupported(
                "IN and EXISTS subqueries here (only in WHERE, SELECT and HAVING)",
            )),
        };
        (lowered, scalars)
    }

    /// `lower_with_subqueries`, also taking the set subqueries, whose
    /// placeholders (`set_subquery(i)`) stand in the expression.
    pub fn lower_with_set_subqueries(
        &self,
        expr: &ast::Expr,
    ) -> (Result<Expr>, Vec<ast::Query>, Vec<SetSubquery>) {
        self.set_subqueries.take();
        let lowered = self.lower(expr);
        (
            lowered,
            self.scalar_subqueries.take(),
            self.set_subqueries.take(),
        )
    }

    pub fn lower(&self, expr: &ast::Expr) -> Result<Expr> {
        Ok(match expr {
            ast::Expr::Identifier(ident) => col(&quote_part(&ident.value)),
            ast::Expr::CompoundIdentifier(parts) => col(&parts
                .iter()
                .map(|p| quote_part(&p.value))
                .collect::<Vec<_>>()
                .join(".")),
            ast::Expr::Value(value) => value_expr(self.value(&value.value)?),
            ast::Expr::TypedString(typed) => lit(self.typed_literal(typed)?),
            ast::Expr::Interval(interval) => lit(super::interval::interval_literal(interval)?),
            ast::Expr::Nested(inner) => self.lower(inner)?,
            ast::Expr::CompoundFieldAccess { root, access_chain } => {
                let mut value = self.lower(root)?;
                for access in access_chain {
                    value = match access {
                        // `a[0]` (from 0, as Spark's brackets), `m['key']`, `m[k]`.
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            func("get_item", vec![value, self.lower(index)?])
                        }
                        ast::AccessExpr::Dot(ast::Expr::Identifier(field)) => {
                            func("get_field", vec![value, lit(field.value.as_str())])
                        }
                        other => return Err(unsupported(&format!("the access `{other}`"))),
                    };
                }
                value
            }
            ast::Expr::BinaryOp { left, op, right } => self.binary(left, op, right)?,
            ast::Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not | UnaryOperator::BangNot => {
                    Expr::Unary(UnaryOp::Not, Box::new(self.lower(expr)?))
                }
                UnaryOperator::Plus => func("positive", vec![self.lower(expr)?]),
                UnaryOperator::Minus => match self.lower(expr)? {
                    Expr::Literal(value) if is_number(expr) => lit(negate(value)?),
                    other => Expr::Unary(UnaryOp::Negate, Box::new(other)),
                },
                other => return Err(unsupported(&format!("the operator {other}"))),
            },
            ast::Expr::IsNull(e) => Expr::Unary(UnaryOp::IsNull, Box::new(self.lower(e)?)),
            ast::Expr::IsNotNull(e) => Expr::Unary(UnaryOp::IsNotNull, Box::new(self.lower(e)?)),
            ast::Expr::IsTrue(e) => self.lower(e)?.binary(BinaryOp::EqNullSafe, lit(true)),
            ast::Expr::IsFalse(e) => self.lower(e)?.binary(BinaryOp::EqNullSafe, lit(false)),
            ast::Expr::IsNotTrue(e) => not(self.lower(e)?.binary(BinaryOp::EqNullSafe, lit(true))),
            ast::Expr::IsNotFalse(e) => {
                not(self.lower(e)?.binary(BinaryOp::EqNullSafe, lit(false)))
            }
            ast::Expr::IsDistinctFrom(a, b) => {
                not(self.lower(a)?.binary(BinaryOp::EqNullSafe, self.lower(b)?))
            }
            ast::Expr::IsNotDistinctFrom(a, b) => {
                self.lower(a)?.binary(BinaryOp::EqNullSafe, self.lower(b)?)
            }
            ast::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => negated_if(
                *negated,
                func(
                    "between",
                    vec![self.lower(expr)?, self.lower(low)?, self.lower(high)?],
                ),
            ),
            ast::Expr::InList {
                expr,
                list,
                negated,
            } if matches!(**expr, ast::Expr::Tuple(_)) => {
                self.tuple_in_list(expr, list, *negated)?
            }
            ast::Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: Box::new(self.lower(expr)?),
                list: list.iter().map(|e| self.lower(e)).collect::<Result<_>>()?,
                negated: *negated,
            },
            ast::Expr::Like {
                negated,
                expr,
                pattern,
                escape_char,
                any,
            } => self.like("like", *negated, expr, pattern, escape_char.as_ref(), *any)?,
            ast::Expr::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                any,
            } => self.like("ilike", *negated, expr, pattern, escape_char.as_ref(), *any)?,
            ast::Expr::RLike {
                negated,
                expr,
                pattern,
                ..
            } => negated_if(
                *negated,
                func("rlike", vec![self.lower(expr)?, self.lower(pattern)?]),
            ),
            ast::Expr::Cast {
                kind,
                expr,
                data_type,
                ..
            } => {
                let to = data_type_of(data_type)?;
                let inner = self.lower(expr)?;
                match kind {
                    CastKind::TryCast | CastKind::SafeCast => Expr::TryCast(Box::new(inner), to),
                    _ => Expr::Cast(Box::new(inner), to),
                }
            }
            ast::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let operand = operand.as_ref().map(|o| self.lower(o)).transpose()?;
                let mut branches = Vec::new();
                for when in conditions {
                    let condition = self.lower(&when.condition)?;
                    let condition = match &operand {
                        Some(o) => o.clone().eq(condition),
                        None => condition,
                    };
                    branches.push((condition, self.lower(&when.result)?));
                }
                Expr::Case {
                    branches,
                    otherwise: else_result
                        .as_ref()
                        .map(|e| self.lower(e).map(Box::new))
                        .transpose()?,
                }
            }
            ast::Expr::Extract { field, expr, .. } => {
                func("extract", vec![lit(field_name(field)), self.lower(expr)?])
            }
            ast::Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.lower(expr)?];
                args.push(match substring_from {
                    Some(from) => self.lower(from)?,
                    None => lit(1),
                });
                if let Some(length) = substring_for {
                    args.push(self.lower(length)?);
                }
                func("substring", args)
            }
            ast::Expr::Trim {
                expr,
                trim_where,
                trim_what,
                ..
            } => {
                if trim_what.is_some() {
                    return Err(unsupported("TRIM with characters to remove"));
                }
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "trim",
                };
                func(name, vec![self.lower(expr)?])
            }
            ast::Expr::Struct { values, fields } if fields.is_empty() => func(
                "struct",
                values
                    .iter()
                    .map(|value| match value {
                        ast::Expr::Named { expr, name } => {
                            Ok(Expr::Alias(Box::new(self.lower(expr)?), name.value.clone()))
                        }
                        other => self.lower(other),
                    })
                    .collect::<Result<_>>()?,
            ),
            ast::Expr::Ceil { expr, .. } => func("ceil", vec![self.lower(expr)?]),
            ast::Expr::Floor { expr, .. } => func("floor", vec![self.lower(expr)?]),
            ast::Expr::Function(function) => self.function(function)?,
            ast::Expr::Wildcard(_) => Expr::Star(None),
            ast::Expr::QualifiedWildcard(name, _) => Expr::Star(Some(object_name(name))),
            ast::Expr::Subquery(query) => {
                let mut pending = self.scalar_subqueries.borrow_mut();
                pending.push((**query).clone());
                col(&scalar_subquery(pending.len() - 1))
            }
            ast::Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let tuple = matches!(**expr, ast::Expr::Tuple(_));
                let value = match &**expr {
                    ast::Expr::Tuple(items) => self.tuple(items)?,
                    other => self.lower(other)?,
                };
                let mut pending = self.set_subqueries.borrow_mut();
                pending.push(SetSubquery::Values {
                    query: (**subquery).clone(),
                    tuple,
                });
                Expr::InList {
                    expr: Box::new(value),
                    list: vec![col(&set_subquery(pending.len() - 1))],
                    negated: *negated,
                }
            }
            ast::Expr::Exists { subquery, negated } => {
                let mut pending = self.set_subqueries.borrow_mut();
                pending.push(SetSubquery::Exists((**subquery).clone()));
                negated_if(*negated, col(&set_subquery(pending.len() - 1)))
            }
            other => return Err(unsupported(&format!("the expression `{other}`"))),
        })
    }

    /// `(a, b) [NOT] IN ((1, 2), (3, 4))`: whether some listed tuple equals
    /// the tested one field by field, where Spark's struct comparison takes
    /// two nulls as equal (so never null itself).
    fn tuple_in_list(&self, tuple: &ast::Expr, list: &[ast::Expr], negated: bool) -> Result<Expr> {
        let fields = |e: &ast::Expr| -> Result<Vec<Expr>> {
            match e {
                ast::Expr::Tuple(items) => items.iter().map(|i| self.lower(i)).collect(),
                other => Ok(vec![self.lower(other)?]),
            }
        };
        let shown = |values: &[Expr]| {
            let fields = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("col{}, {v}", i + 1))
                .collect::<Vec<_>>();
            format!("named_struct({})", fields.join(", "))
        };
        let tested = fields(tuple)?;
        let mut names = Vec::with_capacity(list.len());
        let mut matches = Vec::with_capacity(list.len());
        for item in list {
            let values = fields(item)?;
            if values.len() != tested.len() {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                    format!(
                        "Cannot resolve \"({} IN ({item}))\" due to data type mismatch: Input to `in` should all be the same type, but it's a tuple of {} against one of {}.",
                        shown(&tested),
                        tested.len(),
                        values.len()
                    ),
                ));
            }
            names.push(shown(&values));
            let equal = tested
                .iter()
                .zip(values)
                .map(|(t, v)| t.clone().binary(BinaryOp::EqNullSafe, v))
                .reduce(Expr::and);
            matches.extend(equal);
        }
        let found = matches
            .into_iter()
            .reduce(|a, b| a.binary(BinaryOp::Or, b))
            .unwrap_or(lit(false));
        let name = format!("({} IN ({}))", shown(&tested), names.join(", "));
        Ok(negated_if(negated, shown_as(found, name)))
    }

    /// A tuple tested by `IN (subquery)` as the struct Spark makes of it,
    /// each field named after its item (`named_struct('a', a, 'x', 'x')`).
    pub fn tuple(&self, items: &[ast::Expr]) -> Result<Expr> {
        let mut fields = Vec::with_capacity(items.len() * 2);
        for item in items {
            let value = self.lower(item)?;
            fields.push(lit(value.output_name()));
            fields.push(value);
        }
        Ok(func("named_struct", fields))
    }

    /// `[NOT] LIKE pattern [ESCAPE 'c']` and `[NOT] LIKE ANY (patterns)`,
    /// as Spark's `like(s, p, c)` and `likeany(s, p...)` / `notlikeany`.
    fn like(
        &self,
        name: &str,
        negated: bool,
        expr: &ast::Expr,
        pattern: &ast::Expr,
        escape: Option<&ast::ValueWithSpan>,
        any: bool,
    ) -> Result<Expr> {
        let value = self.lower(expr)?;
        // `LIKE ALL (...)` reaches here as a call of a function `ALL`.
        let all = match pattern {
            ast::Expr::Function(f) if object_name(&f.name).eq_ignore_ascii_case("all") => {
                match &f.args {
                    FunctionArguments::List(list) => Some(
                        list.args
                            .iter()
                            .map(|a| match a {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => self.lower(e),
                                _ => Err(unsupported("this LIKE ALL pattern")),
                            })
                            .collect::<Result<Vec<_>>>()?,
                    ),
                    _ => None,
                }
            }
            _ => None,
        };
        if any || all.is_some() {
            let patterns = match (pattern, all) {
                (_, Some(patterns)) => patterns,
                (ast::Expr::Tuple(items), None) => items
                    .iter()
                    .map(|p| self.lower(p))
                    .collect::<Result<Vec<_>>>()?,
                (ast::Expr::Nested(one), None) => vec![self.lower(one)?],
                (other, None) => vec![self.lower(other)?],
            };
            let function = format!(
                "{}{}{}",
                if negated { "not" } else { "" },
                name,
                if any { "any" } else { "all" }
            );
            return Ok(func(
                &function,
                std::iter::once(value).chain(patterns).collect(),
            ));
        }
        let mut args = vec![value, self.lower(pattern)?];
        if let Some(escape) = escape {
            args.push(lit(self.value(&escape.value)?));
        }
        Ok(negated_if(negated, func(name, args)))
    }

    fn binary(&self, left: &ast::Expr, op: &BinaryOperator, right: &ast::Expr) -> Result<Expr> {
        let (l, r) = (self.lower(left)?, self.lower(right)?);
        let op = match op {
            BinaryOperator::Plus => BinaryOp::Plus,
            BinaryOperator::Minus => BinaryOp::Minus,
            BinaryOperator::Multiply => BinaryOp::Multiply,
            BinaryOperator::Divide => BinaryOp::Divide,
            BinaryOperator::Modulo => BinaryOp::Modulo,
            BinaryOperator::MyIntegerDivide => BinaryOp::IntDivide,
            BinaryOperator::Eq => BinaryOp::Eq,
            BinaryOperator::NotEq => BinaryOp::NotEq,
            BinaryOperator::Lt => BinaryOp::Lt,
            BinaryOperator::LtEq => BinaryOp::LtEq,
            BinaryOperator::Gt => BinaryOp::Gt,
            BinaryOperator::GtEq => BinaryOp::GtEq,
            BinaryOperator::Spaceship => BinaryOp::EqNullSafe,
            BinaryOperator::And => BinaryOp::And,
            BinaryOperator::Or => BinaryOp::Or,
            BinaryOperator::StringConcat => return Ok(func("concat", vec![l, r])),
            other => return Err(unsupported(&format!("the operator {other}"))),
        };
        Ok(l.binary(op, r))
    }

    fn function(&self, function: &ast::Function) -> Result<Expr> {
        let name = object_name(&function.name).to_ascii_lowercase();
        let (args, distinct) = match &function.args {
            FunctionArguments::None => (vec![], false),
            FunctionArguments::Subquery(_) => return Err(unsupported("subquery expressions")),
            FunctionArguments::List(list) => {
                let distinct =
                    matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
                let mut args = Vec::new();
                for arg in &list.args {
                    let value = match arg {
                        FunctionArg::Unnamed(value) => value,
                        FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => arg,
                    };
                    args.push(match value {
                        FunctionArgExpr::Expr(e) => self.lower(e)?,
                        FunctionArgExpr::Wildcard if name == "count" => lit(1),
                        FunctionArgExpr::Wildcard => Expr::Star(None),
                        FunctionArgExpr::QualifiedWildcard(q) => Expr::Star(Some(object_name(q))),
                        FunctionArgExpr::WildcardWithOptions(_) => Expr::Star(None),
                    });
                }
                (args, distinct)
            }
        };
        let mut args = self.within_group(&name, args, distinct, &function.within_group)?;
        crate::functions::add_default_args(&name, &mut args);
        // `first_value(x) IGNORE NULLS` is `first_value(x, true)` and
        // `lag(x) IGNORE NULLS` is `lag(x, 1, NULL, true)`; RESPECT NULLS
        // is every function's default.
        if let Some(ast::NullTreatment::IgnoreNulls) = function.null_treatment {
            let flag_at = match name.as_str() {
                "first" | "last" | "first_value" | "last_value" | "any_value" => 1,
                "lag" | "lead" => 3,
                _ => 0,
            };
            if flag_at == 0 || args.is_empty() || args.len() > flag_at {
                return Err(unsupported(&format!("IGNORE NULLS on {name}")));
            }
            if args.len() < 2 && flag_at == 3 {
                args.push(lit(1));
            }
            while args.len() < flag_at {
                args.push(lit(Value::Null));
            }
            args.push(lit(true));
        }
        let filter = match &function.filter {
            Some(condition) => Some(Box::new(self.lower(condition)?)),
            None => None,
        };
        let call = match self.udfs.get(&name) {
            Some(_) if filter.is_some() => return Err(crate::functions::filter_unsupported(&name)),
            Some(udf) => Expr::Udf {
                function: udf.clone(),
                args,
            },
            None => Expr::Function {
                name,
                args,
                distinct,
                filter,
            },
        };
        match &function.over {
            None => Ok(call),
            Some(window) => Ok(Expr::Window {
                function: Box::new(call),
                spec: Box::new(self.window(window)?),
            }),
        }
    }

    /// The arguments of a call with `WITHIN GROUP (ORDER BY key)`, the
    /// ordering joined to them as the engine's functions take it:
    /// `percentile_cont(p)` and `percentile_disc(p)` as `(key, p, descending)`,
    /// `mode()` as `mode(key, true)` (Spark's deterministic mode) or, when
    /// descending, `mode(key, true, true)`, `listagg(x[, delimiter])` as
    /// `(x, delimiter, key ordering)`. Other calls keep their arguments.
    fn within_group(
        &self,
        name: &str,
        args: Vec<Expr>,
        distinct: bool,
        order: &[ast::OrderByExpr],
    ) -> Result<Vec<Expr>> {
        let inverse_distribution = matches!(name, "percentile_cont" | "percentile_disc")
            || (name == "mode" && args.is_empty());
        if order.is_empty() && !inverse_distribution {
            return Ok(args);
        }
        let invalid = |class: &'static str, detail: String| {
            EngineError::analysis(
                class,
                format!("Invalid function `{name}` with WITHIN GROUP. {detail}"),
            )
        };
        if !matches!(
            name,
            "percentile_cont" | "percentile_disc" | "mode" | "listagg" | "string_agg"
        ) {
            return Err(EngineError::analysis(
                "INVALID_SQL_SYNTAX.FUNCTION_WITH_UNSUPPORTED_SYNTAX",
                format!("Invalid SQL syntax: The function `{name}` does not support WITHIN GROUP."),
            ));
        }
        let [key] = order else {
            if order.is_empty() {
                return Err(invalid(
                    "INVALID_WITHIN_GROUP_EXPRESSION.WITHIN_GROUP_MISSING",
                    "WITHIN GROUP is required for inverse distribution function.".into(),
                ));
            }
            return Err(invalid(
                "INVALID_WITHIN_GROUP_EXPRESSION.WRONG_NUM_ORDERINGS",
                format!(
                    "The function requires 1 orderings in WITHIN GROUP but got {}.",
                    order.len()
                ),
            ));
        };
        let ordering = self.sort_order(key)?;
        let Expr::SortOrder {
            expr: key,
            ascending,
            ..
        } = &ordering
        else {
            return Err(EngineError::Internal("an ordering that is not one".into()));
        };
        let key = (**key).clone();
        if distinct && name != "listagg" && name != "string_agg" {
            return Err(invalid(
                "INVALID_WITHIN_GROUP_EXPRESSION.DISTINCT_UNSUPPORTED",
                "The function does not support DISTINCT with WITHIN GROUP.".into(),
            ));
        }
        let mut args = args;
        Ok(match name {
            "mode" if !args.is_empty() => {
                return Err(invalid(
                    "INVALID_WITHIN_GROUP_EXPRESSION.WRONG_NUM_ORDERINGS",
                    format!(
                        "The function requires 1 orderings in WITHIN GROUP but got {}.",
                        args.len() + 1
                    ),
                ))
            }
            "mode" if *ascending => vec![key, lit(true)],
            "mode" => vec![key, lit(true), lit(true)],
            "listagg" | "string_agg" => {
                if args.len() == 1 {
                    args.push(lit(Value::Null));
                }
                args.push(ordering);
                args
            }
            _ => {
                let [p] = args.as_slice() else {
                    return Err(EngineError::analysis(
                        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                        format!(
                            "The `{name}` requires 1 parameters but the actual number is {}.",
                            args.len()
                        ),
                    ));
                };
                vec![key, p.clone(), lit(!*ascending)]
            }
        })
    }

    /// An `OVER` clause, inline or by name (`OVER w`, `OVER (w ORDER BY ...)`).
    fn window(&self, window: &ast::WindowType) -> Result<WindowSpec> {
        let spec = match window {
            ast::WindowType::WindowSpec(spec) => spec.clone(),
            ast::WindowType::NamedWindow(name) => ast::WindowSpec {
                window_name: Some(name.clone()),
                partition_by: vec![],
                order_by: vec![],
                window_frame: None,
            },
        };
        let mut base = match &spec.window_name {
            Some(name) => self.named_window(&name.value, 0)?,
            None => WindowSpec::default(),
        };
        if !spec.partition_by.is_empty() {
            base.partition_by = spec
                .partition_by
                .iter()
                .map(|e| self.lower(e))
                .collect::<Result<_>>()?;
        }
        if !spec.order_by.is_empty() {
            base.order_by = spec
                .order_by
                .iter()
                .map(|o| self.sort_order(o))
                .collect::<Result<_>>()?;
        }
        if let Some(frame) = &spec.window_frame {
            base.frame = Some(self.frame(frame)?);
        }
        Ok(base)
    }

    fn named_window(&self, name: &str, depth: usize) -> Result<WindowSpec> {
        let definitions = self.named_windows.borrow().clone();
        let found = definitions
            .iter()
            .find(|d| d.0.value.eq_ignore_ascii_case(name))
            .filter(|_| depth < 16)
            .ok_or_else(|| {
                EngineError::analysis(
                    "MISSING_WINDOW_SPECIFICATION",
                    format!("Window specification {name} is not defined in the WINDOW clause."),
                )
            })?;
        match &found.1 {
            ast::NamedWindowExpr::NamedWindow(other) => self.named_window(&other.value, depth + 1),
            ast::NamedWindowExpr::WindowSpec(spec) => {
                self.window(&ast::WindowType::WindowSpec(spec.clone()))
            }
        }
    }

    /// `expr [ASC|DESC] [NULLS FIRST|LAST]`, nulls first when ascending by default.
    pub fn sort_order(&self, order: &ast::OrderByExpr) -> Result<Expr> {
        let ascending = order.options.asc.unwrap_or(true);
        let nulls_first = order.options.nulls_first.unwrap_or(ascending);
        Ok(Expr::SortOrder {
            expr: Box::new(self.lower(&order.expr)?),
            ascending,
            nulls_first,
        })
    }

    fn frame(&self, frame: &ast::WindowFrame) -> Result<WindowFrame> {
        let kind = match frame.units {
            ast::WindowFrameUnits::Rows => FrameKind::Rows,
            ast::WindowFrameUnits::Range => FrameKind::Range,
            ast::WindowFrameUnits::Groups => return Err(unsupported("GROUPS window frames")),
        };
        let bound = |b: &ast::WindowFrameBound| -> Result<FrameBound> {
            let offset = |e: &ast::Expr| -> Result<i64> {
                match self.lower(e)? {
                    Expr::Literal(Value::Integer(v)) => Ok(i64::from(v)),
                    Expr::Literal(Value::Long(v)) => Ok(v),
                    other => Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.SPECIFIED_WINDOW_FRAME_UNACCEPTED_TYPE",
                        format!("Cannot resolve the window frame bound {other}: Kiln takes integer frame offsets."),
                    )),
                }
            };
            Ok(match b {
                ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Offset {
                    value: -offset(e)?,
                    sql_preceding: true,
                },
                ast::WindowFrameBound::Following(Some(e)) => match offset(e)? {
                    0 => FrameBound::CurrentRow,
                    v => FrameBound::Offset {
                        value: v,
                        sql_preceding: false,
                    },
                },
            })
        };
        let start = bound(&frame.start_bound)?;
        let end = match &frame.end_bound {
            Some(end) => bound(end)?,
            None => FrameBound::CurrentRow,
        };
        Ok(WindowFrame { kind, start, end })
    }

    fn value(&self, value: &ast::Value) -> Result<Value> {
        Ok(match value {
            ast::Value::Number(digits, long) => number(digits, *long)?,
            ast::Value::SingleQuotedString(s)
            | ast::Value::DoubleQuotedString(s)
            | ast::Value::TripleSingleQuotedString(s)
            | ast::Value::TripleDoubleQuotedString(s) => Value::String(s.clone()),
            ast::Value::Boolean(b) => Value::Boolean(*b),
            ast::Value::Null => Value::Null,
            ast::Value::HexStringLiteral(hex) => Value::Binary(parse_hex(hex)?),
            ast::Value::Placeholder(name) => self.parameter(name)?,
            other => return Err(unsupported(&format!("the literal {other}"))),
        })
    }

    fn parameter(&self, placeholder: &str) -> Result<Value> {
        match (placeholder.strip_prefix(':'), self.args) {
            (Some(name), SqlArgs::Named(values)) => values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| unbound(name)),
            (None, SqlArgs::Positional(values)) if placeholder == "?" => {
                let i = self.next_positional.get();
                self.next_positional.set(i + 1);
                values
                    .get(i)
                    .cloned()
                    .ok_or_else(|| unbound(&format!("_{}", i + 1)))
            }
            (Some(name), _) => Err(unbound(name)),
            _ => Err(unbound(placeholder)),
        }
    }

    fn typed_literal(&self, typed: &ast::TypedString) -> Result<Value> {
        let text = match &typed.value.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        };
        match &typed.data_type {
            ast::DataType::Custom(name, suffix) if object_name(name) == TYPED_NUMBER => {
                typed_number(&text, suffix.first().map(String::as_str).unwrap_or(""))
            }
            ast::DataType::Date => parse_date(&text)
                .map(|d| Value::Date((d - crate::value::epoch()).num_days() as i32))
                .ok_or_else(|| invalid_typed_literal("DATE", &text)),
            ast::DataType::Timestamp(..) | ast::DataType::Datetime(_) => {
                let local = parse_timestamp(&text)
                    .ok_or_else(|| invalid_typed_literal("TIMESTAMP", &text))?;
                let instant = self
                    .tz
                    .from_local_datetime(&local)
                    .earliest()
                    .ok_or_else(|| invalid_typed_literal("TIMESTAMP", &text))?;
                Ok(Value::Timestamp(instant.timestamp_micros()))
            }
            ast::DataType::Custom(name, _)
                if object_name(name).eq_ignore_ascii_case("timestamp_ntz") =>
            {
                let local = parse_timestamp(&text)
                    .ok_or_else(|| invalid_typed_literal("TIMESTAMP_NTZ", &text))?;
                Ok(Value::TimestampNtz(local.and_utc().timestamp_micros()))
            }
            other => Err(unsupported(&format!("typed literals of type {other}"))),
        }
    }
}

fn not(e: Expr) -> Expr {
    Expr::Unary(UnaryOp::Not, Box::new(e))
}

pub(super) fn negated_if(negated: bool, e: Expr) -> Expr {
    if negated {
        not(e)
    } else {
        e
    }
}

/// Back-quotes a name part that would otherwise read as qualified.
fn quote_part(part: &str) -> String {
    if part.contains('.') || part.contains('`') {
        format!("`{}`", part.replace('`', "``"))
    } else {
        part.to_string()
    }
}

fn is_number(expr: &ast::Expr) -> bool {
    matches!(
        expr,
        ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..))
    ) || matches!(expr, ast::Expr::TypedString(t) if matches!(&t.data_type, ast::DataType::Custom(n, _) if object_name(n) == TYPED_NUMBER))
}

fn negate(value: Value) -> Result<Value> {
    Ok(match value {
        Value::Byte(v) => Value::Byte(-v),
        Value::Short(v) => Value::Short(-v),
        Value::Integer(v) => Value::Integer(-v),
        Value::Long(v) => Value::Long(-v),
        Value::Float(v) => Value::Float(-v),
        Value::Double(v) => Value::Double(-v),
        Value::Decimal(v, p, s) => Value::Decimal(-v, p, s),
        other => other,
    })
}

/// Spark's numeric literal types: `1` int, `3000000000` bigint, `1.5`
/// decimal(2,1), `1e3` double, `2L` bigint.
fn number(digits: &str, long: bool) -> Result<Value> {
    if long {
        return digits
            .parse::<i64>()
            .map(Value::Long)
            .map_err(|_| invalid_number(digits, "BIGINT"));
    }
    if digits.contains(['e', 'E']) {
        return digits
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| invalid_number(digits, "DOUBLE"));
    }
    if digits.contains('.') {
        return decimal(digits);
    }
    if let Ok(v) = digits.parse::<i32>() {
        return Ok(Value::Integer(v));
    }
    if let Ok(v) = digits.parse::<i64>() {
        return Ok(Value::Long(v));
    }
    decimal(digits)
}

/// A decimal literal with the precision and scale its digits need.
fn decimal(digits: &str) -> Result<Value> {
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole = whole.trim_start_matches('0');
    let scale = fraction.len();
    let unscaled: i128 = format!("{whole}{fraction}")
        .parse::<i128>()
        .or_else(|e| {
            if whole.is_empty() && fraction.is_empty() {
                Ok(0)
            } else {
                Err(e)
            }
        })
        .map_err(|_| invalid_number(digits, "DECIMAL"))?;
    let precision = (whole.len() + scale).max(1).max(scale);
    if precision > 38 {
        return Err(invalid_number(digits, "DECIMAL"));
    }
    Ok(Value::Decimal(unscaled, precision as u8, scale as u8))
}

fn typed_number(digits: &str, suffix: &str) -> Result<Value> {
    let out_of_range = |t: &str| invalid_number(&format!("{digits}{suffix}"), t);
    Ok(match suffix {
        "Y" => Value::Byte(digits.parse().map_err(|_| out_of_range("TINYINT"))?),
        "S" => Value::Short(digits.parse().map_err(|_| out_of_range("SMALLINT"))?),
        "D" => Value::Double(digits.parse().map_err(|_| out_of_range("DOUBLE"))?),
        "F" => Value::Float(digits.parse().map_err(|_| out_of_range("FLOAT"))?),
        _ => decimal(digits)?,
    })
}

fn parse_hex(hex: &str) -> Result<Vec<u8>> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_string()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| invalid_typed_literal("X", hex))
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

fn field_name(field: &DateTimeField) -> String {
    match field {
        DateTimeField::Custom(ident) => ident.value.clone(),
        other => other.to_string(),
    }
}

/// An AST type → the engine's, through Spark's type names.
pub fn data_type_of(data_type: &ast::DataType) -> Result<DataType> {
    DataType::parse(&spark_type_text(data_type))
}

/// A type as Spark writes it: `sqlparser` prints `MAP<K, V>` as `Map(K, V)`,
/// also inside arrays and structs.
fn spark_type_text(data_type: &ast::DataType) -> String {
    match data_type {
        ast::DataType::Map(key, value) => {
            format!("MAP<{}, {}>", spark_type_text(key), spark_type_text(value))
        }
        ast::DataType::Array(ast::ArrayElemTypeDef::AngleBracket(element)) => {
            format!("ARRAY<{}>", spark_type_text(element))
        }
        ast::DataType::Struct(fields, ast::StructBracketKind::AngleBrackets) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| match &f.field_name {
                    Some(name) => format!("{name} {}", spark_type_text(&f.field_type)),
                    None => spark_type_text(&f.field_type),
                })
                .collect();
            format!("STRUCT<{}>", fields.join(", "))
        }
        other => other.to_string(),
    }
}

fn unsupported(what: &str) -> EngineError {
    EngineError::spark(
        "UNSUPPORTED_FEATURE",
        format!("Kiln's SQL does not support {what} yet."),
    )
}

fn unbound(name: &str) -> EngineError {
    EngineError::analysis(
        "UNBOUND_SQL_PARAMETER",
        format!("Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`."),
    )
}

fn invalid_number(text: &str, type_name: &str) -> EngineError {
    EngineError::spark(
        "INVALID_NUMERIC_LITERAL_RANGE",
        format!("Numeric literal {text} is outside the valid range for {type_name}."),
    )
}

fn invalid_typed_literal(type_name: &str, text: &str) -> EngineError {
    EngineError::spark(
        "INVALID_TYPED_LITERAL",
        format!("The value of the typed literal {type_name} is invalid: '{text}'."),
    )
}

/// A value as an expression: an array (a bound parameter's list) is built
/// by `array(...)` from its elements, as Spark's literal of it prints.
fn value_expr(value: Value) -> Expr {
    match value {
        Value::Array(items) => func("array", items.into_iter().map(value_expr).collect()),
        other => lit(other),
    }
}
