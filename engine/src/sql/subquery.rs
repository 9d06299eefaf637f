//! Subqueries in SQL, rewritten into joins as Spark's optimizer rewrites
//! them: `[NOT] EXISTS` into left semi / anti joins on the correlated
//! conditions, `IN (subquery)` into a semi join and `NOT IN` into a
//! null-aware anti join, a correlated scalar subquery into a left join with
//! its aggregate grouped by the correlation keys, a correlated subquery with
//! `GROUP BY` into its groups keyed by the correlation too, one with `LIMIT`
//! or `OFFSET` into its rows numbered per outer value, a scalar one not
//! aggregated into each outer value's one row. An uncorrelated scalar
//! subquery runs once, when the query is analyzed, and stands as a literal.

use sqlparser::ast::{self, BinaryOperator, SetExpr, UnaryOperator};

use super::expr::{is_scalar_subquery, negated_if, scalar_subquery, set_subquery, SetSubquery};
use super::joins::tables_read;
use super::query::QueryLowering;
use crate::dataframe::DataFrame;
use crate::error::{EngineError, Result};
use crate::exec::join::JoinKind;
use crate::expr::{func, lit, shown_as, BinaryOp, Expr, UnaryOp};
use crate::plan::{JoinOn, LogicalPlan, Plan};
use crate::planner::under_broadcast_threshold;
use crate::value::Value;
use crate::window::WindowSpec;

/// A subquery predicate found as one AND-ed condition of a WHERE clause.
enum Predicate<'q> {
    Exists {
        query: &'q ast::Query,
        negated: bool,
    },
    In {
        value: &'q ast::Expr,
        query: &'q ast::Query,
        negated: bool,
    },
}

fn predicate(condition: &ast::Expr) -> Option<Predicate<'_>> {
    match condition {
        ast::Expr::Nested(inner) => predicate(inner),
        ast::Expr::Exists { subquery, negated } => Some(Predicate::Exists {
            query: subquery,
            negated: *negated,
        }),
        ast::Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => Some(Predicate::In {
            value: expr,
            query: subquery,
            negated: *negated,
        }),
        ast::Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match predicate(expr)? {
            Predicate::Exists { query, negated } => Some(Predicate::Exists {
                query,
                negated: !negated,
            }),
            Predicate::In {
                value,
                query,
                negated,
            } => Some(Predicate::In {
                value,
                query,
                negated: !negated,
            }),
        },
        _ => None,
    }
}

/// `a AND b AND c` as `[a, b, c]`.
pub fn conjuncts(expr: &ast::Expr) -> Vec<&ast::Expr> {
    match expr {
        ast::Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        ast::Expr::Nested(inner)
            if matches!(
                **inner,
                ast::Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(inner)
        }
        other => vec![other],
    }
}

/// A subquery's rows before its SELECT list, split from the conditions
/// that reach out to the enclosing query.
struct Correlated<'q> {
    inner: DataFrame,
    /// Conditions over both queries, columns tied to `outer` or `inner`.
    conditions: Vec<Expr>,
    select: &'q ast::Select,
    /// When the rows are taken per outer row (a `LIMIT` or `OFFSET`, or a
    /// scalar subquery's one row), the outer columns the conditions read,
    /// each with the column of `inner` holding its value: `inner` then has
    /// the rows each outer value keeps, and the conditions are null-safe
    /// equalities between the two.
    per_outer_value: Vec<(Expr, String)>,
}

impl<'q> Correlated<'q> {
    /// The rows paired with each distinct value of the outer columns the
    /// conditions read, the conditions then null-safe equalities to them.
    fn per_outer_value(self, outer: &DataFrame) -> Result<Correlated<'q>> {
        let (inner, per_outer_value) = outer_value_pairs(outer, &self.inner, &self.conditions)?;
        let conditions = null_safe_equalities(&per_outer_value, &inner)?;
        Ok(Correlated {
            inner,
            conditions,
            select: self.select,
            per_outer_value,
        })
    }
}

/// `outer_column <=> inner.name` for each pair.
fn null_safe_equalities(pairs: &[(Expr, String)], inner: &DataFrame) -> Result<Vec<Expr>> {
    pairs
        .iter()
        .map(|(outer_column, name)| {
            Ok(outer_column
                .clone()
                .binary(BinaryOp::EqNullSafe, inner.col(name)?))
        })
        .collect()
}

/// A correlated subquery's `[ORDER BY ...] LIMIT n [OFFSET m]`: rows
/// `skip + 1` to `skip + take` of each outer row's, in `order`.
struct RowRange<'q> {
    order: &'q [ast::OrderByExpr],
    skip: usize,
    take: Option<usize>,
}

/// An expression's correlated scalar subqueries decorrelated.
pub(super) struct CorrelatedScalars {
    /// The outer rows, each with its subqueries' values (left-joined).
    pub joined: DataFrame,
    /// The expression over those values.
    pub expr: Expr,
    /// Names of the outer columns the subqueries read, for Spark's
    /// `scalarsubquery(col)` output name.
    pub outer_columns: Vec<String>,
}

/// A grouping subquery decorrelated: its groups with their correlation
/// keys, the condition joining them to the outer query, and its select
/// items.
struct CorrelatedGroups {
    rows: DataFrame,
    on: Expr,
    items: Vec<Expr>,
}

/// A correlated `EXISTS` or `IN` subquery's rows and the condition an
/// outer row meets with one of them.
struct Matching {
    rows: DataFrame,
    on: Expr,
    /// The outer columns its correlation reads, which Spark lists in the
    /// subquery's name (`exists(LocationID)`).
    outer_columns: Vec<String>,
}

impl Matching {
    fn new(rows: DataFrame, correlation: Expr, outer: &DataFrame, value: Option<Expr>) -> Self {
        let mut outer_columns = Vec::new();
        note_outer_columns(&correlation, outer, &mut outer_columns);
        let on = match value {
            Some(matched) => matched.and(correlation),
            None => correlation,
        };
        Matching {
            rows,
            on,
            outer_columns,
        }
    }
}

/// Adds the names of the columns of `expr` tied to `outer` to `names`, in
/// order of appearance, each once.
fn note_outer_columns(expr: &Expr, outer: &DataFrame, names: &mut Vec<String>) {
    expr.walk(&mut |e| {
        if let Expr::Column {
            name,
            plan_id: Some(id),
        } = e
        {
            if *id == outer.id() && !names.contains(name) {
                names.push(name.clone());
            }
        }
    })
}

