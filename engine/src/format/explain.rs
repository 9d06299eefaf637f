//! `explain()` text: the physical plan as Spark prints it — its node names,
//! its tree drawing, and an `Exchange` wherever a stage boundary falls —
//! derived from the same decisions the planner makes; and the other modes
//! (`extended` adds the logical plans, `formatted` numbers the nodes and
//! lists their arguments, `cost` shows the optimized logical plan, `codegen`
//! says there is no generated code). Attribute ids (`id#0L`) are not shown:
//! Kiln's plans name columns without them.

use crate::exec::join::BuildSide;
use crate::expr::Expr;
use crate::functions;
use std::sync::Arc;

use crate::plan::{JoinOn, LogicalPlan, Partitioning, Plan, SortKey, SourceFormat};
use crate::planner::{choose_join, equi_pair, split_and, JoinChoice, PlannerConfig};
use crate::sql::ExplainMode;
use crate::window::{FrameBound, FrameKind};

/// One node of the drawn tree.
struct Node {
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(text: String) -> Node {
        Node {
            text,
            children: vec![],
        }
    }

    fn with(text: String, child: Node) -> Node {
        Node {
            text,
            children: vec![child],
        }
    }
}

/// A `Generate` node's function name and the names of the columns it adds.
fn generator_parts(
    plan: &Plan,
    input: &Plan,
    generator: &crate::generate::Generator,
) -> (&'static str, String) {
    let function = match (generator.inline, generator.position) {
        (true, _) => "inline",
        (false, true) => "posexplode",
        (false, false) => "explode",
    };
    (
        function,
        attribute_names(&plan.schema.attrs[input.schema.len()..]),
    )
}

