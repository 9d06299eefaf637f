//! `FROM a, b, c WHERE ...` planned as Spark's optimizer plans it: each
//! condition on one table filters that table before any join, the tables
//! are joined in FROM order except that a table with a join condition to
//! those already joined goes first (Spark's ReorderJoin), and among those a
//! small filtered table before the rest, so that it cuts the rows early;
//! each join takes every condition its tables satisfy, and the result
//! keeps FROM's column order.

use sqlparser::ast::{self, BinaryOperator, TableWithJoins};

use super::query::{Hints, QueryLowering};
use super::subquery::conjuncts;
use crate::dataframe::DataFrame;
use crate::error::{EngineError, Result};
use crate::exec::join::JoinKind;
use crate::expr::{BinaryOp, Expr};
use crate::plan::JoinOn;
use crate::planner::under_broadcast_threshold;

/// A lowered WHERE condition and the FROM tables it reads.
struct Condition {
    expr: Expr,
    tables: Vec<usize>,
}

/// Indices of the tables a condition reads; `None` when a column is
/// unknown or ambiguous (left to the WHERE clause to report).
pub(super) fn tables_read(expr: &Expr, tables: &[DataFrame]) -> Option<Vec<usize>> {
    let mut read = Vec::new();
    let mut known = true;
    expr.walk(&mut |e| {
        if let Expr::Column { name, plan_id } = e {
            let owners: Vec<usize> = (0..tables.len())
                .filter(|i| tables[*i].plan_schema().resolve(name, *plan_id).is_ok())
                .collect();
            match owners.as_slice() {
                [one] => {
                    if !read.contains(one) {
                        read.push(*one);
                    }
                }
                _ => known = false,
            }
        }
    });
    known.then_some(read)
}

/// The operands of a chain of `op`s (`a AND b AND c` as `[a, b, c]`).
fn flatten(e: &Expr, op: BinaryOp, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(o, l, r) if *o == op => {
            flatten(l, op, out);
            flatten(r, op, out);
        }
        other => out.push(other.clone()),
    }
}

/// What a disjunction over several tables demands of one of them:
/// `(n1 = 'A' AND n2 = 'B') OR (n1 = 'B' AND n2 = 'A')` implies
/// `n1 = 'A' OR n1 = 'B'` for `n1`, which can filter it before any join
/// (Spark's PushExtraPredicateThroughJoin). `None` when some branch says
/// nothing about the table alone.
fn implied_for_table(expr: &Expr, table: usize, tables: &[DataFrame]) -> Option<Expr> {
    let mut branches = Vec::new();
    flatten(expr, BinaryOp::Or, &mut branches);
    if branches.len() < 2 {
        return None;
    }
    branches
        .iter()
        .map(|branch| {
            let mut parts = Vec::new();
            flatten(branch, BinaryOp::And, &mut parts);
            parts
                .into_iter()
                .filter(|p| tables_read(p, tables).is_some_and(|read| read == [table]))
                .reduce(|a, b| a.and(b))
        })
        .collect::<Option<Vec<Expr>>>()?
        .into_iter()
        .reduce(|a, b| a.binary(BinaryOp::Or, b))
}

/// `(a AND b) OR (a AND c)` as `a AND (b OR c)`, so a join condition
/// repeated in every branch can drive the join (Spark's BooleanSimplification).
fn factor_common(expr: Expr) -> Vec<Expr> {
    let mut branches = Vec::new();
    flatten(&expr, BinaryOp::Or, &mut branches);
    if branches.len() < 2 {
        let mut out = Vec::new();
        flatten(&expr, BinaryOp::And, &mut out);
        return out;
    }
    let split: Vec<Vec<Expr>> = branches
        .iter()
        .map(|b| {
            let mut out = Vec::new();
            flatten(b, BinaryOp::And, &mut out);
            out
        })
        .collect();
    let common: Vec<Expr> = split[0]
        .iter()
        .filter(|c| split[1..].iter().all(|b| b.iter().any(|x| x.same_as(c))))
        .cloned()
        .collect();
    if common.is_empty() {
        return vec![expr];
    }
    let rest = split
        .into_iter()
        .map(|b| {
            b.into_iter()
                .filter(|x| !common.iter().any(|c| c.same_as(x)))
                .reduce(|a, b| a.and(b))
        })
        .collect::<Option<Vec<Expr>>>();
    let mut out = common;
    // A branch left empty makes the whole disjunction true.
    if let Some(rest) = rest {
        if let Some(any) = rest.into_iter().reduce(|a, b| a.binary(BinaryOp::Or, b)) {
            out.push(any);
        }
    }
    out
}