/// Whether two expressions name the same column, one maybe qualified
/// (`PULocationID` and `t.PULocationID`): grouping by both would make the
/// name ambiguous.
fn same_column(a: &ast::Expr, b: &ast::Expr) -> bool {
    let parts = |e: &ast::Expr| match e {
        ast::Expr::Identifier(ident) => Some(vec![ident.value.to_lowercase()]),
        ast::Expr::CompoundIdentifier(parts) => {
            Some(parts.iter().map(|i| i.value.to_lowercase()).collect())
        }
        _ => None,
    };
    match (parts(a), parts(b)) {
        (Some(x), Some(y)) if x.len() > 1 && y.len() > 1 => x == y,
        (Some(x), Some(y)) => x.last() == y.last(),
        _ => false,
    }
}

/// Whether a subquery's SELECT has a `GROUP BY`.
fn groups(query: &ast::Query) -> bool {
    matches!(query.body.as_ref(), SetExpr::Select(select)
        if matches!(&select.group_by, ast::GroupByExpr::Expressions(g, _) if !g.is_empty()))
}

/// `expr` with each plain column tied to the DataFrame it resolves in,
/// the subquery's own columns first (SQL's innermost scope wins).
fn tie_columns(expr: Expr, inner: &DataFrame, outer: &DataFrame) -> Result<Expr> {
    let mut failure = None;
    let tied = expr.transform_down(&mut |node| match node {
        Expr::Column {
            name,
            plan_id: None,
        } => {
            let id = if inner.plan_schema().resolve(name, None).is_ok() {
                inner.id()
            } else if outer.plan_schema().resolve(name, None).is_ok() {
                outer.id()
            } else {
                if let Err(e) = inner.plan_schema().resolve(name, None) {
                    failure.get_or_insert(e);
                }
                return None;
            };
            Some(Expr::Column {
                name: name.clone(),
                plan_id: Some(id),
            })
        }
        _ => None,
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(tied),
    }
}

/// An uncorrelated set subquery's answer, from its rows: `EXISTS` is a
/// literal (`tested` is `None`); `value [NOT] IN` a test of the values.
fn uncorrelated_answer(rows: &DataFrame, tested: Option<(Expr, bool)>) -> Result<Expr> {
    const MAX_VALUES: usize = 1_000_000;
    let Some((value, negated)) = tested else {
        let any = !rows.limit(1).collect()?.is_empty();
        return Ok(shown_as(lit(any), "exists()".into()));
    };
    if rows.columns().len() != 1 {
        return Err(in_length_mismatch(1, rows.columns().len()));
    }
    let values = rows.limit(MAX_VALUES + 1).collect()?;
    if values.len() > MAX_VALUES {
        return Err(EngineError::spark(
            "UNSUPPORTED_FEATURE",
            "Kiln's SQL does not support IN subqueries of more than a million values under OR or in a SELECT list yet.",
        ));
    }
    let name = format!("({value} IN (listquery()))");
    let found = Expr::InList {
        expr: Box::new(value),
        list: values
            .into_iter()
            .map(|row| lit(row.into_iter().next().unwrap_or(Value::Null)))
            .collect(),
        negated: false,
    };
    let matched = shown_as(func("coalesce", vec![found, lit(negated)]), name);
    Ok(negated_if(negated, matched))
}

/// The condition an outer row's values meet with a subquery row's items:
/// each pair equal, or for `NOT IN` equal or unknown (the null-aware match,
/// as Spark's anti join on `(v = i) OR isnull(v = i)` for each pair: such a
/// row rejects the outer row).
fn in_match(values: Vec<Expr>, items: Vec<Expr>, negated: bool) -> Result<Expr> {
    if values.len() != items.len() {
        return Err(in_length_mismatch(values.len(), items.len()));
    }
    let pairs = values.into_iter().zip(items).map(|(value, item)| {
        let equal = value.eq(item);
        match negated {
            true => {
                let unknown = Expr::Unary(UnaryOp::IsNull, Box::new(equal.clone()));
                equal.binary(BinaryOp::Or, unknown)
            }
            false => equal,
        }
    });
    all_of(pairs.collect()).ok_or_else(|| in_length_mismatch(0, 0))
}

/// A subquery's output columns, as the items its rows are matched by.
fn output_items(rows: &DataFrame) -> Vec<Expr> {
    (0..rows.columns().len())
        .filter_map(|i| rows.column_at(i))
        .map(|c| tie_to(c.unaliased(), rows))
        .collect()
}

/// A tuple tested by `IN (subquery)` (lowered to a `named_struct`): the
/// name Spark shows for it, and its values.
fn tuple_fields(tuple: &Expr) -> (String, Vec<Expr>) {
    let Expr::Function { args, .. } = tuple else {
        return (tuple.to_string(), vec![tuple.clone()]);
    };
    let mut shown = Vec::new();
    let mut values = Vec::new();
    for pair in args.chunks(2) {
        if let [Expr::Literal(Value::String(name)), value] = pair {
            shown.push(format!("'{name}', {value}"));
            values.push(value.clone());
        }
    }
    (format!("named_struct({})", shown.join(", ")), values)
}

/// The expressions of a subquery's SELECT list.
fn select_items(select: &ast::Select) -> Result<Vec<&ast::Expr>> {
    select
        .projection
        .iter()
        .map(|item| match item {
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                Ok(e)
            }
            other => Err(EngineError::spark(
                "UNSUPPORTED_FEATURE",
                format!("Kiln's SQL does not support `{other}` in a correlated IN subquery yet."),
            )),
        })
        .collect()
}

/// Spark's error for an IN subquery whose width differs from its tested value's.
fn in_length_mismatch(left: usize, right: usize) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.IN_SUBQUERY_LENGTH_MISMATCH",
        format!(
            "The number of columns in the left hand side of an IN subquery does not match the number of columns in the output of subquery. Left hand side columns(length: {left}), right hand side columns(length: {right})."
        ),
    )
}

/// Names as Spark lists them inside a subquery's name, unqualified.
fn column_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| crate::expr::col(name).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn all_of(conditions: Vec<Expr>) -> Option<Expr> {
    conditions.into_iter().reduce(|a, b| a.and(b))
}

