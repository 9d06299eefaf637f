//! Logical optimization before physical planning: column pruning. Each node
//! is told which of its output columns are needed, drops projections nobody
//! reads, and file scans decode only the columns that remain.

use std::collections::HashSet;
use std::sync::Arc;

use crate::expr::Expr;
use crate::plan::{JoinOn, LogicalPlan, Partitioning, Plan, PlanSchema, SortKey};

/// Physical names of the columns an expression reads from `schema`.
pub(crate) fn references(expr: &Expr, schema: &PlanSchema, out: &mut HashSet<String>) {
    expr.walk(&mut |e| {
        if let Expr::Column { name, plan_id } = e {
            if let Ok(attr) = schema.resolve(name, *plan_id) {
                out.insert(attr.physical.clone());
            }
        }
    });
}

fn all(schema: &PlanSchema) -> HashSet<String> {
    schema.attrs.iter().map(|a| a.physical.clone()).collect()
}

/// The plan with unread columns removed; `needed = None` keeps every output column.
/// `schema`'s attributes for the columns `pruned` kept, in its order: a node
/// passing its input through keeps its own attributes (their qualifiers and
/// DataFrame ids), not the pruned child's.
fn narrowed(schema: &PlanSchema, pruned: &PlanSchema) -> PlanSchema {
    PlanSchema {
        attrs: pruned
            .attrs
            .iter()
            .map(|a| {
                schema
                    .attrs
                    .iter()
                    .find(|own| own.physical == a.physical)
                    .unwrap_or(a)
                    .clone()
            })
            .collect(),
    }
}

