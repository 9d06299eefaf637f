//! SQL queries → DataFrames, through the same methods the DataFrame API
//! calls, so a query and its PySpark twin build the same plan. Follows Spark's
//! analyzer where SQL differs from the API: `GROUP BY` ordinals and select
//! aliases, `HAVING` and `ORDER BY` over aggregates and aliases, hidden sort
//! columns, and hints.

use std::collections::HashMap;

use sqlparser::ast::{
    self, FunctionArg, FunctionArgExpr, GroupByExpr, JoinConstraint, JoinOperator, LimitClause,
    OrderByKind, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier,
    TableFactor, TableWithJoins,
};

use super::expr::ExprLowering;
use super::parser::object_name;
use crate::dataframe::{DataFrame, SetOperation};
use crate::error::{EngineError, Result};
use crate::exec::join::JoinKind;
use crate::expr::{col, lit, BinaryOp, Expr};
use crate::pivot::{pivot_aggregates, PivotValue};
use crate::plan::JoinOn;
use crate::session::Session;
use crate::value::Value;

/// Lowers the queries of one statement; CTEs are visible in their scope.
pub struct QueryLowering<'a> {
    pub session: &'a Session,
    pub exprs: ExprLowering<'a>,
    ctes: Vec<HashMap<String, DataFrame>>,
    /// The filtered FROM tables of the query whose WHERE clause is being
    /// lowered: where a correlated subquery finds its outer keys cheaply.
    pub(super) from_tables: Vec<DataFrame>,
}

/// One `SELECT` list entry after lowering.
struct Item {
    expr: Expr,
    /// The user's alias, if any.
    alias: Option<String>,
}

impl Item {
    fn name(&self) -> String {
        self.alias
            .clone()
            .unwrap_or_else(|| self.expr.output_name())
    }

    fn output(&self) -> Expr {
        match &self.alias {
            Some(a) => self.expr.clone().alias(a),
            None => self.expr.clone(),
        }
    }
}

/// Hints of one `SELECT`, split by where they apply.
#[derive(Default)]
pub(super) struct Hints {
    broadcast: Vec<String>,
    /// Applied to the `SELECT`'s result, in order.
    partitioning: Vec<(String, Vec<ast::Expr>)>,
}

impl<'a> QueryLowering<'a> {
    pub fn new(session: &'a Session, exprs: ExprLowering<'a>) -> Self {
        QueryLowering {
            session,
            exprs,
            ctes: Vec::new(),
            from_tables: Vec::new(),
        }
    }

    pub fn query(&mut self, query: &ast::Query) -> Result<DataFrame> {
        let scoped = query.with.is_some();
        if let Some(with) = &query.with {
            let mut scope = HashMap::new();
            self.ctes.push(HashMap::new());
            for cte in &with.cte_tables {
                let df = self.query(&cte.query)?;
                let df = rename_columns(df, &cte.alias)?;
                let name = cte.alias.name.value.to_ascii_lowercase();
                scope.insert(name.clone(), df.clone());
                if let Some(top) = self.ctes.last_mut() {
                    top.insert(name, df);
                }
            }
        }
        let result = self.query_body(query);
        if scoped {
            self.ctes.pop();
        }
        result
    }

    fn query_body(&mut self, query: &ast::Query) -> Result<DataFrame> {
        let order_by: Vec<ast::OrderByExpr> = match &query.order_by {
            Some(order) => match &order.kind {
                OrderByKind::Expressions(exprs) => exprs.clone(),
                OrderByKind::All(_) => return Err(unsupported("ORDER BY ALL")),
            },
            None => Vec::new(),
        };
        let mut df = match query.body.as_ref() {
            SetExpr::Select(select) => self.select(select, &order_by)?,
            other => {
                let df = self.set_expr(other)?;
                if order_by.is_empty() {
                    df
                } else {
                    let keys = order_by
                        .iter()
                        .map(|o| self.output_sort_key(&df, o))
                        .collect::<Result<Vec<_>>>()?;
                    df.order_by(keys)?
                }
            }
        };
        if let Some(limit) = &query.limit_clause {
            let (limit, offset) = match limit {
                LimitClause::LimitOffset { limit, offset, .. } => {
                    (limit.clone(), offset.as_ref().map(|o| o.value.clone()))
                }
                LimitClause::OffsetCommaLimit { offset, limit } => {
                    (Some(limit.clone()), Some(offset.clone()))
                }
            };
            if let Some(offset) = offset {
                df = df.offset(self.non_negative(&offset, "OFFSET")?);
            }
            if let Some(limit) = limit {
                df = df.limit(self.non_negative(&limit, "LIMIT")?);
            }
        }
        Ok(df)
    }

    pub(super) fn non_negative(&self, expr: &ast::Expr, clause: &str) -> Result<usize> {
        match self.exprs.lower(expr)? {
            Expr::Literal(Value::Integer(n)) if n >= 0 => Ok(n as usize),
            Expr::Literal(Value::Long(n)) if n >= 0 => Ok(n as usize),
            other => Err(EngineError::analysis(
                "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
                format!(
                    "The limit like expression \"{other}\" is invalid. The {clause} expression must be equal to or greater than 0."
                ),
            )),
        }
    }