impl QueryLowering<'_> {
    /// Applies a WHERE clause: plain conditions filter first, subquery
    /// predicates become joins, conditions over correlated IN or EXISTS
    /// subqueries (under `OR`, `NOT (... AND ...)`) or correlated scalar
    /// subqueries filter last; the result has `input`'s columns.
    pub(super) fn where_clause(
        &mut self,
        input: DataFrame,
        selection: &ast::Expr,
    ) -> Result<DataFrame> {
        let width = input.columns().len();
        let mut plain = Vec::new();
        let mut predicates = Vec::new();
        let mut scalars = Vec::new();
        let mut marked = Vec::new();
        for condition in conjuncts(selection) {
            if let Some(p) = predicate(condition) {
                predicates.push(p);
                continue;
            }
            let (lowered, pending, sets) = self.exprs.lower_with_set_subqueries(condition);
            let lowered = match self.with_set_subqueries(lowered?, &sets, None) {
                Ok(lowered) => lowered,
                Err(_) if !sets.is_empty() => {
                    marked.push(condition);
                    continue;
                }
                Err(error) => return Err(error),
            };
            let values: Result<Vec<Expr>> = pending.iter().map(|q| self.scalar_value(q)).collect();
            match values {
                Ok(values) => plain.push(substitute_scalars(lowered, &values)),
                Err(error) => scalars.push((condition, error)),
            }
        }
        let mut df = match all_of(plain) {
            Some(condition) => input.filter(condition)?,
            None => input,
        };
        // Subquery predicates first: they usually keep few rows, and a
        // correlated scalar then aggregates only the keys those rows have.
        for p in predicates {
            df = self.predicate_join(df, p)?;
        }
        let mut late = Vec::new();
        for condition in marked {
            late.push(self.expr_joining(condition, &mut df)?);
        }
        for (condition, error) in scalars {
            let scalars = self
                .correlated_scalar(&df, condition)
                .map_err(|e| decorrelation_error(error, e))?;
            df = scalars.joined;
            late.push(scalars.expr);
        }
        if let Some(condition) = all_of(late) {
            df = df.filter(condition)?;
        }
        if df.columns().len() == width {
            return Ok(df);
        }
        let columns = (0..width)
            .map(|i| {
                df.column_at(i)
                    .ok_or_else(|| EngineError::Internal("filtered column missing".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        df.select(columns)
    }

    /// `tables[i]` filtered by `value [NOT] IN (uncorrelated subquery)`
    /// when `value` reads only that table: applied before the joins, as
    /// Spark pushes a semi or anti join below an inner join, since such a
    /// list usually keeps few rows. A correlated EXISTS or IN stays after
    /// the joins, which often shrink its outer side more than it would.
    /// `None` for any other condition.
    pub(super) fn one_table_predicate(
        &mut self,
        tables: &[DataFrame],
        condition: &ast::Expr,
    ) -> Option<(usize, DataFrame)> {
        let Predicate::In { value, query, .. } = predicate(condition)? else {
            return None;
        };
        let value = self.exprs.lower(value).ok()?;
        let [table] = super::joins::tables_read(&value, tables)?[..] else {
            return None;
        };
        self.query(query).ok()?;
        let filtered = self.where_clause(tables[table].clone(), condition).ok()?;
        Some((table, filtered))
    }

    /// Lowers an expression; its uncorrelated scalar subqueries run now and
    /// become literals.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        let (lowered, pending, sets) = self.exprs.lower_with_set_subqueries(e);
        let lowered = self.with_set_subqueries(lowered?, &sets, None)?;
        if pending.is_empty() {
            return Ok(lowered);
        }
        let mut values = Vec::new();
        for query in &pending {
            values.push(self.scalar_value(query)?);
        }
        Ok(substitute_scalars(lowered, &values))
    }

    /// Lowers an expression whose correlated IN and EXISTS subqueries
    /// become existence joins of `input`; its other subqueries run now.
    pub(super) fn expr_joining(&mut self, e: &ast::Expr, input: &mut DataFrame) -> Result<Expr> {
        let (lowered, pending, sets) = self.exprs.lower_with_set_subqueries(e);
        let lowered = self.with_set_subqueries(lowered?, &sets, Some(input))?;
        let values = pending
            .iter()
            .map(|q| self.scalar_value(q))
            .collect::<Result<Vec<_>>>()?;
        Ok(substitute_scalars(lowered, &values))
    }

    /// `expr` with its set subqueries answered. An uncorrelated one runs
    /// now: `x IN (subquery)` becomes a test of `x IN (v1, v2, ...)` over
    /// its values, `EXISTS` a literal. A correlated one, when `input` is
    /// given, becomes an existence join of `input` (which then holds the
    /// join) whose boolean column stands for it, as Spark plans it.
    /// Either answer is never null: Spark tests these through an
    /// existence join, so `x IN (s)` is whether some value equals x, and
    /// `x NOT IN (s)` is false when x or a value is null (the null-aware
    /// match).
    fn with_set_subqueries(
        &mut self,
        expr: Expr,
        sets: &[SetSubquery],
        mut input: Option<&mut DataFrame>,
    ) -> Result<Expr> {
        let placeholder = |e: &Expr| match e {
            Expr::Column { name, .. } => (0..sets.len()).find(|i| *name == set_subquery(*i)),
            _ => None,
        };
        // What each IN subquery tests: the value, and whether it is negated.
        let mut tested: Vec<Option<(Expr, bool)>> = vec![None; sets.len()];
        expr.walk(&mut |node| {
            if let Expr::InList {
                expr,
                list,
                negated,
            } = node
            {
                if let Some(i) = list.first().and_then(placeholder) {
                    tested[i] = Some(((**expr).clone(), *negated));
                }
            }
        });
        // Every subquery planned first, so that none runs when one of them
        // needs a join and no input is given (the caller then tries again
        // with one).
        let mut planned: Vec<_> = sets
            .iter()
            .map(|set| {
                let (query, tuple) = match set {
                    SetSubquery::Exists(query) => (query, false),
                    SetSubquery::Values { query, tuple } => (query, *tuple),
                };
                (query, tuple, self.query(query))
            })
            .collect();
        let needs_join = planned
            .iter()
            .position(|(_, tuple, alone)| *tuple || alone.is_err());
        if let (None, Some(i)) = (&input, needs_join) {
            return Err(match planned.swap_remove(i).2 {
                Err(error)
                    if !error
                        .error_class()
                        .is_some_and(|c| c.starts_with("UNRESOLVED_COLUMN")) =>
                {
                    error
                }
                _ => EngineError::spark(
                    "UNSUPPORTED_FEATURE",
                    "Kiln's SQL supports correlated IN and EXISTS subqueries, and tuples IN a subquery, in WHERE and SELECT lists only.",
                ),
            });
        }
        let mut answers = Vec::with_capacity(sets.len());
        for ((query, tuple, alone), tested) in planned.into_iter().zip(tested) {
            if let (Ok(rows), false) = (&alone, tuple) {
                answers.push(uncorrelated_answer(rows, tested)?);
                continue;
            }
            let input = input
                .as_deref_mut()
                .ok_or_else(|| EngineError::Internal("a subquery join without its input".into()))?;
            let outer = input.clone();
            let (matching, name, negated) = match (alone, tested) {
                (Err(error), None) => {
                    let m = self.correlated_exists(&outer, query, error)?;
                    let name = format!("exists({})", column_list(&m.outer_columns));
                    (m, name, false)
                }
                (Ok(_), None) => return Err(EngineError::Internal("EXISTS answered twice".into())),
                (alone, Some((value, negated))) => {
                    let (shown, values) = match tuple {
                        true => tuple_fields(&value),
                        false => (value.to_string(), vec![value]),
                    };
                    let values = values.into_iter().map(|v| tie_to(v, &outer)).collect();
                    let m = match alone {
                        Ok(rows) => Matching {
                            on: in_match(values, output_items(&rows), negated)?,
                            rows,
                            outer_columns: Vec::new(),
                        },
                        Err(error) => self.correlated_in(&outer, values, query, negated, error)?,
                    };
                    let name = format!(
                        "({shown} IN (listquery({})))",
                        column_list(&m.outer_columns)
                    );
                    (m, name, negated)
                }
            };
            let joined = outer.join(
                &matching.rows,
                JoinOn::Condition(matching.on),
                JoinKind::LeftMark,
            )?;
            let mark = joined
                .column_at(joined.columns().len() - 1)
                .ok_or_else(|| EngineError::Internal("existence join without its mark".into()))?;
            *input = joined;
            answers.push(negated_if(negated, shown_as(mark, name)));
        }
        Ok(expr.transform_down(&mut |node| match node {
            Expr::InList { list, .. } if list.len() == 1 => {
                placeholder(&list[0]).map(|i| answers[i].clone())
            }
            other => placeholder(other).map(|i| answers[i].clone()),
        }))
    }

    fn scalar_value(&mut self, query: &ast::Query) -> Result<Expr> {
        let df = self.query(query)?;
        let fields = df.schema().fields;
        let [field] = fields.as_slice() else {
            return Err(EngineError::analysis(
                "INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN",
                format!(
                    "Invalid subquery: Scalar subquery must return only one column, but got {}.",
                    fields.len()
                ),
            ));
        };
        let rows = df.limit(2).collect()?;
        if rows.len() > 1 {
            return Err(EngineError::spark(
                "SCALAR_SUBQUERY_TOO_MANY_ROWS",
                "More than one row returned by a subquery used as an expression.",
            ));
        }
        let value = rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or(Value::Null);
        Ok(match value {
            Value::Null => lit(Value::Null).cast(field.data_type.clone()),
            value => lit(value),
        })
    }

    /// The FROM and own WHERE conditions of a simple correlated subquery.
    fn correlated<'q>(
        &mut self,
        outer: &DataFrame,
        query: &'q ast::Query,
    ) -> Result<Correlated<'q>> {
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Err(unsupported_correlation());
        };
        if query.with.is_some()
            || !matches!(&select.group_by, ast::GroupByExpr::Expressions(g, _) if g.is_empty())
            || select.having.is_some()
        {
            return Err(unsupported_correlation());
        }
        let range = self.row_range(query)?;
        let tables = self.subquery_tables(select)?;
        let mut own = Vec::new();
        let mut correlated = Vec::new();
        if let Some(selection) = &select.selection {
            for condition in conjuncts(selection) {
                if predicate(condition).is_some() {
                    own.push(condition.clone());
                    continue;
                }
                let (lowered, nested) = self.exprs.lower_with_subqueries(condition);
                let lowered = lowered?;
                if !nested.is_empty() || tables_read(&lowered, &tables).is_some() {
                    own.push(condition.clone());
                } else {
                    correlated.push(lowered);
                }
            }
        }
        let inner = self.join_tables(tables, &own)?;
        let conditions = correlated
            .into_iter()
            .map(|c| tie_columns(c, &inner, outer))
            .collect::<Result<Vec<_>>>()?;
        // Conditions were tied to the FROM's columns, which the filtered frame keeps.
        let Some(range) = range else {
            return Ok(Correlated {
                inner,
                conditions,
                select,
                per_outer_value: Vec::new(),
            });
        };
        let (inner, per_outer_value) =
            self.rows_per_outer_value(outer, &inner, &conditions, range)?;
        let conditions = null_safe_equalities(&per_outer_value, &inner)?;
        Ok(Correlated {
            inner,
            conditions,
            select,
            per_outer_value,
        })
    }

    /// A subquery's `LIMIT` and `OFFSET`, with the `ORDER BY` they follow.
    fn row_range<'q>(&self, query: &'q ast::Query) -> Result<Option<RowRange<'q>>> {
        let (limit, offset) = match &query.limit_clause {
            None => return Ok(None),
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) if limit_by.is_empty() => (limit.as_ref(), offset.as_ref().map(|o| &o.value)),
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
                (Some(limit), Some(offset))
            }
            Some(_) => return Err(unsupported_correlation()),
        };
        let order = match &query.order_by {
            None => &[][..],
            Some(order) => match &order.kind {
                ast::OrderByKind::Expressions(exprs) => exprs.as_slice(),
                ast::OrderByKind::All(_) => return Err(unsupported_correlation()),
            },
        };
        Ok(Some(RowRange {
            order,
            skip: offset.map_or(Ok(0), |o| self.non_negative(o, "OFFSET"))?,
            take: limit.map(|l| self.non_negative(l, "LIMIT")).transpose()?,
        }))
    }

    /// A correlated subquery's rows limited per outer row, as Spark
    /// decorrelates a limit: the inner rows meeting each distinct value of
    /// the outer columns the conditions read, numbered per value in the
    /// subquery's order (any order without `ORDER BY`), and kept in `range`.
    fn rows_per_outer_value(
        &mut self,
        outer: &DataFrame,
        inner: &DataFrame,
        conditions: &[Expr],
        range: RowRange<'_>,
    ) -> Result<(DataFrame, Vec<(Expr, String)>)> {
        let (pairs, values) = outer_value_pairs(outer, inner, conditions)?;
        let partition_by = values
            .iter()
            .map(|(_, name)| pairs.col(name))
            .collect::<Result<Vec<_>>>()?;
        let mut order_by = range
            .order
            .iter()
            .map(|o| Ok(tie_to(self.exprs.sort_order(o)?, inner)))
            .collect::<Result<Vec<_>>>()?;
        if order_by.is_empty() {
            order_by = partition_by.clone();
        }
        let row = format!("__sq{}_row", inner.id());
        let numbered = pairs.with_column(
            &row,
            Expr::Window {
                function: Box::new(func("row_number", vec![])),
                spec: Box::new(WindowSpec {
                    partition_by,
                    order_by,
                    frame: None,
                }),
            },
        )?;
        let row = numbered.col(&row)?;
        let after_skip = row.clone().gt(lit(range.skip as i64));
        let kept = match range.take {
            Some(take) => {
                after_skip.and(row.binary(BinaryOp::LtEq, lit((range.skip + take) as i64)))
            }
            None => after_skip,
        };
        Ok((numbered.filter(kept)?, values))
    }

    /// A subquery's FROM tables, each with its joins, not yet joined together.
    fn subquery_tables(&mut self, select: &ast::Select) -> Result<Vec<DataFrame>> {
        let hints = self.hints(select)?;
        select
            .from
            .iter()
            .map(|t| self.table_with_joins(t, &hints))
            .collect()
    }

    /// An `EXISTS` subquery's `LIMIT n` with n > 0 does not change whether
    /// a row exists: the query without it (as Spark's optimizer drops it).
    fn without_positive_limit(&self, query: &ast::Query) -> Result<ast::Query> {
        let mut query = query.clone();
        if let Some(ast::LimitClause::LimitOffset {
            limit: Some(limit),
            offset: None,
            limit_by,
        }) = &query.limit_clause
        {
            if limit_by.is_empty() && self.non_negative(limit, "LIMIT")? > 0 {
                query.limit_clause = None;
            }
        }
        Ok(query)
    }

    /// A correlated subquery that groups (`GROUP BY`, maybe `HAVING`),
    /// decorrelated as Spark decorrelates an aggregate: the inner sides of
    /// its correlated equalities join the grouping keys, so each group
    /// belongs to one outer key, and the groups join the outer query on
    /// those equalities.
    fn correlated_groups(
        &mut self,
        outer: &DataFrame,
        query: &ast::Query,
    ) -> Result<CorrelatedGroups> {
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Err(unsupported_correlation());
        };
        let ast::GroupByExpr::Expressions(group_by, modifiers) = &select.group_by else {
            return Err(unsupported_correlation());
        };
        if query.with.is_some() || query.limit_clause.is_some() || !modifiers.is_empty() {
            return Err(unsupported_correlation());
        }
        let tables = self.subquery_tables(select)?;
        let reads_inner = |e: &ast::Expr| -> Result<bool> {
            let (lowered, nested) = self.exprs.lower_with_subqueries(e);
            Ok(nested.is_empty() && tables_read(&lowered?, &tables).is_some())
        };
        let mut own: Vec<ast::Expr> = Vec::new();
        let mut keys: Vec<(ast::Expr, ast::Expr)> = Vec::new();
        if let Some(selection) = &select.selection {
            for condition in conjuncts(selection) {
                if predicate(condition).is_some() || reads_inner(condition)? {
                    own.push(condition.clone());
                    continue;
                }
                let ast::Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq,
                    right,
                } = condition
                else {
                    return Err(unsupported_correlation());
                };
                match (reads_inner(left)?, reads_inner(right)?) {
                    (true, false) => keys.push(((**left).clone(), (**right).clone())),
                    (false, true) => keys.push(((**right).clone(), (**left).clone())),
                    _ => return Err(unsupported_correlation()),
                }
            }
        }
        if keys.is_empty() {
            return Err(unsupported_correlation());
        }
        let mut grouped = select.clone();
        grouped.selection = own.into_iter().reduce(|a, b| ast::Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        });
        let mut by = group_by.clone();
        let width = select.projection.len();
        for (i, (inner, _)) in keys.iter().enumerate() {
            if !group_by.iter().any(|g| same_column(g, inner)) {
                by.push(inner.clone());
            }
            grouped.projection.push(ast::SelectItem::ExprWithAlias {
                expr: inner.clone(),
                alias: ast::Ident::new(format!("__kiln_corr{i}")),
            });
        }
        grouped.group_by = ast::GroupByExpr::Expressions(by, Vec::new());
        let rows = self.select(&grouped, &[])?;
        let mut on = Vec::new();
        for (i, (_, outer_side)) in keys.iter().enumerate() {
            let outer_side = tie_to(self.expr(outer_side)?, outer);
            let key = rows
                .column_at(width + i)
                .ok_or_else(unsupported_correlation)?;
            on.push(outer_side.eq(key));
        }
        let items = (0..width).filter_map(|i| rows.column_at(i)).collect();
        Ok(CorrelatedGroups {
            on: all_of(on).ok_or_else(unsupported_correlation)?,
            items,
            rows,
        })
    }

    fn predicate_join(&mut self, outer: DataFrame, p: Predicate<'_>) -> Result<DataFrame> {
        match p {
            Predicate::Exists { query, negated } => {
                let kind = if negated {
                    JoinKind::LeftAnti
                } else {
                    JoinKind::LeftSemi
                };
                match self.query(query) {
                    Ok(inner) => {
                        let any = !inner.limit(1).collect()?.is_empty();
                        outer.filter(lit(any != negated))
                    }
                    Err(error) => {
                        let m = self.correlated_exists(&outer, query, error)?;
                        outer.join(&m.rows, JoinOn::Condition(m.on), kind)
                    }
                }
            }
            Predicate::In {
                value,
                query,
                negated,
            } => {
                let values = match value {
                    ast::Expr::Tuple(items) => items.iter().collect(),
                    single => vec![single],
                };
                let values = values
                    .into_iter()
                    .map(|v| Ok(tie_to(self.expr(v)?, &outer)))
                    .collect::<Result<Vec<_>>>()?;
                match self.query(query) {
                    Ok(inner) => self.uncorrelated_in(outer, values, &inner, negated),
                    Err(error) => {
                        let m = self.correlated_in(&outer, values, query, negated, error)?;
                        let kind = match negated {
                            true => JoinKind::LeftAnti,
                            false => JoinKind::LeftSemi,
                        };
                        outer.join(&m.rows, JoinOn::Condition(m.on), kind)
                    }
                }
            }
        }
    }

    /// The rows of a correlated `EXISTS` subquery and the condition an
    /// outer row meets when one of them belongs to it. `error` is what
    /// the subquery failed with alone.
    fn correlated_exists(
        &mut self,
        outer: &DataFrame,
        query: &ast::Query,
        error: EngineError,
    ) -> Result<Matching> {
        let query = self.without_positive_limit(query)?;
        let (rows, on) = if groups(&query) {
            let g = self
                .correlated_groups(outer, &query)
                .map_err(|e| decorrelation_error(error, e))?;
            (g.rows, g.on)
        } else {
            let c = self
                .correlated(outer, &query)
                .map_err(|e| decorrelation_error(error, e))?;
            let on = all_of(c.conditions).ok_or_else(unsupported_correlation)?;
            (c.inner, on)
        };
        Ok(Matching::new(rows, on, outer, None))
    }

    /// The rows of a correlated `IN` subquery and the condition an outer
    /// row's values (one, or a tuple's) meet with one of them.
    fn correlated_in(
        &mut self,
        outer: &DataFrame,
        values: Vec<Expr>,
        query: &ast::Query,
        negated: bool,
        error: EngineError,
    ) -> Result<Matching> {
        let (rows, items, conditions) = if groups(query) {
            let g = self
                .correlated_groups(outer, query)
                .map_err(|e| decorrelation_error(error, e))?;
            (g.rows, g.items, vec![g.on])
        } else {
            let c = self
                .correlated(outer, query)
                .map_err(|e| decorrelation_error(error, e))?;
            let items = select_items(c.select)?
                .into_iter()
                .map(|item| Ok(tie_to(self.expr(item)?, &c.inner)))
                .collect::<Result<Vec<_>>>()?;
            (c.inner, items, c.conditions)
        };
        let correlation = all_of(conditions).ok_or_else(unsupported_correlation)?;
        let matched = in_match(values, items, negated)?;
        Ok(Matching::new(rows, correlation, outer, Some(matched)))
    }

    /// `value [NOT] IN (subquery)` without correlation. `NOT IN` follows
    /// SQL's null rules: no row passes when the subquery yields a null, and
    /// a null value passes only when the subquery is empty. A tuple's
    /// values are matched by a semi or null-aware anti join.
    fn uncorrelated_in(
        &mut self,
        outer: DataFrame,
        values: Vec<Expr>,
        inner: &DataFrame,
        negated: bool,
    ) -> Result<DataFrame> {
        let items = output_items(inner);
        let ([value], [item]) = (values.as_slice(), items.as_slice()) else {
            let kind = match negated {
                true => JoinKind::LeftAnti,
                false => JoinKind::LeftSemi,
            };
            let on = in_match(values, items, negated)?;
            return outer.join(inner, JoinOn::Condition(on), kind);
        };
        let (value, item) = (value.clone(), item.clone());
        if !negated {
            return outer.join(inner, JoinOn::Condition(value.eq(item)), JoinKind::LeftSemi);
        }
        let stats = inner.aggregate(
            vec![],
            vec![
                func("count", vec![lit(1)]).alias("__in_rows"),
                func("count", vec![item.clone()]).alias("__in_values"),
            ],
        )?;
        let counted = outer.join(&stats, JoinOn::Nothing, JoinKind::Cross)?;
        let rows = Expr::Column {
            name: "__in_rows".into(),
            plan_id: Some(stats.id()),
        };
        let values = Expr::Column {
            name: "__in_values".into(),
            plan_id: Some(stats.id()),
        };
        let passes = rows.clone().eq(lit(0i64)).binary(
            BinaryOp::Or,
            Expr::Unary(UnaryOp::IsNotNull, Box::new(value.clone())).and(rows.eq(values)),
        );
        counted
            .filter(passes)?
            .join(inner, JoinOn::Condition(value.eq(item)), JoinKind::LeftAnti)
    }

    /// An expression over correlated scalar subqueries: each subquery's
    /// value per outer row, left-joined to `outer`, stands in for it. An
    /// aggregate over equalities is grouped by their inner sides (Spark's
    /// decorrelation); with any other correlation, by the distinct values
    /// of the outer columns it reads, matched by the whole condition; a
    /// subquery with `GROUP BY` by its groups. An outer row without partners
    /// gets the aggregate of no rows (`count` is 0, Spark's count-bug rule).
    pub(super) fn correlated_scalar(
        &mut self,
        outer: &DataFrame,
        condition: &ast::Expr,
    ) -> Result<CorrelatedScalars> {
        let (lowered, pending) = self.exprs.lower_with_subqueries(condition);
        let lowered = lowered?;
        let mut df = outer.clone();
        let mut values = Vec::new();
        let mut outer_columns: Vec<String> = Vec::new();
        let mut note_outer = |on: &Expr| note_outer_columns(on, outer, &mut outer_columns);
        for (n, query) in pending.iter().enumerate() {
            if groups(query) {
                let g = self.correlated_groups(outer, query)?;
                note_outer(&g.on);
                df = df.join(&g.rows, JoinOn::Condition(g.on), JoinKind::Left)?;
                values.push(
                    g.items
                        .first()
                        .cloned()
                        .ok_or_else(unsupported_correlation)?,
                );
                continue;
            }
            let c = self.correlated(outer, query)?;
            let item = tie_to(self.expr(single_item(c.select)?)?, &c.inner);
            // A value not aggregated is the one row each outer value has.
            let c = if c.per_outer_value.is_empty() && !item.contains_aggregate() {
                c.per_outer_value(outer)?
            } else {
                c
            };
            if !c.per_outer_value.is_empty() {
                let one_row = self.row_range(query)?.and_then(|r| r.take) == Some(1);
                let (grouped, on) = scalar_per_outer_value(&c, &item, one_row, n)?;
                let on = all_of(on).ok_or_else(unsupported_correlation)?;
                note_outer(&on);
                df = df.join(&grouped, JoinOn::Condition(on), JoinKind::Left)?;
                let value = grouped.col(&format!("__sq{n}_value"))?;
                let empty = match item.contains_aggregate() {
                    true => empty_aggregate(&c.inner, &item)?,
                    false => None,
                };
                values.push(match empty {
                    Some(empty) => func("coalesce", vec![value, lit(empty)]),
                    None => value,
                });
                continue;
            }
            let equalities: Option<Vec<(Expr, Expr)>> = c
                .conditions
                .iter()
                .map(|condition| equality_sides(condition, &c.inner))
                .collect();
            let (grouped, on) = match equalities {
                Some(sides) => {
                    let keys = (0..sides.len()).map(|i| format!("__sq{n}_key{i}"));
                    let inner = self.only_outer_keys(outer, &c.inner, &sides, n)?;
                    let grouped = inner.aggregate(
                        sides
                            .iter()
                            .zip(keys.clone())
                            .map(|((inner_side, _), key)| inner_side.clone().alias(&key))
                            .collect(),
                        vec![item.clone().alias(&format!("__sq{n}_value"))],
                    )?;
                    let on = sides
                        .into_iter()
                        .zip(keys)
                        .map(|((_, outer_side), key)| Ok(outer_side.eq(grouped.col(&key)?)))
                        .collect::<Result<_>>()?;
                    (grouped, on)
                }
                None => self.grouped_by_outer_values(outer, &c, &item, n)?,
            };
            let on = all_of(on).ok_or_else(unsupported_correlation)?;
            note_outer(&on);
            df = df.join(&grouped, JoinOn::Condition(on), JoinKind::Left)?;
            let value = grouped.col(&format!("__sq{n}_value"))?;
            values.push(match empty_aggregate(&c.inner, &item)? {
                Some(empty) => func("coalesce", vec![value, lit(empty)]),
                None => value,
            });
        }
        Ok(CorrelatedScalars {
            joined: df,
            expr: substitute_scalars(tie_to(lowered, outer), &values),
            outer_columns,
        })
    }

    /// A correlated aggregate whose conditions are not all equalities
    /// (`s_nationkey < n_nationkey`): the distinct values of the outer
    /// columns the conditions read, paired with the inner rows meeting them,
    /// aggregated per value. Returns the groups and the equalities joining
    /// them back to the outer rows. A null outer value meets no inner row,
    /// as it would in the subquery, and its outer rows join no group.
    fn grouped_by_outer_values(
        &mut self,
        outer: &DataFrame,
        c: &Correlated<'_>,
        item: &Expr,
        n: usize,
    ) -> Result<(DataFrame, Vec<Expr>)> {
        let (pairs, values) = outer_value_pairs(outer, &c.inner, &c.conditions)?;
        let grouped = pairs.aggregate(
            values
                .iter()
                .map(|(_, name)| pairs.col(name))
                .collect::<Result<_>>()?,
            vec![item.clone().alias(&format!("__sq{n}_value"))],
        )?;
        let on = values
            .into_iter()
            .map(|(r, name)| Ok(r.eq(grouped.col(&name)?)))
            .collect::<Result<_>>()?;
        Ok((grouped, on))
    }
}