pub fn prune(
    plan: &Arc<Plan>,
    needed: Option<&HashSet<String>>,
    cached: &[Arc<Plan>],
) -> Arc<Plan> {
    let rebuilt = |node: LogicalPlan, schema: PlanSchema| Arc::new(Plan { node, schema });
    // A cached plan is reused whole, so it must stay as it was.
    if cached.iter().any(|c| Arc::ptr_eq(c, plan)) {
        return plan.clone();
    }
    match &plan.node {
        LogicalPlan::Project { input, exprs } => {
            let mut kept_exprs = Vec::new();
            let mut kept_attrs = Vec::new();
            for (expr, attr) in exprs.iter().zip(&plan.schema.attrs) {
                if needed.is_none_or(|n| n.contains(&attr.physical)) {
                    kept_exprs.push(expr.clone());
                    kept_attrs.push(attr.clone());
                }
            }
            // Row counts need at least one column.
            if kept_exprs.is_empty() {
                if let (Some(e), Some(a)) = (exprs.first(), plan.schema.attrs.first()) {
                    kept_exprs.push(e.clone());
                    kept_attrs.push(a.clone());
                }
            }
            let mut child_needed = HashSet::new();
            for expr in &kept_exprs {
                references(expr, &input.schema, &mut child_needed);
            }
            let input = prune(input, Some(&child_needed), cached);
            rebuilt(
                LogicalPlan::Project {
                    input,
                    exprs: kept_exprs,
                },
                PlanSchema { attrs: kept_attrs },
            )
        }
        LogicalPlan::Filter { input, predicate } => {
            let mut child_needed = needed.cloned().unwrap_or_else(|| all(&plan.schema));
            references(predicate, &input.schema, &mut child_needed);
            let input = prune(input, Some(&child_needed), cached);
            let schema = narrowed(&plan.schema, &input.schema);
            // Adjacent filters become one, so all of them reach a scan below.
            if let LogicalPlan::Filter {
                input: inner,
                predicate: first,
            } = &input.node
            {
                return rebuilt(
                    LogicalPlan::Filter {
                        input: inner.clone(),
                        predicate: first.clone().and(predicate.clone()),
                    },
                    schema,
                );
            }
            rebuilt(
                LogicalPlan::Filter {
                    input,
                    predicate: predicate.clone(),
                },
                schema,
            )
        }
        LogicalPlan::Aggregate {
            input,
            keys,
            aggregates,
        } => {
            let mut child_needed = HashSet::new();
            for e in keys.iter().chain(aggregates) {
                references(e, &input.schema, &mut child_needed);
            }
            if child_needed.is_empty() {
                // `count(*)` reads no column but needs the rows.
                if let Some(first) = input.schema.attrs.first() {
                    child_needed.insert(first.physical.clone());
                }
            }
            rebuilt(
                LogicalPlan::Aggregate {
                    input: prune(input, Some(&child_needed), cached),
                    keys: keys.clone(),
                    aggregates: aggregates.clone(),
                },
                plan.schema.clone(),
            )
        }
        LogicalPlan::Window {
            input,
            partition_by,
            order_by,
            functions,
        } => {
            let read = partition_by
                .iter()
                .chain(order_by.iter().map(|k| &k.expr))
                .chain(functions);
            prune_appending(plan, input, read, needed, cached, |input| {
                LogicalPlan::Window {
                    input,
                    partition_by: partition_by.clone(),
                    order_by: order_by.clone(),
                    functions: functions.clone(),
                }
            })
        }
        LogicalPlan::Generate {
            input,
            collection,
            generator,
        } => prune_appending(
            plan,
            input,
            std::iter::once(collection),
            needed,
            cached,
            |input| LogicalPlan::Generate {
                input,
                collection: collection.clone(),
                generator: *generator,
            },
        ),
        LogicalPlan::Sort {
            input,
            keys,
            global,
        } => {
            let mut child_needed = needed.cloned().unwrap_or_else(|| all(&plan.schema));
            for SortKey { expr, .. } in keys {
                references(expr, &input.schema, &mut child_needed);
            }
            let input = prune(input, Some(&child_needed), cached);
            let schema = narrowed(&plan.schema, &input.schema);
            rebuilt(
                LogicalPlan::Sort {
                    input,
                    keys: keys.clone(),
                    global: *global,
                },
                schema,
            )
        }
        LogicalPlan::Repartition {
            input,
            partitioning,
        } => {
            let mut child_needed = needed.cloned().unwrap_or_else(|| all(&plan.schema));
            if let Partitioning::Hash(keys, _) = partitioning {
                for key in keys {
                    references(key, &input.schema, &mut child_needed);
                }
            }
            let input = prune(input, Some(&child_needed), cached);
            let schema = narrowed(&plan.schema, &input.schema);
            rebuilt(
                LogicalPlan::Repartition {
                    input,
                    partitioning: partitioning.clone(),
                },
                schema,
            )
        }
        LogicalPlan::Limit { input, n, offset } => {
            let input = prune(input, needed, cached);
            let schema = narrowed(&plan.schema, &input.schema);
            rebuilt(
                LogicalPlan::Limit {
                    input,
                    n: *n,
                    offset: *offset,
                },
                schema,
            )
        }
        LogicalPlan::Coalesce { input, n } => {
            let input = prune(input, needed, cached);
            let schema = narrowed(&plan.schema, &input.schema);
            rebuilt(LogicalPlan::Coalesce { input, n: *n }, schema)
        }
        LogicalPlan::RowIds { input, values } => {
            prune_appending(plan, input, std::iter::empty(), needed, cached, |input| {
                LogicalPlan::RowIds {
                    input,
                    values: values.clone(),
                }
            })
        }
        LogicalPlan::BroadcastHint { input } => {
            let input = prune(input, needed, cached);
            let schema = narrowed(&plan.schema, &input.schema);
            rebuilt(LogicalPlan::BroadcastHint { input }, schema)
        }
        LogicalPlan::Union { inputs } => {
            // Keep the same positions in every input.
            let positions: Vec<usize> = (0..plan.schema.len())
                .filter(|i| needed.is_none_or(|n| n.contains(&plan.schema.attrs[*i].physical)))
                .collect();
            let positions = if positions.is_empty() {
                vec![0]
            } else {
                positions
            };
            let inputs = inputs
                .iter()
                .map(|child| {
                    let wanted: HashSet<String> = positions
                        .iter()
                        .filter_map(|i| child.schema.attrs.get(*i).map(|a| a.physical.clone()))
                        .collect();
                    let pruned = prune(child, Some(&wanted), cached);
                    select_positions(&pruned, &positions, child)
                })
                .collect();
            let schema = PlanSchema {
                attrs: positions
                    .iter()
                    .filter_map(|i| plan.schema.attrs.get(*i).cloned())
                    .collect(),
            };
            rebuilt(LogicalPlan::Union { inputs }, schema)
        }
        LogicalPlan::Scan { source } => {
            let attrs: Vec<_> = plan
                .schema
                .attrs
                .iter()
                .filter(|a| needed.is_none_or(|n| n.contains(&a.physical)))
                .cloned()
                .collect();
            let attrs = if attrs.is_empty() {
                plan.schema.attrs.iter().take(1).cloned().collect()
            } else {
                attrs
            };
            rebuilt(
                LogicalPlan::Scan {
                    source: source.clone(),
                },
                PlanSchema { attrs },
            )
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
        } => prune_join(plan, left, right, *kind, on, needed, cached),
        // Deduplication and leaves keep their columns.
        _ => plan.clone(),
    }
}