impl QueryLowering<'_> {
    /// The FROM tables joined and filtered by the WHERE clause.
    pub(super) fn relations_where(
        &mut self,
        from: &[TableWithJoins],
        selection: Option<&ast::Expr>,
        hints: &Hints,
    ) -> Result<DataFrame> {
        if from.len() == 1 || selection.is_none() {
            let input = self.from(from, hints)?;
            return match selection {
                Some(selection) => self.where_clause(input, selection),
                None => Ok(input),
            };
        }
        let tables = from
            .iter()
            .map(|t| self.table_with_joins(t, hints))
            .collect::<Result<Vec<_>>>()?;
        let conditions: Vec<ast::Expr> = selection
            .map(conjuncts)
            .unwrap_or_default()
            .into_iter()
            .cloned()
            .collect();
        self.join_tables(tables, &conditions)
    }

    /// Tables joined by the conditions that connect them, each filtered
    /// first by the conditions on it alone (subquery predicates included);
    /// other conditions with subqueries, or naming columns no table has,
    /// apply last.
    pub(super) fn join_tables(
        &mut self,
        mut tables: Vec<DataFrame>,
        conditions: &[ast::Expr],
    ) -> Result<DataFrame> {
        let mut lowered = Vec::new();
        let mut rest: Vec<ast::Expr> = Vec::new();
        for condition in conditions {
            let (expr, subqueries) = self.exprs.lower_with_subqueries(condition);
            match expr {
                Ok(expr) if subqueries.is_empty() && tables_read(&expr, &tables).is_some() => {
                    for part in factor_common(expr) {
                        match tables_read(&part, &tables) {
                            Some(read) => lowered.push(Condition {
                                expr: part,
                                tables: read,
                            }),
                            None => rest.push(condition.clone()),
                        }
                    }
                }
                _ => rest.push(condition.clone()),
            }
        }
        // Conditions on one table filter it first, and so does what a
        // condition on several implies for each of them.
        let mut joins = Vec::new();
        let mut filtered = vec![false; tables.len()];
        for condition in lowered {
            match condition.tables.as_slice() {
                [one] => {
                    tables[*one] = tables[*one].filter(condition.expr)?;
                    filtered[*one] = true;
                }
                [] => tables[0] = tables[0].filter(condition.expr)?,
                _ => joins.push(condition),
            }
        }
        for condition in &joins {
            for &table in &condition.tables {
                if let Some(implied) = implied_for_table(&condition.expr, table, &tables) {
                    tables[table] = tables[table].filter(implied)?;
                    filtered[table] = true;
                }
            }
        }
        let mut late = Vec::new();
        for condition in rest {
            match self.one_table_predicate(&tables, &condition) {
                Some((table, narrowed)) => {
                    tables[table] = narrowed;
                    filtered[table] = true;
                }
                None => late.push(condition),
            }
        }
        let threshold = self.session.config().broadcast_threshold();
        let selective: Vec<bool> = (0..tables.len())
            .map(|t| filtered[t] && under_broadcast_threshold(tables[t].plan(), threshold))
            .collect();
        let widths: Vec<usize> = tables.iter().map(|t| t.columns().len()).collect();
        let mut order = vec![0];
        let mut joined = tables[0].clone();
        let mut remaining: Vec<usize> = (1..tables.len()).collect();
        while !remaining.is_empty() {
            let connected = |t: usize, c: &Condition| {
                c.tables.contains(&t) && c.tables.iter().all(|x| *x == t || order.contains(x))
            };
            let joinable = |t: usize| joins.iter().any(|c| connected(t, c));
            let pick = remaining
                .iter()
                .position(|t| selective[*t] && joinable(*t))
                .or_else(|| remaining.iter().position(|t| joinable(*t)))
                .unwrap_or(0);
            let next = remaining.remove(pick);
            let (now, later): (Vec<Condition>, Vec<Condition>) =
                joins.into_iter().partition(|c| connected(next, c));
            joins = later;
            let on = now.into_iter().map(|c| c.expr).reduce(|a, b| a.and(b));
            joined = match on {
                Some(on) => joined.join(&tables[next], JoinOn::Condition(on), JoinKind::Inner)?,
                None => joined.join(&tables[next], JoinOn::Nothing, JoinKind::Cross)?,
            };
            order.push(next);
        }
        // Back to FROM's column order.
        let mut offsets = vec![0; tables.len()];
        let mut at = 0;
        for t in &order {
            offsets[*t] = at;
            at += widths[*t];
        }
        let columns = (0..tables.len())
            .flat_map(|t| (0..widths[t]).map(move |j| (t, j)))
            .map(|(t, j)| {
                joined
                    .column_at(offsets[t] + j)
                    .ok_or_else(|| EngineError::Internal("joined column missing".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        let joined = joined.select(columns)?;
        match late.into_iter().reduce(|a, b| ast::Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        }) {
            Some(rest) => {
                let outer = std::mem::replace(&mut self.from_tables, tables);
                let filtered = self.where_clause(joined, &rest);
                self.from_tables = outer;
                filtered
            }
            None => Ok(joined),
        }
    }
}