/// The distinct values of the outer columns `conditions` read, each paired
/// with the inner rows meeting the conditions for it; with each outer
/// column, the name of the pairs' column holding its value. A null outer
/// value pairs with the rows the conditions accept for null.
fn outer_value_pairs(
    outer: &DataFrame,
    inner: &DataFrame,
    conditions: &[Expr],
) -> Result<(DataFrame, Vec<(Expr, String)>)> {
    let mut referenced: Vec<Expr> = Vec::new();
    for condition in conditions {
        condition.walk(&mut |e| {
            if matches!(e, Expr::Column { plan_id: Some(id), .. } if *id == outer.id())
                && !referenced.iter().any(|r| r.same_as(e))
            {
                referenced.push(e.clone());
            }
        });
    }
    let names: Vec<String> = (0..referenced.len())
        .map(|j| format!("__sq{}_outer{j}", inner.id()))
        .collect();
    let values = outer
        .select(
            referenced
                .iter()
                .zip(&names)
                .map(|(r, name)| r.clone().alias(name))
                .collect(),
        )?
        .distinct();
    let value_columns = names
        .iter()
        .map(|name| values.col(name))
        .collect::<Result<Vec<_>>>()?;
    let condition = all_of(conditions.to_vec())
        .ok_or_else(unsupported_correlation)?
        .transform_down(&mut |node| {
            let j = referenced.iter().position(|r| r.same_as(node))?;
            Some(value_columns[j].clone())
        });
    let pairs = values.join(inner, JoinOn::Condition(condition), JoinKind::Inner)?;
    Ok((pairs, referenced.into_iter().zip(names).collect()))
}