/// A join reads from each side the columns its output needs and its
/// condition uses; the output keeps its layout (USING keys, then the left's
/// other columns, then the right's) over what remains.
/// A node whose output is its input's columns then columns of its own
/// (a window, a generator), computed from `read`: the input keeps the
/// columns needed above and the ones `read` references, the node keeps all
/// of its own.
fn prune_appending<'a>(
    plan: &Arc<Plan>,
    input: &Arc<Plan>,
    read: impl Iterator<Item = &'a Expr>,
    needed: Option<&HashSet<String>>,
    cached: &[Arc<Plan>],
    node: impl FnOnce(Arc<Plan>) -> LogicalPlan,
) -> Arc<Plan> {
    let width = input.schema.len();
    let mut child_needed: HashSet<String> = input
        .schema
        .attrs
        .iter()
        .filter(|a| needed.is_none_or(|n| n.contains(&a.physical)))
        .map(|a| a.physical.clone())
        .collect();
    for e in read {
        references(e, &input.schema, &mut child_needed);
    }
    if child_needed.is_empty() {
        if let Some(first) = input.schema.attrs.first() {
            child_needed.insert(first.physical.clone());
        }
    }
    let input = prune(input, Some(&child_needed), cached);
    let kept: HashSet<&str> = input
        .schema
        .attrs
        .iter()
        .map(|a| a.physical.as_str())
        .collect();
    let attrs = plan
        .schema
        .attrs
        .iter()
        .enumerate()
        .filter(|(i, a)| *i >= width || kept.contains(a.physical.as_str()))
        .map(|(_, a)| a.clone())
        .collect();
    Arc::new(Plan {
        node: node(input),
        schema: PlanSchema { attrs },
    })
}