    fn set_expr(&mut self, body: &SetExpr) -> Result<DataFrame> {
        match body {
            SetExpr::Select(select) => self.select(select, &[]),
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (left, right) = (self.set_expr(left)?, self.set_expr(right)?);
                let all = matches!(set_quantifier, SetQuantifier::All);
                match (op, set_quantifier) {
                    (SetOperator::Union, SetQuantifier::ByName | SetQuantifier::AllByName) => {
                        left.union_by_name(&right, false)
                    }
                    (SetOperator::Union, SetQuantifier::DistinctByName) => {
                        Ok(left.union_by_name(&right, false)?.distinct())
                    }
                    (SetOperator::Union, _) if all => left.union(&right),
                    (SetOperator::Union, _) => Ok(left.union(&right)?.distinct()),
                    (SetOperator::Intersect, _) => {
                        left.set_operation(&right, SetOperation::Intersect, all)
                    }
                    (SetOperator::Except | SetOperator::Minus, _) => {
                        left.set_operation(&right, SetOperation::Except, all)
                    }
                }
            }
            SetExpr::Values(values) => self.values(values),
            SetExpr::Table(table) => {
                let name = table
                    .table_name
                    .clone()
                    .ok_or_else(|| unsupported("TABLE without a name"))?;
                self.relation(&ast::ObjectName::from(vec![ast::Ident::new(name)]))
            }
            other => Err(unsupported(&format!("the statement {other}"))),
        }
    }

    /// `VALUES (1, 'a'), (2, CAST(2.5 AS DECIMAL(4,2)))`: columns `col1`,
    /// `col2`, ... as Spark names them; each entry is evaluated on one row.
    /// The rows are cut into partitions as Spark's local table scan cuts
    /// them (as many as the session's parallelism, at most one per row),
    /// which aggregates whose last digits depend on the merge order see.
    fn values(&self, values: &ast::Values) -> Result<DataFrame> {
        let rows = values
            .rows
            .iter()
            .map(|row| row.content.iter().map(|e| self.exprs.lower(e)).collect())
            .collect::<Result<Vec<Vec<Expr>>>>()?;
        let width = rows.first().map(Vec::len).unwrap_or(0);
        let partitions = rows.len().min(self.session.parallelism()).max(1);
        let mut df = None::<DataFrame>;
        for row in rows {
            if row.len() != width {
                return Err(EngineError::analysis(
                    "INVALID_INLINE_TABLE.NUM_COLUMNS_MISMATCH",
                    "Invalid inline table. Inline table expected every row to have the same number of columns.",
                ));
            }
            let exprs = row
                .into_iter()
                .enumerate()
                .map(|(i, e)| e.alias(&format!("col{}", i + 1)))
                .collect();
            let one = self.one_row()?.select(exprs)?;
            df = Some(match df {
                Some(acc) => acc.union(&one)?,
                None => one,
            });
        }
        match df {
            Some(df) => Ok(df.coalesce(partitions)?),
            None => self.one_row(),
        }
    }

    /// Spark's `OneRowRelation`, the input of a `SELECT` without `FROM`.
    fn one_row(&self) -> Result<DataFrame> {
        let df = self.session.range(0, 1, 1, Some(1))?;
        df.select(vec![])
    }

    pub(super) fn select(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<DataFrame> {
        let outer = self
            .exprs
            .named_windows
            .replace(select.named_window.clone());
        let result = self.select_body(select, order_by);
        self.exprs.named_windows.replace(outer);
        result
    }

    fn select_body(
        &mut self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<DataFrame> {
        let hints = self.hints(select)?;
        let input = if select.from.is_empty() {
            let input = self.one_row()?;
            match &select.selection {
                Some(selection) => self.where_clause(input, selection)?,
                None => input,
            }
        } else if select.lateral_views.is_empty() {
            self.relations_where(&select.from, select.selection.as_ref(), &hints)?
        } else {
            // WHERE may read the lateral views' columns, so it comes after them.
            let mut input = self.relations_where(&select.from, None, &hints)?;
            for view in &select.lateral_views {
                input = self.lateral_view(&input, view)?;
            }
            match &select.selection {
                Some(selection) => self.where_clause(input, selection)?,
                None => input,
            }
        };
        let mut input = input;
        let mut items = self.items(&select.projection, &mut input)?;
        let qualified = match &select.qualify {
            Some(qualify) => {
                let condition = substitute_aliases(self.expr(qualify)?, &items);
                if !condition.contains_window() && !items.iter().any(|i| i.expr.contains_window()) {
                    return Err(EngineError::analysis(
                        "QUALIFY_REQUIRES_WINDOW_FUNCTION",
                        "The QUALIFY clause requires at least one window function in the SELECT column list or the QUALIFY clause.",
                    ));
                }
                // Evaluated with the list, over the same rows, as a last
                // hidden column the result is filtered by.
                items.push(Item {
                    expr: condition,
                    alias: Some(QUALIFY_COLUMN.into()),
                });
                true
            }
            None => false,
        };
        let (group_by, sets) = match &select.group_by {
            // Every item without an aggregate, by its position.
            GroupByExpr::All(_) => {
                let positions = items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| !qualified_item(item) && !item.expr.contains_aggregate())
                    .map(|(i, _)| ast::Expr::value(ast::Value::Number((i + 1).to_string(), false)))
                    .collect();
                (positions, None)
            }
            other => grouping_sets(other)?,
        };
        let having = select.having.as_ref().map(|h| self.expr(h)).transpose()?;
        let aggregating = !group_by.is_empty()
            || items.iter().any(|i| i.expr.contains_aggregate())
            || having.is_some();
        let distinct = match &select.distinct {
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(unsupported("DISTINCT ON")),
            _ => false,
        };
        let mut df = if aggregating {
            let grouping = Grouping {
                keys: &group_by,
                sets: sets.as_deref(),
            };
            self.aggregate(&input, &items, grouping, having, order_by, distinct)?
        } else {
            self.project(&input, &items, order_by, distinct)?
        };
        if qualified {
            let width = df.columns().len() - 1;
            let condition = df
                .column_at(width)
                .ok_or_else(|| EngineError::Internal("QUALIFY column missing".into()))?;
            df = visible(&df.filter(condition)?, 0, width)?;
        }
        for (name, args) in &hints.partitioning {
            df = self.partition_hint(&df, name, args)?;
        }
        // DISTRIBUTE BY hash-partitions the result as `repartition(cols)`;
        // CLUSTER BY also sorts each partition by the same keys.
        let distribute = match select.cluster_by.is_empty() {
            true => &select.distribute_by,
            false => &select.cluster_by,
        };
        if !distribute.is_empty() {
            let keys = distribute
                .iter()
                .map(|e| self.expr(e))
                .collect::<Result<Vec<_>>>()?;
            df = df.repartition(None, keys.clone())?;
            if !select.cluster_by.is_empty() {
                let ascending = keys.into_iter().map(|k| sorted(k, true, true)).collect();
                df = df.sort_within_partitions(ascending)?;
            }
        }
        if !select.sort_by.is_empty() {
            let keys = select
                .sort_by
                .iter()
                .map(|o| self.output_sort_key(&df, o))
                .collect::<Result<Vec<_>>>()?;
            df = df.sort_within_partitions(keys)?;
        }
        Ok(df)
    }

    /// `LATERAL VIEW [OUTER] explode(x) t AS a, b`: `input` with the
    /// generator's columns added under the view's name.
    fn lateral_view(&mut self, input: &DataFrame, view: &ast::LateralView) -> Result<DataFrame> {
        let mut call = self.expr(&view.lateral_view)?;
        if view.outer {
            if let Expr::Function { name, .. } = &mut call {
                if !name.to_ascii_lowercase().ends_with("_outer") {
                    name.push_str("_outer");
                }
            }
        }
        let names = (!view.lateral_col_alias.is_empty()).then(|| {
            view.lateral_col_alias
                .iter()
                .map(|i| i.value.clone())
                .collect()
        });
        input.generate(&call, names, Some(object_name(&view.lateral_view_name)))
    }

    /// The SELECT list lowered over `input`; a correlated scalar subquery
    /// in it left-joins its values to `input`.
    fn items(&mut self, projection: &[SelectItem], input: &mut DataFrame) -> Result<Vec<Item>> {
        let original = input.clone();
        let items: Vec<Vec<Item>> = projection
            .iter()
            .map(|item| {
                let (expr, alias) = match item {
                    SelectItem::UnnamedExpr(e) => self.item_expr(e, input)?,
                    SelectItem::ExprWithAlias { expr, alias } => {
                        (self.item_expr(expr, input)?.0, Some(alias.value.clone()))
                    }
                    SelectItem::ExprWithAliases { expr, aliases } => {
                        let names = aliases.iter().map(|a| a.value.clone()).collect();
                        return generated_items(input, &self.expr(expr)?, Some(names));
                    }
                    SelectItem::QualifiedWildcard(kind, _) => {
                        let qualifier = match kind {
                            SelectItemQualifiedWildcardKind::ObjectName(name) => object_name(name),
                            SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                        };
                        (Expr::Star(Some(qualifier)), None)
                    }
                    SelectItem::Wildcard(_) => (Expr::Star(None), None),
                };
                if crate::generate::generator_call(&expr).is_some() {
                    return generated_items(input, &expr, alias.map(|a| vec![a]));
                }
                Ok(vec![Item {
                    expr: crate::window::resolve_all(expr)?,
                    alias,
                }])
            })
            .collect::<Result<_>>()?;
        let items: Vec<Item> = items.into_iter().flatten().collect();
        if input.id() == original.id() {
            return Ok(items);
        }
        // `*` means the FROM's columns, not the subquery values joined to them.
        let columns = original.columns().len();
        Ok(items
            .into_iter()
            .flat_map(|item| match item.expr {
                Expr::Star(None) => (0..columns)
                    .filter_map(|i| original.column_at(i))
                    .map(|expr| Item { expr, alias: None })
                    .collect(),
                _ => vec![item],
            })
            .collect())
    }

    /// A SELECT item, with the name Spark gives a bare correlated scalar
    /// subquery (`scalarsubquery(n_nationkey)`); correlated IN and EXISTS
    /// subqueries become existence joins of `input`.
    fn item_expr(
        &mut self,
        e: &ast::Expr,
        input: &mut DataFrame,
    ) -> Result<(Expr, Option<String>)> {
        let error = match self.expr(e) {
            Ok(expr) => return Ok((expr, None)),
            Err(error) => error,
        };
        if !self.exprs.lower_with_set_subqueries(e).2.is_empty() {
            return Ok((self.expr_joining(e, input)?, None));
        }
        if self.exprs.lower_with_subqueries(e).1.is_empty() {
            return Err(error);
        }
        let scalars = self
            .correlated_scalar(input, e)
            .map_err(|e| super::subquery::decorrelation_error(error, e))?;
        *input = scalars.joined;
        let name = matches!(e, ast::Expr::Subquery(_))
            .then(|| format!("scalarsubquery({})", scalars.outer_columns.join(", ")));
        Ok((scalars.expr, name))
    }

    /// A `SELECT` without aggregates. `ORDER BY` may name select aliases,
    /// ordinals, or input columns the list leaves out (sorted on hidden columns).
    fn project(
        &self,
        input: &DataFrame,
        items: &[Item],
        order_by: &[ast::OrderByExpr],
        distinct: bool,
    ) -> Result<DataFrame> {
        let outputs: Vec<Expr> = items.iter().map(Item::output).collect();
        if order_by.is_empty() {
            let df = input.select(outputs)?;
            return Ok(if distinct { df.distinct() } else { df });
        }
        let projected = input.select(outputs.clone())?;
        let projected = if distinct {
            projected.distinct()
        } else {
            projected
        };
        let mut hidden = Vec::new();
        let mut keys = Vec::new();
        for (i, order) in order_by.iter().enumerate() {
            let (expr, ascending, nulls_first) = self.sort_spec(order)?;
            if let Some(key) = self.output_reference(&projected, items, &expr)? {
                keys.push(sorted(key, ascending, nulls_first));
                continue;
            }
            if distinct {
                return Err(EngineError::analysis(
                    "MISSING_ATTRIBUTES.RESOLVED_ATTRIBUTE_APPEAR_IN_OPERATION",
                    format!("ORDER BY {expr} must name a column of the SELECT DISTINCT list."),
                ));
            }
            let name = format!("__sort{i}");
            hidden.push(substitute_aliases(expr, items).alias(&name));
            keys.push(sorted(col(&name), ascending, nulls_first));
        }
        if hidden.is_empty() {
            return projected.order_by(keys);
        }
        let mut with_hidden = outputs;
        with_hidden.extend(hidden);
        let sorted_df = input.select(with_hidden)?.order_by(keys)?;
        visible(&sorted_df, 0, projected.columns().len())
    }

    /// A `SELECT` with `GROUP BY` or aggregates: keys by expression, ordinal or
    /// select alias; outputs, `HAVING` and `ORDER BY` over keys and aggregates.
    fn aggregate(
        &self,
        input: &DataFrame,
        items: &[Item],
        grouping: Grouping<'_>,
        having: Option<Expr>,
        order_by: &[ast::OrderByExpr],
        distinct: bool,
    ) -> Result<DataFrame> {
        // Column keys keep their names; other keys are named as Spark names them in plans.
        let mut keys = Vec::new();
        for (i, g) in grouping.keys.iter().enumerate() {
            let key = self.group_key(input, items, g)?;
            let name = match &key {
                Expr::Column { name, .. } => name.clone(),
                _ if i == 0 => "_groupingexpression".to_string(),
                _ => format!("_groupingexpression{i}"),
            };
            keys.push((key, name));
        }
        let expanded = match grouping.sets {
            Some(sets) => Some(expand(input, &keys, sets)?),
            None => None,
        };
        let key_total = keys.len();
        let grouped = |e: Expr| -> Expr {
            e.transform_down(&mut |node| {
                if expanded.is_some() {
                    if let Some(bits) = grouping_bits(node, &keys) {
                        return Some(bits);
                    }
                }
                keys.iter()
                    .find(|(k, _)| k.same_as(node))
                    .map(|(_, name)| col(name))
            })
        };
        let mut outputs = Vec::new();
        // Window functions run over the aggregated rows: the aggregates they
        // read become hidden aggregate columns, the window a later projection.
        let mut windowed = Vec::new();
        let mut hidden_aggregates = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if matches!(item.expr, Expr::Star(_)) {
                return Err(unsupported("`*` in an aggregating SELECT"));
            }
            grouping_id_mismatch(&item.expr, &keys)?;
            let expr = grouped(item.expr.clone());
            if expr.contains_window() {
                windowed.push((i, hoist_aggregates(expr, &mut hidden_aggregates)));
                outputs.push(lit(Value::Null).alias(&item.name()));
            } else {
                outputs.push(expr.alias(&item.name()));
            }
        }
        let visible_count = outputs.len();
        let mut filter = None;
        if let Some(having) = having {
            outputs.push(grouped(substitute_aliases(having, items)).alias("__having"));
            filter = Some(col("__having"));
        }
        let mut sort_keys = Vec::new();
        for (i, order) in order_by.iter().enumerate() {
            let (expr, ascending, nulls_first) = self.sort_spec(order)?;
            let position = match &expr {
                Expr::Literal(Value::Integer(n)) => Some(ordinal(*n, items.len(), "ORDER BY")?),
                Expr::Column {
                    name,
                    plan_id: None,
                } => items.iter().position(|it| {
                    it.alias
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(name))
                }),
                other => items.iter().position(|it| it.expr.same_as(other)),
            };
            let name = match position {
                Some(p) => {
                    outputs[p] = outputs[p].clone().unaliased().alias(&format!("__out{p}"));
                    format!("__out{p}")
                }
                None => {
                    let name = format!("__sort{i}");
                    outputs.push(grouped(substitute_aliases(expr, items)).alias(&name));
                    name
                }
            };
            sort_keys.push(sorted(col(&name), ascending, nulls_first));
        }
        let key_exprs: Vec<Expr> = match &expanded {
            // Grouping sets group the expanded rows by their key slots and the set's id.
            Some(_) => (0..key_total)
                .map(|i| col(&format!("__gk{i}")).alias(&keys[i].1))
                .chain(std::iter::once(col(GROUPING_ID)))
                .collect(),
            None => keys
                .iter()
                .map(|(k, n)| match k {
                    Expr::Column { .. } => k.clone(),
                    _ => k.clone().alias(n),
                })
                .collect(),
        };
        let key_count = key_exprs.len();
        outputs.extend(hidden_aggregates);
        let mut df = expanded
            .as_ref()
            .unwrap_or(input)
            .aggregate(key_exprs, outputs)?;
        if let Some(filter) = filter {
            df = df.filter(filter)?;
        }
        if !windowed.is_empty() {
            let names = df.columns();
            let mut exprs = Vec::new();
            for (j, name) in names.iter().enumerate() {
                let window = windowed
                    .iter()
                    .find(|(i, _)| key_count + i == j)
                    .map(|(_, w)| w.clone().alias(name));
                let column = df
                    .column_at(j)
                    .ok_or_else(|| EngineError::Internal("aggregate output missing".into()))?;
                exprs.push(window.unwrap_or(column));
            }
            df = df.select(exprs)?;
        }
        if distinct && !sort_keys.is_empty() {
            return Err(unsupported(
                "ORDER BY together with SELECT DISTINCT and GROUP BY",
            ));
        }
        if !sort_keys.is_empty() {
            df = df.order_by(sort_keys)?;
        }
        let mut exprs = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let column = df
                .column_at(key_count + i)
                .ok_or_else(|| EngineError::Internal("aggregate output missing".into()))?;
            exprs.push(column.unaliased().alias(&item.name()));
        }
        let df = df.select(exprs)?;
        debug_assert_eq!(df.columns().len(), visible_count);
        Ok(if distinct { df.distinct() } else { df })
    }

    /// `GROUP BY 1`, `GROUP BY alias` (when no input column has that name) or an expression.
    fn group_key(&self, input: &DataFrame, items: &[Item], g: &ast::Expr) -> Result<Expr> {
        let lowered = self.exprs.lower(g)?;
        match &lowered {
            Expr::Literal(Value::Integer(n)) => {
                let i = ordinal(*n, items.len(), "GROUP BY")?;
                let expr = items[i].expr.clone();
                if expr.contains_aggregate() {
                    return Err(EngineError::analysis(
                        "GROUP_BY_POS_AGGREGATE",
                        format!(
                            "GROUP BY {n} refers to an expression {} that contains an aggregate function. Aggregate functions are not allowed in GROUP BY.",
                            items[i].output()
                        ),
                    ));
                }
                Ok(expr)
            }
            Expr::Column {
                name,
                plan_id: None,
            } if input.col(name).is_err() => Ok(items
                .iter()
                .find(|it| {
                    it.alias
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(name))
                })
                .map(|it| it.expr.clone())
                .unwrap_or(lowered)),
            _ => Ok(lowered),
        }
    }

    fn sort_spec(&self, order: &ast::OrderByExpr) -> Result<(Expr, bool, bool)> {
        match self.exprs.sort_order(order)? {
            Expr::SortOrder {
                expr,
                ascending,
                nulls_first,
            } => Ok((*expr, ascending, nulls_first)),
            other => Ok((other, true, true)),
        }
    }

    /// An `ORDER BY` key that is a column of the projected output, if it is one.
    fn output_reference(
        &self,
        projected: &DataFrame,
        items: &[Item],
        expr: &Expr,
    ) -> Result<Option<Expr>> {
        if let Expr::Literal(Value::Integer(n)) = expr {
            let i = ordinal(*n, projected.columns().len(), "ORDER BY")?;
            return Ok(projected.column_at(i));
        }
        if let Some(i) = items.iter().position(|it| {
            matches!((&it.alias, expr), (Some(a), Expr::Column { name, plan_id: None }) if a.eq_ignore_ascii_case(name))
                || it.expr.same_as(expr)
        }) {
            if !items.iter().any(|it| matches!(it.expr, Expr::Star(_))) {
                return Ok(projected.column_at(i));
            }
        }
        if let Expr::Column { name, .. } = expr {
            if projected.col(name).is_ok() {
                return Ok(Some(expr.clone()));
            }
        }
        Ok(None)
    }

    /// `ORDER BY` over a result with no `SELECT` list of its own (set operations, `SORT BY`).
    fn output_sort_key(&self, df: &DataFrame, order: &ast::OrderByExpr) -> Result<Expr> {
        let (expr, ascending, nulls_first) = self.sort_spec(order)?;
        let key = match expr {
            Expr::Literal(Value::Integer(n)) => {
                let i = ordinal(n, df.columns().len(), "ORDER BY")?;
                df.column_at(i)
                    .ok_or_else(|| EngineError::Internal("sort column missing".into()))?
            }
            other => other,
        };
        Ok(sorted(key, ascending, nulls_first))
    }

    pub(super) fn hints(&self, select: &ast::Select) -> Result<Hints> {
        let mut hints = Hints::default();
        for hint in &select.optimizer_hints {
            for (name, args) in parse_hints(&hint.text)? {
                match name.to_ascii_uppercase().as_str() {
                    "BROADCAST" | "BROADCASTJOIN" | "MAPJOIN" => hints.broadcast.extend(
                        args.iter()
                            .map(|a| a.to_string().trim_matches('`').to_ascii_lowercase()),
                    ),
                    "REPARTITION" | "COALESCE" | "REPARTITION_BY_RANGE" | "REBALANCE" => {
                        hints.partitioning.push((name.to_ascii_uppercase(), args))
                    }
                    // Join strategy hints other than broadcast only steer
                    // Spark's choice, and Spark skips a hint it does not know.
                    _ => {}
                }
            }
        }
        Ok(hints)
    }

    fn partition_hint(&self, df: &DataFrame, name: &str, args: &[ast::Expr]) -> Result<DataFrame> {
        let mut count = None;
        let mut columns = Vec::new();
        for arg in args {
            match self.exprs.lower(arg)? {
                Expr::Literal(Value::Integer(n)) if n > 0 => count = Some(n as usize),
                Expr::Literal(other) => {
                    return Err(EngineError::analysis(
                        "INVALID_HINT_PARAMETER",
                        format!("{name} hint expects a positive partition number, got {other:?}."),
                    ))
                }
                column => columns.push(column),
            }
        }
        match name {
            "COALESCE" => match count {
                Some(n) => df.coalesce(n),
                None => Err(EngineError::analysis(
                    "INVALID_HINT_PARAMETER",
                    "COALESCE hint expects a partition number.",
                )),
            },
            "REPARTITION_BY_RANGE" => {
                let sorted = df.order_by(columns.clone())?;
                match count {
                    Some(n) => sorted.repartition(Some(n), columns),
                    None => Ok(sorted),
                }
            }
            _ => df.repartition(count, columns),
        }
    }

    pub(super) fn from(&mut self, from: &[TableWithJoins], hints: &Hints) -> Result<DataFrame> {
        let mut result: Option<DataFrame> = None;
        for table in from {
            let df = self.table_with_joins(table, hints)?;
            result = Some(match result {
                Some(left) => left.join(&df, JoinOn::Nothing, JoinKind::Cross)?,
                None => df,
            });
        }
        result.ok_or_else(|| EngineError::Internal("empty FROM".into()))
    }

    pub(super) fn table_with_joins(
        &mut self,
        table: &TableWithJoins,
        hints: &Hints,
    ) -> Result<DataFrame> {
        let mut left = self.table_factor(&table.relation, hints)?;
        for join in &table.joins {
            let right = self.table_factor(&join.relation, hints)?;
            let (kind, constraint) = match &join.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinKind::Right, c),
                JoinOperator::FullOuter(c) => (JoinKind::Full, c),
                JoinOperator::CrossJoin(c) => (JoinKind::Cross, c),
                JoinOperator::Semi(c) | JoinOperator::LeftSemi(c) => (JoinKind::LeftSemi, c),
                JoinOperator::Anti(c) | JoinOperator::LeftAnti(c) => (JoinKind::LeftAnti, c),
                JoinOperator::RightSemi(_) => return Err(unsupported("RIGHT SEMI JOIN")),
                JoinOperator::RightAnti(_) => return Err(unsupported("RIGHT ANTI JOIN")),
                _ => return Err(unsupported("this join form (Spark SQL joins are [INNER], LEFT/RIGHT/FULL [OUTER], [LEFT] SEMI, [LEFT] ANTI, CROSS and NATURAL)")),
            };
            let on = match constraint {
                JoinConstraint::On(e) => JoinOn::Condition(self.expr(e)?),
                JoinConstraint::Using(names) => {
                    JoinOn::Using(names.iter().map(object_name).collect())
                }
                JoinConstraint::None => JoinOn::Nothing,
                // The columns both sides have, in the left side's order.
                JoinConstraint::Natural => {
                    let right_columns = right.columns();
                    let common: Vec<String> = left
                        .columns()
                        .into_iter()
                        .filter(|c| right_columns.iter().any(|r| r.eq_ignore_ascii_case(c)))
                        .collect();
                    if common.is_empty() {
                        JoinOn::Nothing
                    } else {
                        JoinOn::Using(common)
                    }
                }
            };
            let kind = match (&on, kind) {
                (JoinOn::Nothing, JoinKind::Inner) => JoinKind::Cross,
                (_, kind) => kind,
            };
            left = left.join(&right, on, kind)?;
        }
        Ok(left)
    }

    fn table_factor(&mut self, factor: &TableFactor, hints: &Hints) -> Result<DataFrame> {
        let (df, alias) = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let df = match args {
                    Some(args) => self.table_function(name, &args.args)?,
                    None => self.relation(name)?,
                };
                let alias_name = alias
                    .as_ref()
                    .map(|a| a.name.value.clone())
                    .or_else(|| args.is_none().then(|| last_part(name)));
                (df, alias_name)
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let df = self.query(subquery)?;
                let df = match alias {
                    Some(a) => rename_columns(df, a)?,
                    None => df,
                };
                (df, alias.as_ref().map(|a| a.name.value.clone()))
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => (
                self.table_with_joins(table_with_joins, hints)?,
                alias.as_ref().map(|a| a.name.value.clone()),
            ),
            TableFactor::Pivot {
                table,
                aggregate_functions,
                value_column,
                value_source,
                default_on_null,
                alias,
            } => {
                if default_on_null.is_some() {
                    return Err(unsupported("PIVOT ... DEFAULT ON NULL"));
                }
                let input = self.table_factor(table, hints)?;
                let df = self.pivot(&input, aggregate_functions, value_column, value_source)?;
                (df, alias.as_ref().map(|a| a.name.value.clone()))
            }
            TableFactor::Unpivot {
                table,
                value,
                name,
                columns,
                null_inclusion,
                alias,
            } => {
                let input = self.table_factor(table, hints)?;
                let include_nulls =
                    matches!(null_inclusion, Some(ast::NullInclusion::IncludeNulls));
                let df = self.unpivot(&input, value, &name.value, columns, include_nulls)?;
                (df, alias.as_ref().map(|a| a.name.value.clone()))
            }
            other => return Err(unsupported(&format!("the relation {other}"))),
        };
        let df = match &alias {
            Some(a) => df.aliased(a),
            None => df,
        };
        let broadcast = alias
            .as_deref()
            .is_some_and(|a| hints.broadcast.contains(&a.to_ascii_lowercase()));
        Ok(if broadcast { df.broadcast_hint() } else { df })
    }

    /// `input PIVOT (aggregates FOR column IN (values))`: grouped by every
    /// input column that neither the aggregates nor the pivot column read,
    /// one column per value (and aggregate).
    fn pivot(
        &mut self,
        input: &DataFrame,
        aggregates: &[ast::ExprWithAlias],
        value_column: &[ast::Expr],
        values: &ast::PivotValueSource,
    ) -> Result<DataFrame> {
        let [column] = value_column else {
            return Err(unsupported("PIVOT over several columns"));
        };
        let column = self.expr(column)?;
        let ast::PivotValueSource::List(values) = values else {
            return Err(unsupported("PIVOT values from ANY or a subquery"));
        };
        let time_zone = self.session.config().time_zone();
        let values = values
            .iter()
            .map(|item| {
                let value = match self.expr(&item.expr)? {
                    Expr::Literal(value) => value,
                    other => {
                        return Err(EngineError::analysis(
                            "NON_LITERAL_PIVOT_VALUES",
                            format!(
                                "Literal expressions required for pivot values, found \"{other}\"."
                            ),
                        ))
                    }
                };
                let mut pivot_value = PivotValue::new(value, &time_zone);
                if let Some(alias) = &item.alias {
                    pivot_value.label = alias.value.clone();
                }
                Ok(pivot_value)
            })
            .collect::<Result<Vec<_>>>()?;
        let aggregates = aggregates
            .iter()
            .map(|item| {
                let expr = self.expr(&item.expr)?;
                if !expr.contains_aggregate() {
                    return Err(EngineError::analysis(
                        "_LEGACY_ERROR_TEMP_1006",
                        format!("Aggregate expression required for pivot, but '{expr}' did not appear in any aggregate function."),
                    ));
                }
                Ok(match &item.alias {
                    Some(alias) => expr.alias(&alias.value),
                    None => expr,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut read = std::collections::HashSet::new();
        for expr in aggregates.iter().chain([&column]) {
            expr.walk(&mut |node| {
                if let Expr::Column { .. } = node {
                    read.insert(node.output_name().to_ascii_lowercase());
                }
            });
        }
        let keys = columns_except(input, &read);
        input.aggregate(keys, pivot_aggregates(&column, &values, &aggregates))
    }

    /// `input UNPIVOT [INCLUDE NULLS] (value FOR name IN (columns))`: the
    /// columns not listed stay as ids.
    fn unpivot(
        &mut self,
        input: &DataFrame,
        value: &ast::Expr,
        name: &str,
        columns: &[ast::ExprWithAlias],
        include_nulls: bool,
    ) -> Result<DataFrame> {
        let ast::Expr::Identifier(value) = value else {
            return Err(unsupported("UNPIVOT into several value columns"));
        };
        let values = columns
            .iter()
            .map(|item| {
                let expr = self.expr(&item.expr)?;
                let label = match &item.alias {
                    Some(alias) => alias.value.clone(),
                    None => expr.output_name(),
                };
                Ok((expr, label))
            })
            .collect::<Result<Vec<_>>>()?;
        let listed: std::collections::HashSet<String> = values
            .iter()
            .map(|(expr, _)| expr.output_name().to_ascii_lowercase())
            .collect();
        let ids = columns_except(input, &listed);
        input.unpivot(ids, values, name, &value.value, include_nulls)
    }

    /// A view, a CTE, or ``format.`path` `` read directly.
    fn relation(&self, name: &ast::ObjectName) -> Result<DataFrame> {
        let full = object_name(name);
        let lower = full.to_ascii_lowercase();
        for scope in self.ctes.iter().rev() {
            if let Some(df) = scope.get(&lower) {
                return Ok(df.clone());
            }
        }
        if name.0.len() == 2 {
            let format = name.0[0].to_string().to_ascii_lowercase();
            let path = name.0[1]
                .as_ident()
                .map(|i| i.value.clone())
                .unwrap_or_else(|| name.0[1].to_string());
            if matches!(format.as_str(), "parquet" | "csv" | "json" | "orc" | "text")
                && self.session.table(&full).is_err()
            {
                return self.session.read(&format, &[path], &[], None);
            }
        }
        self.session.table(&full)
    }

    /// `range(end)`, `range(start, end[, step[, partitions]])`.
    fn table_function(&self, name: &ast::ObjectName, args: &[FunctionArg]) -> Result<DataFrame> {
        let function = object_name(name).to_ascii_lowercase();
        if function != "range" {
            return Err(EngineError::analysis(
                "UNRESOLVABLE_TABLE_VALUED_FUNCTION",
                format!("Could not resolve `{function}` to a table-valued function. Please make sure that `{function}` is defined as a table-valued function and that all required parameters are provided correctly."),
            ));
        }
        let mut values = Vec::new();
        for arg in args {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else {
                return Err(unsupported("named arguments to range"));
            };
            values.push(match self.exprs.lower(e)? {
                Expr::Literal(Value::Integer(n)) => n as i64,
                Expr::Literal(Value::Long(n)) => n,
                other => {
                    return Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                        format!("range expects integer arguments, got {other}."),
                    ))
                }
            });
        }
        let (start, end, step, partitions) = match values.as_slice() {
            [end] => (0, *end, 1, None),
            [start, end] => (*start, *end, 1, None),
            [start, end, step] => (*start, *end, *step, None),
            [start, end, step, parts] => (*start, *end, *step, Some((*parts).max(1) as usize)),
            _ => {
                return Err(EngineError::analysis(
                    "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                    format!(
                        "The `range` requires [1, 2, 3, 4] parameters but the actual number is {}.",
                        values.len()
                    ),
                ))
            }
        };
        self.session.range(start, end, step, partitions)
    }
}