/// A correlated scalar subquery's value per outer value: its aggregate over
/// the rows each value keeps, or, not aggregated, its one row. Spark checks
/// for a second row when it runs the subquery; here a value with two rows
/// fails the analysis, as an uncorrelated scalar subquery's second row
/// does (`one_row` skips the check under `LIMIT 1`). Returns the values and
/// the conditions joining them to the outer rows.
fn scalar_per_outer_value(
    c: &Correlated<'_>,
    item: &Expr,
    one_row: bool,
    n: usize,
) -> Result<(DataFrame, Vec<Expr>)> {
    let keys = c
        .per_outer_value
        .iter()
        .map(|(_, name)| c.inner.col(name))
        .collect::<Result<Vec<_>>>()?;
    let value = item.clone().alias(&format!("__sq{n}_value"));
    let grouped = if item.contains_aggregate() {
        c.inner.aggregate(keys, vec![value])?
    } else {
        if !one_row {
            let rows = format!("__sq{n}_rows");
            let count = func("count", vec![lit(1i32)]).alias(&rows);
            let counted = c.inner.aggregate(keys.clone(), vec![count])?;
            let repeated = counted.filter(counted.col(&rows)?.gt(lit(1i64)))?;
            if !repeated.limit(1).collect()?.is_empty() {
                return Err(EngineError::spark(
                    "SCALAR_SUBQUERY_TOO_MANY_ROWS",
                    "More than one row returned by a subquery used as an expression.",
                ));
            }
        }
        c.inner.select(keys.into_iter().chain([value]).collect())?
    };
    let on = null_safe_equalities(&c.per_outer_value, &grouped)?;
    Ok((grouped, on))
}