fn prune_join(
    plan: &Arc<Plan>,
    left: &Arc<Plan>,
    right: &Arc<Plan>,
    kind: crate::exec::join::JoinKind,
    on: &JoinOn,
    needed: Option<&HashSet<String>>,
    cached: &[Arc<Plan>],
) -> Arc<Plan> {
    use crate::exec::join::JoinKind;
    let Some(needed) = needed else {
        return plan.clone();
    };
    let using: Vec<(usize, usize)> = match on {
        JoinOn::Using(keys) => {
            let found: Option<Vec<(usize, usize)>> = keys
                .iter()
                .map(|k| {
                    Some((
                        left.schema.resolve_index(k, None).ok()?,
                        right.schema.resolve_index(k, None).ok()?,
                    ))
                })
                .collect();
            match found {
                Some(found) => found,
                None => return plan.clone(),
            }
        }
        _ => vec![],
    };
    let keeps_right = !kind.keeps_left_only();
    // Output attributes in the planner's layout, paired with their source.
    let mut layout: Vec<(Option<(bool, usize)>, usize)> = Vec::new();
    let mut out = 0;
    for _ in &using {
        layout.push((None, out));
        out += 1;
    }
    for i in 0..left.schema.len() {
        if !using.iter().any(|(l, _)| *l == i) {
            layout.push((Some((true, i)), out));
            out += 1;
        }
    }
    if keeps_right {
        for j in 0..right.schema.len() {
            if !using.iter().any(|(_, r)| *r == j) {
                layout.push((Some((false, j)), out));
                out += 1;
            }
        }
    }
    // An existence join's `exists` column comes last and is always kept.
    let mark = (kind == JoinKind::LeftMark)
        .then(|| plan.schema.attrs.last().cloned())
        .flatten();
    if out + usize::from(mark.is_some()) != plan.schema.len() {
        return plan.clone();
    }
    let mut left_needed = HashSet::new();
    let mut right_needed = HashSet::new();
    for (l, r) in &using {
        left_needed.insert(left.schema.attrs[*l].physical.clone());
        right_needed.insert(right.schema.attrs[*r].physical.clone());
    }
    if let JoinOn::Condition(condition) = on {
        references(condition, &left.schema, &mut left_needed);
        references(condition, &right.schema, &mut right_needed);
    }
    let mut kept_attrs = Vec::new();
    for (source, at) in &layout {
        let attr = &plan.schema.attrs[*at];
        match source {
            None => kept_attrs.push(attr.clone()),
            Some((is_left, i)) => {
                if !needed.contains(&attr.physical) {
                    continue;
                }
                let (side, set) = if *is_left {
                    (left, &mut left_needed)
                } else {
                    (right, &mut right_needed)
                };
                set.insert(side.schema.attrs[*i].physical.clone());
                kept_attrs.push(attr.clone());
            }
        }
    }
    // Sides that lose every column still need their rows.
    for (side, set) in [(left, &mut left_needed), (right, &mut right_needed)] {
        if set.is_empty() {
            if let Some(first) = side.schema.attrs.first() {
                set.insert(first.physical.clone());
            }
        }
    }
    let new_left = prune(left, Some(&left_needed), cached);
    let new_right = prune(right, Some(&right_needed), cached);
    // Rebuild the output layout over the pruned children.
    let mut attrs = Vec::new();
    for (k, _) in using.iter().enumerate() {
        attrs.push(plan.schema.attrs[k].clone());
    }
    let side_attrs = |side: &Arc<Plan>,
                      new_side: &Arc<Plan>,
                      is_left: bool,
                      attrs: &mut Vec<crate::plan::Attribute>| {
        for (source, at) in &layout {
            if let Some((l, i)) = source {
                if *l == is_left
                    && new_side
                        .schema
                        .attrs
                        .iter()
                        .any(|a| a.physical == side.schema.attrs[*i].physical)
                {
                    attrs.push(plan.schema.attrs[*at].clone());
                }
            }
        }
    };
    side_attrs(left, &new_left, true, &mut attrs);
    if keeps_right {
        side_attrs(right, &new_right, false, &mut attrs);
    }
    attrs.extend(mark);
    Arc::new(Plan {
        node: LogicalPlan::Join {
            left: new_left,
            right: new_right,
            kind,
            on: on.clone(),
        },
        schema: PlanSchema { attrs },
    })
}

/// A projection of `pruned` onto the original input's columns at `positions`
/// (so every union input has the same columns in the same order).
fn select_positions(pruned: &Arc<Plan>, positions: &[usize], original: &Plan) -> Arc<Plan> {
    let wanted: Vec<_> = positions
        .iter()
        .filter_map(|i| original.schema.attrs.get(*i).cloned())
        .collect();
    let same = pruned.schema.attrs.len() == wanted.len()
        && pruned
            .schema
            .attrs
            .iter()
            .zip(&wanted)
            .all(|(a, b)| a.physical == b.physical);
    if same {
        return pruned.clone();
    }
    let exprs = wanted
        .iter()
        .map(|a| Expr::Column {
            name: format!("`{}`", a.physical.replace('`', "``")),
            plan_id: None,
        })
        .collect();
    Arc::new(Plan {
        node: LogicalPlan::Project {
            input: pruned.clone(),
            exprs,
        },
        schema: PlanSchema { attrs: wanted },
    })
}