/// `AS t(a, b)`: renames the relation's columns.
fn rename_columns(df: DataFrame, alias: &ast::TableAlias) -> Result<DataFrame> {
    if alias.columns.is_empty() {
        return Ok(df);
    }
    let names = df.columns();
    if names.len() != alias.columns.len() {
        return Err(EngineError::analysis(
            "ASSIGNMENT_ARITY_MISMATCH",
            format!(
                "The number of columns or variables assigned or aliased: {} does not match the number of source tuples: {}.",
                alias.columns.len(),
                names.len()
            ),
        ));
    }
    let exprs = (0..names.len())
        .map(|i| {
            df.column_at(i)
                .map(|c| c.unaliased().alias(&alias.columns[i].name.value))
                .ok_or_else(|| EngineError::Internal("column missing".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    df.select(exprs)
}

/// The first `count` columns from `start`, by position.
fn visible(df: &DataFrame, start: usize, count: usize) -> Result<DataFrame> {
    let exprs = (start..start + count)
        .map(|i| {
            df.column_at(i)
                .ok_or_else(|| EngineError::Internal("column missing".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    df.select(exprs)
}

/// Replaces references to select aliases with the aliased expressions.
fn substitute_aliases(expr: Expr, items: &[Item]) -> Expr {
    expr.transform_down(&mut |node| match node {
        Expr::Column {
            name,
            plan_id: None,
        } => items
            .iter()
            .find(|it| {
                it.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|it| it.expr.clone()),
        _ => None,
    })
}

fn ordinal(n: i32, len: usize, clause: &str) -> Result<usize> {
    if n >= 1 && (n as usize) <= len {
        Ok(n as usize - 1)
    } else {
        let class = if clause == "GROUP BY" {
            "GROUP_BY_POS_OUT_OF_RANGE"
        } else {
            "ORDER_BY_POS_OUT_OF_RANGE"
        };
        Err(EngineError::analysis(
            class,
            format!("{clause} position {n} is not in select list (valid range is [1, {len}])."),
        ))
    }
}

/// The hidden column telling which grouping set a row of an expanded input
/// belongs to: bit i (from the left) set when key i is rolled up.
const GROUPING_ID: &str = "spark_grouping_id";
/// A grouping set listed again keeps its own groups, as Spark's
/// `_gen_grouping_pos`: its id is raised by this much per earlier copy.
const REPEATED_SET: i64 = 1 << 40;

/// Key indices of each grouping set.
type GroupingSets = Vec<Vec<usize>>;

/// GROUP BY keys and, for ROLLUP, CUBE and GROUPING SETS, the key indices of each set.
struct Grouping<'k> {
    keys: &'k [ast::Expr],
    sets: Option<&'k [Vec<usize>]>,
}

/// GROUP BY's distinct key expressions and its grouping sets, if any:
/// `ROLLUP(a, b)` is `(a, b), (a), ()`, `CUBE(a, b)` is `(a, b), (a), (b), ()`,
/// and plain keys beside them are in every set.
/// The hidden last column a QUALIFY clause filters by.
const QUALIFY_COLUMN: &str = "__qualify";

/// Whether an item is the hidden column a QUALIFY clause adds.
fn qualified_item(item: &Item) -> bool {
    item.alias.as_deref() == Some(QUALIFY_COLUMN)
}

fn grouping_sets(group_by: &GroupByExpr) -> Result<(Vec<ast::Expr>, Option<GroupingSets>)> {
    let (exprs, modifiers) = match group_by {
        GroupByExpr::Expressions(exprs, modifiers) => (exprs, modifiers),
        GroupByExpr::All(_) => return Ok((Vec::new(), None)),
    };
    let mut keys: Vec<ast::Expr> = Vec::new();
    let mut index = |e: &ast::Expr| match keys.iter().position(|k| k == e) {
        Some(i) => i,
        None => {
            keys.push(e.clone());
            keys.len() - 1
        }
    };
    let mut common = Vec::new();
    let mut variable: Option<Vec<Vec<usize>>> = None;
    // Several ROLLUP, CUBE or GROUPING SETS multiply: every set of the
    // first with every set of the next, in order.
    let mut set_variable = |sets: Vec<Vec<usize>>| -> Result<()> {
        variable = Some(match variable.take() {
            None => sets,
            Some(before) => before
                .iter()
                .flat_map(|a| sets.iter().map(move |b| [a.clone(), b.clone()].concat()))
                .collect(),
        });
        Ok(())
    };
    let rollup = |groups: Vec<Vec<usize>>| -> Vec<Vec<usize>> {
        (0..=groups.len())
            .rev()
            .map(|n| groups[..n].concat())
            .collect()
    };
    let cube = |groups: Vec<Vec<usize>>| -> Vec<Vec<usize>> {
        let n = groups.len();
        (0..1usize << n)
            .rev()
            .map(|mask| {
                (0..n)
                    .filter(|i| mask & (1 << (n - 1 - i)) != 0)
                    .flat_map(|i| groups[i].clone())
                    .collect()
            })
            .collect()
    };
    for e in exprs {
        match e {
            ast::Expr::Rollup(groups) => {
                let groups = groups
                    .iter()
                    .map(|g| g.iter().map(&mut index).collect())
                    .collect();
                set_variable(rollup(groups))?;
            }
            ast::Expr::Cube(groups) => {
                let groups = groups
                    .iter()
                    .map(|g| g.iter().map(&mut index).collect())
                    .collect();
                set_variable(cube(groups))?;
            }
            ast::Expr::GroupingSets(sets) => {
                let sets = sets
                    .iter()
                    .map(|s| s.iter().map(&mut index).collect())
                    .collect();
                set_variable(sets)?;
            }
            plain => common.push(index(plain)),
        }
    }
    for modifier in modifiers {
        let groups: Vec<Vec<usize>> = std::mem::take(&mut common)
            .into_iter()
            .map(|i| vec![i])
            .collect();
        match modifier {
            ast::GroupByWithModifier::Rollup => set_variable(rollup(groups))?,
            ast::GroupByWithModifier::Cube => set_variable(cube(groups))?,
            // `GROUP BY a, b GROUPING SETS ((a), (b))`: the list names the
            // columns, the sets are the groupings.
            ast::GroupByWithModifier::GroupingSets(ast::Expr::GroupingSets(sets)) => {
                let sets = sets
                    .iter()
                    .map(|s| s.iter().map(&mut index).collect())
                    .collect();
                set_variable(sets)?
            }
            other => return Err(unsupported(&format!("GROUP BY ... {other}"))),
        }
    }
    let sets = variable.map(|sets| {
        sets.into_iter()
            .map(|set| {
                let mut all = common.clone();
                all.extend(set);
                all
            })
            .collect()
    });
    Ok((keys, sets))
}

/// The input once per grouping set, keys outside the set nulled, tagged
/// with the set's id (Spark's Expand).
fn expand(input: &DataFrame, keys: &[(Expr, String)], sets: &[Vec<usize>]) -> Result<DataFrame> {
    let n = keys.len();
    let typed = input.select(keys.iter().map(|(k, _)| k.clone()).collect())?;
    let types: Vec<_> = typed
        .schema()
        .fields
        .into_iter()
        .map(|f| f.data_type)
        .collect();
    let members: Vec<Vec<usize>> = sets
        .iter()
        .map(|set| {
            let mut members = set.clone();
            members.sort_unstable();
            members.dedup();
            members
        })
        .collect();
    let mut expanded: Option<DataFrame> = None;
    for (at, set) in sets.iter().enumerate() {
        let copies = members[..at].iter().filter(|m| **m == members[at]).count() as i64;
        let mut exprs = (0..input.columns().len())
            .map(|i| input.column_at(i))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| EngineError::Internal("input column missing".into()))?;
        let mut id = 0i64;
        for (i, (key, _)) in keys.iter().enumerate() {
            let value = if set.contains(&i) {
                key.clone()
            } else {
                id |= 1 << (n - 1 - i);
                lit(Value::Null).cast(types[i].clone())
            };
            exprs.push(value.alias(&format!("__gk{i}")));
        }
        exprs.push(lit(id + copies * REPEATED_SET).alias(GROUPING_ID));
        let part = input.select(exprs)?;
        expanded = Some(match expanded {
            Some(all) => all.union(&part)?,
            None => part,
        });
    }
    expanded.ok_or_else(|| unsupported("an empty GROUPING SETS list"))
}

/// `grouping(key)` and `grouping_id()` over the grouping set id.
/// Spark's `GROUPING_ID_COLUMN_MISMATCH` for a `grouping_id(...)` in `expr`
/// whose arguments are not the grouping columns in their order.
fn grouping_id_mismatch(expr: &Expr, keys: &[(Expr, String)]) -> Result<()> {
    let mut mismatch = None;
    expr.walk(&mut |node| {
        if let Expr::Function { name, args, .. } = node {
            let matches =
                args.len() == keys.len() && args.iter().zip(keys).all(|(a, (k, _))| a.same_as(k));
            if name.eq_ignore_ascii_case("grouping_id") && !args.is_empty() && !matches {
                let list = |items: Vec<String>| items.join(",");
                mismatch = Some(format!(
                    "Columns of grouping_id ({}) does not match grouping columns ({}).",
                    list(args.iter().map(|a| a.to_string()).collect()),
                    list(keys.iter().map(|(k, _)| k.to_string()).collect())
                ));
            }
        }
    });
    match mismatch {
        Some(message) => Err(EngineError::analysis(
            "GROUPING_ID_COLUMN_MISMATCH",
            message,
        )),
        None => Ok(()),
    }
}

fn grouping_bits(node: &Expr, keys: &[(Expr, String)]) -> Option<Expr> {
    let Expr::Function { name, args, .. } = node else {
        return None;
    };
    let n = keys.len();
    match name.to_ascii_lowercase().as_str() {
        "grouping" => {
            let [arg] = args.as_slice() else {
                return None;
            };
            let i = keys.iter().position(|(k, _)| k.same_as(arg))?;
            let shifted = col(GROUPING_ID).binary(BinaryOp::IntDivide, lit(1i64 << (n - 1 - i)));
            Some(
                shifted
                    .binary(BinaryOp::Modulo, lit(2i64))
                    .cast(crate::types::DataType::Byte),
            )
        }
        // Without arguments or with the grouping columns themselves, in
        // order (`grouping_id_mismatch` rejects any other list first).
        "grouping_id" => Some(col(GROUPING_ID).binary(BinaryOp::Modulo, lit(REPEATED_SET))),
        _ => None,
    }
}

/// `input`'s columns, in order, except those named (lower case) in `names`:
/// what PIVOT groups by and UNPIVOT keeps as ids.
fn columns_except(input: &DataFrame, names: &std::collections::HashSet<String>) -> Vec<Expr> {
    input
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, name)| !names.contains(&name.to_ascii_lowercase()))
        .filter_map(|(i, _)| input.column_at(i))
        .collect()
}

/// A generator in a SELECT list (`explode(x)`, `posexplode(m) AS (p, k, v)`):
/// it runs on `input`, and the items are the columns it adds, so each item
/// is one output column.
fn generated_items(
    input: &mut DataFrame,
    call: &Expr,
    names: Option<Vec<String>>,
) -> Result<Vec<Item>> {
    let width = input.columns().len();
    *input = input.generate(call, names, None)?;
    Ok((width..input.columns().len())
        .filter_map(|i| input.column_at(i))
        .map(|expr| Item { expr, alias: None })
        .collect())
}

/// `expr` with each aggregate call it reads (not a window's own function)
/// replaced by a hidden column whose aggregate is added to `hidden`.
fn hoist_aggregates(expr: Expr, hidden: &mut Vec<Expr>) -> Expr {
    expr.transform_down(&mut |node| match node {
        Expr::Window { function, spec } => {
            let function = match function.as_ref() {
                Expr::Function {
                    name,
                    args,
                    distinct,
                    filter,
                } => Expr::Function {
                    name: name.clone(),
                    args: args
                        .iter()
                        .map(|a| hoist_aggregates(a.clone(), hidden))
                        .collect(),
                    distinct: *distinct,
                    filter: filter.clone(),
                },
                other => other.clone(),
            };
            let spec = spec.map_exprs(&mut |e| hoist_aggregates(e, hidden));
            Some(Expr::Window {
                function: Box::new(function),
                spec: Box::new(spec),
            })
        }
        Expr::Function { name, .. } if crate::functions::is_aggregate(name) => {
            let hidden_name = format!("__agg{}", hidden.len());
            hidden.push(node.clone().alias(&hidden_name));
            Some(col(&hidden_name))
        }
        _ => None,
    })
}

fn sorted(expr: Expr, ascending: bool, nulls_first: bool) -> Expr {
    Expr::SortOrder {
        expr: Box::new(expr),
        ascending,
        nulls_first,
    }
}

fn last_part(name: &ast::ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident().map(|i| i.value.clone()))
        .unwrap_or_else(|| object_name(name))
}

/// `BROADCAST(t), REPARTITION(4, a)` → names and argument expressions.
fn parse_hints(text: &str) -> Result<Vec<(String, Vec<ast::Expr>)>> {
    let dialect = super::dialect::SparkDialect;
    let wrapped = format!("SELECT {text}");
    let statements = sqlparser::parser::Parser::parse_sql(&dialect, &wrapped).map_err(|e| {
        EngineError::spark(
            "PARSE_SYNTAX_ERROR",
            format!("Syntax error in the hint /*+ {text} */: {e}. SQLSTATE: 42601"),
        )
    })?;
    let mut hints = Vec::new();
    if let Some(ast::Statement::Query(query)) = statements.first() {
        if let SetExpr::Select(select) = query.body.as_ref() {
            for item in &select.projection {
                match item {
                    SelectItem::UnnamedExpr(ast::Expr::Function(f)) => {
                        let args = match &f.args {
                            ast::FunctionArguments::List(list) => list
                                .args
                                .iter()
                                .filter_map(|a| match a {
                                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                                        Some(e.clone())
                                    }
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        hints.push((object_name(&f.name), args));
                    }
                    SelectItem::UnnamedExpr(ast::Expr::Identifier(i)) => {
                        hints.push((i.value.clone(), Vec::new()))
                    }
                    other => {
                        return Err(EngineError::spark(
                            "PARSE_SYNTAX_ERROR",
                            format!(
                            "Syntax error in the hint /*+ {text} */ near {other}. SQLSTATE: 42601"
                        ),
                        ))
                    }
                }
            }
        }
    }
    Ok(hints)
}

fn unsupported(what: &str) -> EngineError {
    EngineError::spark(
        "UNSUPPORTED_FEATURE",
        format!("Kiln's SQL does not support {what} yet."),
    )
}