/// What an aggregate expression gives over no rows, when that is not null
/// (`count(*)` is 0): the value an outer row without partners must get.
/// Aggregates that are null over no rows, and arithmetic on them, need no
/// query; anything else asks `inner` with no rows.
fn empty_aggregate(inner: &DataFrame, item: &Expr) -> Result<Option<Value>> {
    fn null_on_empty(e: &Expr) -> bool {
        match e {
            Expr::Function { name, .. } => matches!(
                name.to_ascii_lowercase().as_str(),
                "sum"
                    | "avg"
                    | "mean"
                    | "min"
                    | "max"
                    | "first"
                    | "last"
                    | "first_value"
                    | "last_value"
                    | "any_value"
                    | "stddev"
                    | "stddev_samp"
                    | "stddev_pop"
                    | "variance"
                    | "var_samp"
                    | "var_pop"
                    | "skewness"
                    | "kurtosis"
                    | "median"
                    | "percentile"
                    | "percentile_approx"
                    | "max_by"
                    | "min_by"
            ),
            Expr::Binary(op, l, r) if op.is_arithmetic() => null_on_empty(l) || null_on_empty(r),
            Expr::Alias(inner, _) | Expr::Cast(inner, _) => null_on_empty(inner),
            _ => false,
        }
    }
    if null_on_empty(item) {
        return Ok(None);
    }
    let rows = inner
        .limit(0)
        .aggregate(vec![], vec![item.clone()])?
        .collect()?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next())
        .filter(|v| !matches!(v, Value::Null)))
}

