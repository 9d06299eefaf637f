//! Counts of values read from a group's row count where a frame has no
//! nulls. `sum` and `avg` keep a count of non-null values beside their sum
//! (Spark's sum of only nulls is null), so a report of ten sums makes ten
//! passes counting values; over a column without nulls each count is the
//! group's row count, which one pass gives for all of them.

use polars::prelude::{self as pl, AggExpr, DataFrame};

use super::pipeline::{output_name, Step};

/// The columns known to hold no null at a point of a pipeline over one frame.
#[derive(Default)]
pub(crate) struct NullFree(Vec<pl::PlSmallStr>);

/// An aggregation rewritten to count rows once: the aggregates to compute
/// and the outputs to select from them, in the original order.
pub(crate) struct RowCounted {
    pub aggregates: Vec<pl::Expr>,
    pub outputs: Vec<pl::Expr>,
}

/// The row count's column, dropped by the `outputs` select.
const GROUP_ROWS: &str = "__kiln_count_rows";

impl NullFree {
    /// The columns of `frame` without nulls.
    pub fn of(frame: &DataFrame) -> NullFree {
        NullFree(
            frame
                .columns()
                .iter()
                .filter(|c| c.null_count() == 0)
                .map(|c| c.name().clone())
                .collect(),
        )
    }

    /// Updates the columns for the output of `step`: plain column
    /// references carry their input's property, anything else is unknown.
    pub fn follow(&mut self, step: &Step) {
        match step {
            Step::Select(exprs) => {
                self.0 = exprs.iter().filter_map(|e| self.passed_on(e)).collect();
            }
            Step::WithColumns(exprs) => {
                let passed: Vec<_> = exprs.iter().map(|e| self.passed_on(e)).collect();
                for (expr, passed) in exprs.iter().zip(passed) {
                    match expr {
                        pl::Expr::Alias(_, name) | pl::Expr::Column(name) => {
                            self.0.retain(|n| n != name)
                        }
                        _ => {
                            self.0.clear();
                            return;
                        }
                    }
                    self.0.extend(passed);
                }
            }
            Step::Filter(_) | Step::Limit(_) | Step::Sort { .. } => {}
            Step::Aggregate { .. } | Step::PartialAggregate { .. } => self.0.clear(),
        }
    }

    /// The output name of `expr` when it is a null-free column, maybe renamed.
    fn passed_on(&self, expr: &pl::Expr) -> Option<pl::PlSmallStr> {
        match expr {
            pl::Expr::Column(name) => self.0.contains(name).then(|| name.clone()),
            pl::Expr::Alias(inner, name) => match inner.as_ref() {
                pl::Expr::Column(source) if self.0.contains(source) => Some(name.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// `aggregates` grouped by `keys` with every count of a null-free
    /// column read from one row count; `None` when no count qualifies or an
    /// output has no plain name.
    pub fn row_counted(&self, keys: &[pl::Expr], aggregates: &[pl::Expr]) -> Option<RowCounted> {
        let counted: Vec<bool> = aggregates.iter().map(|a| self.counts_rows(a)).collect();
        if !counted.iter().any(|&c| c) {
            return None;
        }
        let mut outputs = keys
            .iter()
            .map(|k| Some(pl::col(output_name(k)?)))
            .collect::<Option<Vec<_>>>()?;
        let mut kept = Vec::new();
        for (agg, counted) in aggregates.iter().zip(counted) {
            let pl::Expr::Alias(inner, name) = agg else {
                return None;
            };
            if counted {
                outputs.push(from_rows(inner).alias(name.clone()));
            } else {
                kept.push(agg.clone());
                outputs.push(pl::col(name.clone()));
            }
        }
        kept.push(pl::len().alias(GROUP_ROWS));
        Some(RowCounted {
            aggregates: kept,
            outputs,
        })
    }

    /// Whether `agg` is `count(column)`, maybe cast, over a null-free column.
    fn counts_rows(&self, agg: &pl::Expr) -> bool {
        let pl::Expr::Alias(inner, _) = agg else {
            return false;
        };
        let count = match inner.as_ref() {
            pl::Expr::Cast { expr, .. } => expr.as_ref(),
            other => other,
        };
        matches!(
            count,
            pl::Expr::Agg(AggExpr::Count { input, include_nulls: false })
                if matches!(input.as_ref(), pl::Expr::Column(name) if self.0.contains(name))
        )
    }
}

/// A count (maybe cast) with the row count in place of the count.
fn from_rows(count: &pl::Expr) -> pl::Expr {
    match count {
        pl::Expr::Cast { dtype, options, .. } => pl::Expr::Cast {
            expr: std::sync::Arc::new(pl::col(GROUP_ROWS)),
            dtype: dtype.clone(),
            options: *options,
        },
        _ => pl::col(GROUP_ROWS),
    }
}