/// The names of `attrs`, comma-separated.
fn attribute_names(attrs: &[crate::plan::Attribute]) -> String {
    attrs
        .iter()
        .map(|a| a.field.name.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(exprs: &[Expr]) -> String {
    exprs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sort_list(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "{} {} NULLS {}",
                k.expr,
                if k.ascending { "ASC" } else { "DESC" },
                if k.nulls_first { "FIRST" } else { "LAST" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn aggregate_calls(exprs: &[Expr]) -> Vec<Expr> {
    let mut calls = Vec::new();
    for expr in exprs {
        expr.walk(&mut |e| {
            if let Expr::Function { name, .. } = e {
                if functions::is_aggregate(name) {
                    calls.push(e.clone());
                }
            }
        });
    }
    calls
}

fn partial(calls: &[Expr]) -> String {
    calls
        .iter()
        .map(|c| format!("partial_{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A window function as Spark's `Window` node prints it.
fn window_definition(window: &Expr) -> String {
    let Expr::Window { function, spec } = window else {
        return window.to_string();
    };
    let bound = |b: FrameBound| match b {
        FrameBound::UnboundedPreceding => "unboundedpreceding$()".to_string(),
        FrameBound::CurrentRow => "currentrow$()".to_string(),
        FrameBound::UnboundedFollowing => "unboundedfollowing$()".to_string(),
        FrameBound::Offset { value, .. } => value.to_string(),
    };
    let mut parts: Vec<String> = spec.partition_by.iter().map(|e| e.to_string()).collect();
    parts.extend(
        spec.sort_keys()
            .iter()
            .map(|k| sort_list(std::slice::from_ref(k))),
    );
    if let Some(frame) = spec.frame {
        let kind = match frame.kind {
            FrameKind::Rows => "RowFrame",
            FrameKind::Range => "RangeFrame",
        };
        parts.push(format!(
            "specifiedwindowframe({kind}, {}, {})",
            bound(frame.start),
            bound(frame.end)
        ));
    }
    format!(
        "{function} windowspecdefinition({}) AS {window}",
        parts.join(", ")
    )
}

fn build(plan: &Plan, config: &PlannerConfig) -> Node {
    let n = config.shuffle_partitions;
    match &plan.node {
        LogicalPlan::Range {
            start,
            end,
            step,
            partitions,
        } => Node::leaf(format!(
            "Range ({start}, {end}, step={step}, splits={partitions})"
        )),
        LogicalPlan::LocalRelation { .. } => Node::leaf(format!(
            "LocalTableScan [{}]",
            plan.schema.names().join(", ")
        )),
        LogicalPlan::Scan { source } => {
            let format = match source.format {
                SourceFormat::Csv(_) => "csv",
                SourceFormat::Parquet(_) => "parquet",
            };
            let roots: std::collections::BTreeSet<String> = source
                .files
                .iter()
                .filter_map(|f| f.path.parent().map(crate::io::files::qualified))
                .collect();
            Node::leaf(format!(
                "FileScan {format} [{}] Batched: true, DataFilters: [], Format: {}, Location: InMemoryFileIndex({} paths)[{}], PartitionFilters: [], PushedFilters: [], ReadSchema: {}",
                plan.schema.names().join(","),
                if format == "csv" { "CSV" } else { "Parquet" },
                roots.len(),
                roots.iter().take(1).cloned().collect::<Vec<_>>().join(", "),
                source.data_schema.simple_string()
            ))
        }
        LogicalPlan::Project { input, exprs } => {
            let shown: Vec<String> = exprs
                .iter()
                .zip(&plan.schema.attrs)
                .map(|(e, a)| match e {
                    Expr::Column { .. } => a.field.name.clone(),
                    Expr::Alias(inner, name) if matches!(**inner, Expr::Column { .. }) => {
                        name.clone()
                    }
                    other => format!("{} AS {}", other.clone().unaliased(), a.field.name),
                })
                .collect();
            Node::with(
                format!("Project [{}]", shown.join(", ")),
                build(input, config),
            )
        }
        LogicalPlan::Filter { input, predicate } => {
            Node::with(format!("Filter {predicate}"), build(input, config))
        }
        LogicalPlan::Aggregate {
            input,
            keys,
            aggregates,
        } => {
            let calls = aggregate_calls(aggregates);
            let exchange = if keys.is_empty() {
                "Exchange SinglePartition, ENSURE_REQUIREMENTS".to_string()
            } else {
                format!(
                    "Exchange hashpartitioning({}, {n}), ENSURE_REQUIREMENTS",
                    list(keys)
                )
            };
            Node::with(
                format!(
                    "HashAggregate(keys=[{}], functions=[{}])",
                    list(keys),
                    list(&calls)
                ),
                Node::with(
                    exchange,
                    Node::with(
                        format!(
                            "HashAggregate(keys=[{}], functions=[{}])",
                            list(keys),
                            partial(&calls)
                        ),
                        build(input, config),
                    ),
                ),
            )
        }
        LogicalPlan::Sort {
            input,
            keys,
            global,
        } => {
            let child = build(input, config);
            let child = if *global {
                Node::with(
                    format!(
                        "Exchange rangepartitioning({}, {n}), ENSURE_REQUIREMENTS",
                        sort_list(keys)
                    ),
                    child,
                )
            } else {
                child
            };
            Node::with(format!("Sort [{}], {global}, 0", sort_list(keys)), child)
        }
        LogicalPlan::Limit { input, n, offset } if *n != usize::MAX => match &input.node {
            LogicalPlan::Sort {
                input: sorted,
                keys,
                global: true,
            } => {
                let offset = if *offset > 0 {
                    format!(", offset={offset}")
                } else {
                    String::new()
                };
                let output: Vec<&str> = plan
                    .schema
                    .attrs
                    .iter()
                    .map(|a| a.field.name.as_str())
                    .collect();
                Node::with(
                    format!(
                        "TakeOrderedAndProject(limit={n}{offset}, orderBy=[{}], output=[{}])",
                        sort_list(keys).replace(", ", ","),
                        output.join(",")
                    ),
                    build(sorted, config),
                )
            }
            _ => limit_node(input, *n, *offset, config),
        },
        LogicalPlan::Limit { input, n, offset } => limit_node(input, *n, *offset, config),
        LogicalPlan::Union { inputs } => Node {
            text: "Union".into(),
            children: inputs.iter().map(|i| build(i, config)).collect(),
        },
        LogicalPlan::Repartition {
            input,
            partitioning,
        } => {
            let text = match partitioning {
                Partitioning::RoundRobin(k) => {
                    format!("Exchange RoundRobinPartitioning({k}), REPARTITION_BY_NUM")
                }
                Partitioning::Hash(keys, Some(k)) => {
                    format!(
                        "Exchange hashpartitioning({}, {k}), REPARTITION_BY_NUM",
                        list(keys)
                    )
                }
                Partitioning::Hash(keys, None) => {
                    format!(
                        "Exchange hashpartitioning({}, {n}), REPARTITION_BY_COL",
                        list(keys)
                    )
                }
                Partitioning::Single => "Exchange SinglePartition, REPARTITION_BY_NUM".into(),
            };
            Node::with(text, build(input, config))
        }
        LogicalPlan::Coalesce { input, n } => {
            Node::with(format!("Coalesce {n}"), build(input, config))
        }
        LogicalPlan::Deduplicate { input, keys } => {
            let keys = match keys {
                Some(k) => list(k),
                None => plan.schema.names().join(", "),
            };
            Node::with(
                format!("HashAggregate(keys=[{keys}], functions=[])"),
                Node::with(
                    format!("Exchange hashpartitioning({keys}, {n}), ENSURE_REQUIREMENTS"),
                    Node::with(
                        format!("HashAggregate(keys=[{keys}], functions=[])"),
                        build(input, config),
                    ),
                ),
            )
        }
        LogicalPlan::BroadcastHint { input } => build(input, config),
        LogicalPlan::Window {
            input,
            partition_by,
            order_by,
            functions,
        } => {
            let child = build(input, config);
            let exchange = if partition_by.is_empty() {
                "Exchange SinglePartition, ENSURE_REQUIREMENTS".to_string()
            } else {
                format!(
                    "Exchange hashpartitioning({}, {n}), ENSURE_REQUIREMENTS",
                    list(partition_by)
                )
            };
            let mut sort_keys: Vec<SortKey> = partition_by
                .iter()
                .map(|k| SortKey::from_expr(&k.clone().asc()))
                .collect();
            sort_keys.extend(order_by.iter().cloned());
            let shown: Vec<String> = functions.iter().map(window_definition).collect();
            Node::with(
                format!(
                    "Window [{}], [{}], [{}]",
                    shown.join(", "),
                    list(partition_by),
                    sort_list(order_by)
                ),
                Node::with(
                    format!("Sort [{}], false, 0", sort_list(&sort_keys)),
                    Node::with(exchange, child),
                ),
            )
        }
        LogicalPlan::Generate {
            input,
            collection,
            generator,
        } => {
            let (function, generated) = generator_parts(plan, input, generator);
            let outer = generator.outer;
            Node::with(
                format!(
                    "Generate {function}({collection}), [{}], {outer}, [{generated}]",
                    attribute_names(&input.schema.attrs)
                ),
                build(input, config),
            )
        }
        LogicalPlan::Sample {
            input,
            lower,
            upper,
            with_replacement,
            seed,
        } => Node::with(
            format!("Sample {lower:?}, {upper:?}, {with_replacement}, {seed}"),
            build(input, config),
        ),
        LogicalPlan::RowIds { input, .. } => Node::with(
            format!("Project [{}]", attribute_names(&plan.schema.attrs)),
            build(input, config),
        ),
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
        } => {
            let (left_keys, right_keys, condition) = match on {
                JoinOn::Using(keys) => (keys.join(", "), keys.join(", "), String::new()),
                JoinOn::Condition(c) => {
                    let mut lk = Vec::new();
                    let mut rk = Vec::new();
                    let mut residual = Vec::new();
                    for conjunct in split_and(c) {
                        match equi_pair(&conjunct, &left.schema, &right.schema) {
                            Some((l, r, _)) => {
                                lk.push(l);
                                rk.push(r);
                            }
                            None => residual.push(conjunct),
                        }
                    }
                    let condition = residual
                        .into_iter()
                        .reduce(|a, b| a.and(b))
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default();
                    (list(&lk), list(&rk), condition)
                }
                JoinOn::Nothing => (String::new(), String::new(), String::new()),
            };
            let choice = choose_join(*kind, !left_keys.is_empty(), left, right, config);
            let l = build(left, config);
            let r = build(right, config);
            let kind = kind.spark_name();
            let nested_loop =
                |side: &str| format!("BroadcastNestedLoopJoin {side}, {kind}{condition}");
            match choice {
                JoinChoice::Broadcast(side) => {
                    let side = if side == BuildSide::Right {
                        "BuildRight"
                    } else {
                        "BuildLeft"
                    };
                    let (text, mode) = if left_keys.is_empty() {
                        (nested_loop(side), "IdentityBroadcastMode")
                    } else {
                        (
                            format!("BroadcastHashJoin [{left_keys}], [{right_keys}], {kind}, {side}{condition}, false"),
                            "HashedRelationBroadcastMode",
                        )
                    };
                    let broadcast = |node: Node| {
                        Node::with(format!("BroadcastExchange {mode}, [plan_id=0]"), node)
                    };
                    let (l, r) = if side == "BuildRight" {
                        (l, broadcast(r))
                    } else {
                        (broadcast(l), r)
                    };
                    Node {
                        text,
                        children: vec![l, r],
                    }
                }
                JoinChoice::Shuffled => {
                    let exchange = |keys: &str, node: Node| {
                        Node::with(
                            format!("Exchange hashpartitioning({keys}, {n}), ENSURE_REQUIREMENTS"),
                            node,
                        )
                    };
                    Node {
                        text: format!("ShuffledHashJoin [{left_keys}], [{right_keys}], {kind}, BuildRight{condition}"),
                        children: vec![exchange(&left_keys, l), exchange(&right_keys, r)],
                    }
                }
                JoinChoice::SinglePartition => {
                    let single = |node: Node| {
                        Node::with("Exchange SinglePartition, ENSURE_REQUIREMENTS".into(), node)
                    };
                    Node {
                        text: nested_loop("BuildRight"),
                        children: vec![single(l), single(r)],
                    }
                }
            }
        }
    }
}

fn draw(node: &Node, prefix: &str, is_root: bool, last: bool, out: &mut String) {
    if is_root {
        out.push_str(&node.text);
    } else {
        out.push_str(prefix);
        out.push_str(if last { "+- " } else { ":- " });
        out.push_str(&node.text);
    }
    out.push('\n');
    let child_prefix = if is_root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "   " } else { ":  " })
    };
    for (i, child) in node.children.iter().enumerate() {
        draw(
            child,
            &child_prefix,
            false,
            i + 1 == node.children.len(),
            out,
        );
    }
}

/// Spark's physical plan of a limit: a local limit per partition, one
/// partition, the global limit.
fn limit_node(input: &Plan, n: usize, offset: usize, config: &PlannerConfig) -> Node {
    let shown = |v: usize| {
        if v == usize::MAX {
            "-1".to_string()
        } else {
            v.to_string()
        }
    };
    Node::with(
        format!("GlobalLimit {}, {offset}", shown(n)),
        Node::with(
            "Exchange SinglePartition, ENSURE_REQUIREMENTS".into(),
            Node::with(
                format!("LocalLimit {}", shown(n.saturating_add(offset))),
                build(input, config),
            ),
        ),
    )
}

fn physical_tree(plan: &Plan, config: &PlannerConfig) -> Node {
    Node::with(
        "AdaptiveSparkPlan isFinalPlan=false".into(),
        build(plan, config),
    )
}

/// `== Physical Plan ==` and the tree under `AdaptiveSparkPlan`.
pub fn explain_string(plan: &Plan, config: &PlannerConfig) -> String {
    let mut out = String::from("== Physical Plan ==\n");
    draw(&physical_tree(plan, config), "", true, true, &mut out);
    out
}

/// One stage of a physical plan: the operators between exchanges.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub id: usize,
    /// Operator names, the stage's output first.
    pub operators: Vec<String>,
    /// The stages feeding this one, and how their rows arrive
    /// (`hashpartitioning(k, 200)`, `broadcast`, `SinglePartition`).
    pub inputs: Vec<(usize, String)>,
    /// How many tasks run it, when the plan says (`2`, `up to 200`).
    pub tasks: Option<String>,
}

/// The plan's stages, sources first: where the exchanges cut it, as the
/// engine runs it.
pub fn stage_graph(plan: &Plan, config: &PlannerConfig) -> Vec<Stage> {
    let mut stages = Vec::new();
    collect_stage(&build(plan, config), &mut stages, None);
    stages
}

fn collect_stage(node: &Node, stages: &mut Vec<Stage>, tasks: Option<String>) -> usize {
    let mut stage = Stage {
        id: 0,
        operators: Vec::new(),
        inputs: Vec::new(),
        tasks,
    };
    walk_stage(node, stages, &mut stage);
    stage.id = stages.len();
    stages.push(stage);
    stages.len() - 1
}

fn walk_stage(node: &Node, stages: &mut Vec<Stage>, stage: &mut Stage) {
    let split = node.text.find([' ', '(', '[']).unwrap_or(node.text.len());
    let (name, rest) = node.text.split_at(split);
    if name == "Exchange" || name == "BroadcastExchange" {
        let how = if name == "BroadcastExchange" {
            "broadcast".to_string()
        } else {
            rest.split(", ENSURE_REQUIREMENTS")
                .next()
                .unwrap_or(rest)
                .split(", REPARTITION")
                .next()
                .unwrap_or(rest)
                .trim()
                .to_string()
        };
        if stage.tasks.is_none() && name == "Exchange" {
            stage.tasks = exchange_tasks(&how);
        }
        if let Some(child) = node.children.first() {
            let input = collect_stage(child, stages, None);
            stage.inputs.push((input, how));
        }
        return;
    }
    stage.operators.push(name.to_string());
    if name == "Range" && stage.tasks.is_none() {
        stage.tasks = rest
            .split("splits=")
            .nth(1)
            .map(|s| s.trim_end_matches(')').to_string());
    }
    for child in &node.children {
        walk_stage(child, stages, stage);
    }
}

/// Tasks after an exchange: its partition count (a hash exchange's is an
/// upper bound: adaptive execution coalesces small partitions).
fn exchange_tasks(how: &str) -> Option<String> {
    if how.starts_with("SinglePartition") {
        return Some("1".into());
    }
    let count = how
        .rsplit(", ")
        .next()
        .map(|s| s.trim_end_matches(')'))
        .filter(|s| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty())?;
    if how.starts_with("hashpartitioning") || how.starts_with("rangepartitioning") {
        Some(format!("up to {count}"))
    } else {
        Some(count.to_string())
    }
}

/// `explain(mode)` text: `analyzed` is the plan as the user built it,
/// `optimized` the one that runs.
pub fn explain_mode_string(
    analyzed: &Plan,
    optimized: &Plan,
    config: &PlannerConfig,
    mode: ExplainMode,
) -> String {
    let drawn = |node: &Node| {
        let mut out = String::new();
        draw(node, "", true, true, &mut out);
        out
    };
    match mode {
        ExplainMode::Simple => explain_string(optimized, config),
        ExplainMode::Extended => {
            let logical = drawn(&logical_tree(analyzed));
            let fields: Vec<String> = analyzed
                .schema
                .attrs
                .iter()
                .map(|a| format!("{}: {}", a.field.name, a.field.data_type.simple_string()))
                .collect();
            format!(
                "== Parsed Logical Plan ==\n{logical}\n== Analyzed Logical Plan ==\n{}\n{logical}\n\
                 == Optimized Logical Plan ==\n{}\n{}",
                fields.join(", "),
                drawn(&logical_tree(optimized)),
                explain_string(optimized, config)
            )
        }
        ExplainMode::Cost => format!(
            "== Optimized Logical Plan ==\n{}\n{}\n",
            drawn(&logical_tree(optimized)),
            explain_string(optimized, config)
        ),
        ExplainMode::Codegen => "Found 0 WholeStageCodegen subtrees.\n".into(),
        ExplainMode::Formatted => formatted(&physical_tree(optimized, config)),
    }
}

/// Spark's `formatted` mode: the tree with node names and numbers (leaves
/// first), then each node's arguments.
fn formatted(tree: &Node) -> String {
    fn number(node: &Node, next: &mut usize, details: &mut Vec<(usize, String, String)>) -> Node {
        let children: Vec<Node> = node
            .children
            .iter()
            .map(|c| number(c, next, details))
            .collect();
        *next += 1;
        let split = node.text.find([' ', '(', '[']).unwrap_or(node.text.len());
        let (name, arguments) = node.text.split_at(split);
        // `HashAggregate(keys=..., ...)` lists its arguments in parentheses.
        let arguments = match arguments
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
        {
            Some(inner) if inner.contains('=') && !inner.starts_with(char::is_numeric) => inner,
            _ => arguments.trim(),
        };
        details.push((*next, name.to_string(), arguments.to_string()));
        Node {
            text: format!("{name} ({next})"),
            children,
        }
    }
    let mut details = Vec::new();
    let numbered = number(tree, &mut 0, &mut details);
    let mut out = String::from("== Physical Plan ==\n");
    draw(&numbered, "", true, true, &mut out);
    out.push_str("\n\n");
    for (id, name, arguments) in details {
        out.push_str(&format!("({id}) {name}\n"));
        if !arguments.is_empty() {
            out.push_str(&format!("Arguments: {arguments}\n"));
        }
        out.push('\n');
    }
    out
}

/// The logical plan as Spark's logical trees print it.
fn logical_tree(plan: &Plan) -> Node {
    let child = |p: &Arc<Plan>| logical_tree(p);
    let names = |p: &Plan| p.schema.names().join(", ");
    match &plan.node {
        LogicalPlan::Scan { source } => {
            let format = match source.format {
                SourceFormat::Csv(_) => "csv",
                SourceFormat::Parquet(_) => "parquet",
            };
            Node::leaf(format!(
                "Relation [{}] {format}",
                plan.schema.names().join(",")
            ))
        }
        LogicalPlan::Range {
            start,
            end,
            step,
            partitions,
        } => Node::leaf(format!(
            "Range ({start}, {end}, step={step}, splits=Some({partitions}))"
        )),
        LogicalPlan::LocalRelation { .. } => Node::leaf(format!("LocalRelation [{}]", names(plan))),
        LogicalPlan::Project { input, exprs } => {
            Node::with(format!("Project [{}]", list(exprs)), child(input))
        }
        LogicalPlan::Filter { input, predicate } => {
            Node::with(format!("Filter {predicate}"), child(input))
        }
        LogicalPlan::Aggregate {
            input,
            keys,
            aggregates,
        } => {
            let grouping: Vec<Expr> = keys.iter().map(|k| k.clone().unaliased()).collect();
            let output: Vec<Expr> = keys.iter().chain(aggregates).cloned().collect();
            Node::with(
                format!("Aggregate [{}], [{}]", list(&grouping), list(&output)),
                child(input),
            )
        }
        LogicalPlan::Sort {
            input,
            keys,
            global,
        } => Node::with(
            format!("Sort [{}], {global}", sort_list(keys)),
            child(input),
        ),
        LogicalPlan::Limit { input, n, offset } => {
            let mut node = child(input);
            if *n != usize::MAX {
                node = Node::with(format!("LocalLimit {}", n + offset), node);
            }
            if *offset > 0 {
                node = Node::with(format!("Offset {offset}"), node);
            }
            if *n != usize::MAX {
                node = Node::with(format!("GlobalLimit {n}"), node);
            }
            node
        }
        LogicalPlan::Union { inputs } => Node {
            text: "Union false, false".into(),
            children: inputs.iter().map(child).collect(),
        },
        LogicalPlan::Repartition {
            input,
            partitioning,
        } => {
            let text = match partitioning {
                Partitioning::RoundRobin(n) => format!("Repartition {n}, true"),
                Partitioning::Hash(keys, n) => format!(
                    "RepartitionByExpression [{}]{}",
                    list(keys),
                    n.map(|n| format!(", {n}")).unwrap_or_default()
                ),
                Partitioning::Single => "Repartition 1, true".to_string(),
            };
            Node::with(text, child(input))
        }
        LogicalPlan::Coalesce { input, n } => {
            Node::with(format!("Repartition {n}, false"), child(input))
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
        } => {
            let condition = match on {
                JoinOn::Using(columns) => format!(", Using({})", columns.join(", ")),
                JoinOn::Condition(e) => format!(", {e}"),
                _ => String::new(),
            };
            Node {
                text: format!("Join {}{condition}", kind.spark_name()),
                children: vec![child(left), child(right)],
            }
        }
        LogicalPlan::Generate {
            input,
            collection,
            generator,
        } => {
            let (function, generated) = generator_parts(plan, input, generator);
            let outer = generator.outer;
            Node::with(
                format!("Generate {function}({collection}), {outer}, [{generated}]"),
                child(input),
            )
        }
        LogicalPlan::Sample {
            input,
            lower,
            upper,
            with_replacement,
            seed,
        } => Node::with(
            format!("Sample {lower:?}, {upper:?}, {with_replacement}, {seed}"),
            child(input),
        ),
        LogicalPlan::RowIds { input, .. } => Node::with(
            format!("Project [{}]", attribute_names(&plan.schema.attrs)),
            child(input),
        ),
        LogicalPlan::BroadcastHint { input } => {
            Node::with("ResolvedHint (strategy=broadcast)".into(), child(input))
        }
        LogicalPlan::Deduplicate { input, keys } => {
            let keys = match keys {
                Some(keys) => list(keys),
                None => names(input),
            };
            Node::with(format!("Deduplicate [{keys}]"), child(input))
        }
        LogicalPlan::Window {
            input,
            partition_by,
            order_by,
            functions,
        } => Node::with(
            format!(
                "Window [{}], [{}], [{}]",
                functions
                    .iter()
                    .map(window_definition)
                    .collect::<Vec<_>>()
                    .join(", "),
                list(partition_by),
                sort_list(order_by)
            ),
            child(input),
        ),
    }
}