/// Columns of `expr` not tied to a DataFrame yet are tied to `df`.
fn tie_to(expr: Expr, df: &DataFrame) -> Expr {
    expr.transform_down(&mut |node| match node {
        Expr::Column {
            name,
            plan_id: None,
        } if !is_scalar_subquery(name) => Some(Expr::Column {
            name: name.clone(),
            plan_id: Some(df.id()),
        }),
        _ => None,
    })
}

/// Placeholders of scalar subqueries replaced by their values.
fn substitute_scalars(expr: Expr, values: &[Expr]) -> Expr {
    expr.transform_down(&mut |node| match node {
        Expr::Column { name, .. } => values
            .iter()
            .enumerate()
            .find(|(i, _)| *name == scalar_subquery(*i))
            .map(|(_, v)| v.clone()),
        _ => None,
    })
}

impl QueryLowering<'_> {
    /// The inner rows whose correlation keys some outer row has, so the
    /// aggregate groups only the keys the outer query asks about (a "magic
    /// set": TPC-H's Q17 averages 6k lineitems instead of 6M). The keys
    /// come from the one FROM table that has them all when there is one (a
    /// superset of the outer rows' keys, since joins and filters only drop
    /// rows), else from the outer query itself, and only from an input
    /// cheap to run twice; otherwise the inner rows stay as they are.
    fn only_outer_keys(
        &self,
        outer: &DataFrame,
        inner: &DataFrame,
        sides: &[(Expr, Expr)],
        n: usize,
    ) -> Result<DataFrame> {
        let outer_sides: Vec<Expr> = sides.iter().map(|(_, o)| o.clone()).collect();
        let has_keys = |table: &DataFrame| {
            outer_sides
                .iter()
                .all(|e| tables_read(e, std::slice::from_ref(table)).is_some())
        };
        let owners: Vec<&DataFrame> = self
            .from_tables
            .iter()
            .filter(|t| within_rows_of(outer.plan(), t.plan()) && has_keys(t))
            .collect();
        let source = match owners.as_slice() {
            [one] => *one,
            _ => outer,
        };
        let threshold = self.session.config().broadcast_threshold();
        if !cheap_to_run_twice(source.plan(), threshold) {
            return Ok(inner.clone());
        }
        let names: Vec<String> = (0..sides.len())
            .map(|i| format!("__sq{n}_outer{i}"))
            .collect();
        let domain = source.select(
            outer_sides
                .into_iter()
                .zip(&names)
                .map(|(outer_side, name)| outer_side.alias(name))
                .collect(),
        )?;
        let on = sides
            .iter()
            .zip(&names)
            .map(|((inner_side, _), name)| Ok(inner_side.clone().eq(domain.col(name)?)))
            .collect::<Result<Vec<_>>>()?;
        let on = all_of(on).ok_or_else(unsupported_correlation)?;
        inner.join(&domain, JoinOn::Condition(on), JoinKind::LeftSemi)
    }
}

/// True when `table` is `plan` or feeds it through joins, filters and
/// projections only, so every value of its columns in `plan` is one of its own.
fn within_rows_of(plan: &Plan, table: &Plan) -> bool {
    if std::ptr::eq(plan, table) {
        return true;
    }
    match &plan.node {
        LogicalPlan::Project { input, .. } | LogicalPlan::Filter { input, .. } => {
            within_rows_of(input, table)
        }
        LogicalPlan::Join { left, right, .. } => {
            within_rows_of(left, table) || within_rows_of(right, table)
        }
        _ => false,
    }
}

/// Scans, filters and joins whose one side is under the broadcast
/// threshold: no shuffle, so a second run costs one more pass over the files.
fn cheap_to_run_twice(plan: &Plan, threshold: i64) -> bool {
    match &plan.node {
        LogicalPlan::Scan { .. }
        | LogicalPlan::Range { .. }
        | LogicalPlan::LocalRelation { .. } => true,
        LogicalPlan::Project { input, .. }
        | LogicalPlan::Filter { input, .. }
        | LogicalPlan::BroadcastHint { input } => cheap_to_run_twice(input, threshold),
        LogicalPlan::Join { left, right, .. } => {
            (under_broadcast_threshold(left, threshold)
                || under_broadcast_threshold(right, threshold))
                && cheap_to_run_twice(left, threshold)
                && cheap_to_run_twice(right, threshold)
        }
        _ => false,
    }
}

/// `inner_expr = outer_expr` (either way round) split into its sides.
fn equality_sides(condition: &Expr, inner: &DataFrame) -> Option<(Expr, Expr)> {
    let Expr::Binary(BinaryOp::Eq, l, r) = condition else {
        return None;
    };
    let only = |e: &Expr, id: u64| {
        let mut all = true;
        e.walk(&mut |n| {
            if let Expr::Column { plan_id, .. } = n {
                all &= *plan_id == Some(id);
            }
        });
        all
    };
    if only(l, inner.id()) && !only(r, inner.id()) {
        Some(((**l).clone(), (**r).clone()))
    } else if only(r, inner.id()) && !only(l, inner.id()) {
        Some(((**r).clone(), (**l).clone()))
    } else {
        None
    }
}

fn single_item(select: &ast::Select) -> Result<&ast::Expr> {
    match select.projection.as_slice() {
        [ast::SelectItem::UnnamedExpr(e)] | [ast::SelectItem::ExprWithAlias { expr: e, .. }] => {
            Ok(e)
        }
        _ => Err(EngineError::analysis(
            "INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN",
            "Invalid subquery: the subquery must return exactly one column.",
        )),
    }
}

fn unsupported_correlation() -> EngineError {
    EngineError::analysis(
        "UNSUPPORTED_SUBQUERY_EXPRESSION_CATEGORY.UNSUPPORTED_CORRELATED_EXPRESSION_IN_JOIN_CONDITION",
        "Kiln runs correlated subqueries of the form SELECT ... FROM ... WHERE <conditions> [GROUP BY ... [HAVING ...]] [ORDER BY ...] [LIMIT ...] (no WITH inside, no LIMIT with GROUP BY) whose correlated conditions are AND-ed; a correlated scalar subquery, or one with GROUP BY, needs equalities between its columns and the outer query's.",
    )
}

/// The error to report for a subquery that failed to lower on its own and
/// then as a correlated subquery. A column the subquery alone cannot
/// resolve is usually the outer query's, so the second attempt says more.
pub(super) fn decorrelation_error(alone: EngineError, correlated: EngineError) -> EngineError {
    match alone.error_class() {
        Some(class) if class.starts_with("UNRESOLVED_COLUMN") => correlated,
        _ => alone,
    }
}
