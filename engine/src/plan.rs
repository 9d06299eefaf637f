//! The logical plan: what a DataFrame computes, analyzed eagerly (as Spark's
//! Dataset is) so every node knows its output attributes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{EngineError, Result};
use crate::expr::Expr;
use crate::types::{Schema, StructField};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for a DataFrame (its plan) or a generated physical column name.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// One output column of a plan node.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The Spark-visible field (name as the user spelled it).
    pub field: StructField,
    /// The column's name inside partition data; unique within the node's output.
    pub physical: String,
    /// Ids of the DataFrames whose output this column is part of (for `df.col`).
    pub plan_ids: Vec<u64>,
    /// A table alias (`t` in `t.col`), from SQL or `DataFrame.alias`.
    pub qualifier: Option<String>,
}

/// The analyzed output of a plan node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSchema {
    pub attrs: Vec<Attribute>,
}

impl PlanSchema {
    /// Attributes for a source's fields; physical names made unique.
    pub fn from_schema(schema: &Schema, plan_id: u64) -> PlanSchema {
        let mut out = PlanSchema::default();
        for field in &schema.fields {
            out.push(field.clone(), vec![plan_id], None);
        }
        out
    }

    /// Appends a column, choosing a physical name not used yet.
    pub fn push(&mut self, field: StructField, plan_ids: Vec<u64>, qualifier: Option<String>) {
        let physical = self.unique_physical(&field.name);
        self.attrs.push(Attribute {
            field,
            physical,
            plan_ids,
            qualifier,
        });
    }

    pub fn unique_physical(&self, name: &str) -> String {
        if !self.attrs.iter().any(|a| a.physical == name) {
            return name.to_string();
        }
        format!("{name}#{}", next_id())
    }

    pub fn schema(&self) -> Schema {
        Schema::new(self.attrs.iter().map(|a| a.field.clone()).collect())
    }

    pub fn names(&self) -> Vec<String> {
        self.attrs.iter().map(|a| a.field.name.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// Every attribute now also answers to `plan_id`.
    pub fn tagged(mut self, plan_id: u64) -> PlanSchema {
        for attr in &mut self.attrs {
            if !attr.plan_ids.contains(&plan_id) {
                attr.plan_ids.push(plan_id);
            }
        }
        self
    }

    /// Resolves a column reference (`a`, `t.a`, `` `a.b` ``), case-insensitively.
    pub fn resolve(&self, name: &str, plan_id: Option<u64>) -> Result<&Attribute> {
        let index = self.resolve_index(name, plan_id)?;
        Ok(&self.attrs[index])
    }

    pub fn resolve_index(&self, name: &str, plan_id: Option<u64>) -> Result<usize> {
        // Internal references name a column by its physical identity.
        if let Some(inner) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
            let inner = inner.replace("``", "`");
            if let Some(i) = self.attrs.iter().position(|a| a.physical == inner) {
                return Ok(i);
            }
        }
        let (qualifier, column) = split_qualified(name);
        let matches_name = |a: &Attribute| {
            a.field.name.eq_ignore_ascii_case(&column)
                && match &qualifier {
                    Some(q) => a
                        .qualifier
                        .as_deref()
                        .is_some_and(|aq| aq.eq_ignore_ascii_case(q)),
                    None => true,
                }
        };
        let by_name: Vec<usize> = (0..self.attrs.len())
            .filter(|i| matches_name(&self.attrs[*i]))
            .collect();
        // A reference tied to a DataFrame picks that DataFrame's column.
        let candidates = match plan_id {
            Some(id) => {
                let tied: Vec<usize> = by_name
                    .iter()
                    .copied()
                    .filter(|i| self.attrs[*i].plan_ids.contains(&id))
                    .collect();
                if tied.is_empty() {
                    by_name
                } else {
                    tied
                }
            }
            None => by_name,
        };
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.unresolved(name)),
            many => {
                // An exact-case match settles it when only one exists.
                let exact: Vec<usize> = many
                    .iter()
                    .copied()
                    .filter(|i| self.attrs[*i].field.name == column)
                    .collect();
                if exact.len() == 1 && qualifier.is_none() && plan_id.is_none() {
                    let all_same_name = many
                        .iter()
                        .all(|i| self.attrs[*i].field.name == self.attrs[many[0]].field.name);
                    if !all_same_name {
                        return Ok(exact[0]);
                    }
                }
                let options = many
                    .iter()
                    .map(|i| {
                        let a = &self.attrs[*i];
                        match &a.qualifier {
                            Some(q) => format!("`{q}`.`{}`", a.field.name),
                            None => format!("`{}`", a.field.name),
                        }
                    })
                    .collect::<Vec<_>>();
                Err(EngineError::analysis(
                    "AMBIGUOUS_REFERENCE",
                    format!(
                        "Reference `{name}` is ambiguous, could be: [{}].",
                        options.join(", ")
                    ),
                ))
            }
        }
    }

    /// Spark's `UNRESOLVED_COLUMN` from the analyzer: the five closest
    /// names first (ties alphabetically), qualified when the name is or
    /// when the columns come from more than one relation.
    pub fn unresolved(&self, name: &str) -> EngineError {
        let (qualifier, _) = split_qualified(name);
        let qualifiers: std::collections::HashSet<Option<&str>> =
            self.attrs.iter().map(|a| a.qualifier.as_deref()).collect();
        let qualified = qualifier.is_some() || qualifiers.len() > 1;
        let target = match &qualifier {
            Some(q) => format!("{q}.{}", split_qualified(name).1).to_lowercase(),
            None => split_qualified(name).1.to_lowercase(),
        };
        let mut candidates: Vec<(usize, String, String)> = self
            .attrs
            .iter()
            .map(|a| {
                let (plain, shown) = match (&a.qualifier, qualified) {
                    (Some(q), true) => (
                        format!("{q}.{}", a.field.name),
                        format!("`{q}`.`{}`", a.field.name),
                    ),
                    _ => (a.field.name.clone(), format!("`{}`", a.field.name)),
                };
                (levenshtein(&plain.to_lowercase(), &target), plain, shown)
            })
            .collect();
        candidates.sort();
        let names: Vec<String> = candidates
            .into_iter()
            .take(5)
            .map(|(_, _, shown)| shown)
            .collect();
        unresolved_column(name, &names)
    }

    /// The same error from `df['x']` / `df.x`: every column, in order.
    pub fn unresolved_among_all(&self, name: &str) -> EngineError {
        let names: Vec<String> = self
            .attrs
            .iter()
            .map(|a| format!("`{}`", a.field.name))
            .collect();
        unresolved_column(name, &names).without_plan()
    }
}

fn unresolved_column(name: &str, names: &[String]) -> EngineError {
    let shown = match split_qualified(name) {
        _ if name.contains('`') => name.to_string(),
        (Some(q), column) => format!("`{q}`.`{column}`"),
        (None, column) => format!("`{column}`"),
    };
    if names.is_empty() {
        return EngineError::analysis(
            "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
            format!(
                "A column, variable, or function parameter with name {shown} cannot be resolved."
            ),
        );
    }
    EngineError::analysis(
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        format!(
            "A column, variable, or function parameter with name {shown} cannot be resolved. \
             Did you mean one of the following? [{}].",
            names.join(", ")
        ),
    )
}

/// `t.a` → (Some(t), a); back-quoted names are taken whole.
fn split_qualified(name: &str) -> (Option<String>, String) {
    if let Some(inner) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
        if !inner.contains('`') {
            return (None, inner.to_string());
        }
    }
    if let Some((q, c)) = name.split_once("`.`") {
        return (
            Some(q.trim_start_matches('`').to_string()),
            c.trim_end_matches('`').to_string(),
        );
    }
    match name.rsplit_once('.') {
        Some((q, c)) if !q.is_empty() && !c.is_empty() => (
            Some(q.trim_matches('`').to_string()),
            c.trim_matches('`').to_string(),
        ),
        _ => (None, name.to_string()),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + usize::from(ca != *cb));
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// How rows are redistributed across partitions.
#[derive(Debug, Clone, PartialEq)]
pub enum Partitioning {
    /// `repartition(n)`: round-robin.
    RoundRobin(usize),
    /// `repartition(n, cols)`: `pmod(murmur3(cols, 42), n)`; `None` = the shuffle default
    /// (`spark.sql.shuffle.partitions`, adaptively coalesced).
    Hash(Vec<Expr>, Option<usize>),
    /// Everything in one partition.
    Single,
}

/// How a join matches rows.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinOn {
    /// `on=["a", "b"]`: equal columns of the same names, merged in the output.
    Using(Vec<String>),
    /// Any boolean condition over both sides.
    Condition(Expr),
    /// A cross join.
    Nothing,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub ascending: bool,
    pub nulls_first: bool,
}

impl SortKey {
    /// Spark's default null order: first when ascending, last when descending.
    pub fn from_expr(expr: &Expr) -> SortKey {
        match expr {
            Expr::SortOrder {
                expr,
                ascending,
                nulls_first,
            } => SortKey {
                expr: (**expr).clone(),
                ascending: *ascending,
                nulls_first: *nulls_first,
            },
            other => SortKey {
                expr: other.clone(),
                ascending: true,
                nulls_first: true,
            },
        }
    }
}

/// The file format of a scan and what reading it needs.
#[derive(Debug, Clone)]
pub enum SourceFormat {
    Csv(crate::io::csv::CsvOptions),
    Parquet(Arc<Vec<crate::io::parquet::ParquetFile>>),
}

/// Files a DataFrame reads, resolved when it was created (as Spark does).
#[derive(Debug, Clone)]
pub struct FileSource {
    pub format: SourceFormat,
    pub files: Arc<Vec<crate::io::files::InputFile>>,
    /// Columns stored in the files, in file order.
    pub data_schema: Schema,
    /// Columns from `key=value` directories.
    pub partition_fields: Vec<StructField>,
}

impl PartialEq for FileSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.files, &other.files)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogicalPlan {
    /// A file scan.
    Scan {
        source: Arc<FileSource>,
    },
    /// `spark.range(start, end, step, numPartitions)`.
    Range {
        start: i64,
        end: i64,
        step: i64,
        partitions: usize,
    },
    /// Rows given by the user, already in partition-sized pieces.
    LocalRelation {
        batches: Arc<Vec<polars::prelude::DataFrame>>,
    },
    /// Columns computed from the input; the attributes say their names.
    Project {
        input: Arc<Plan>,
        exprs: Vec<Expr>,
    },
    Filter {
        input: Arc<Plan>,
        predicate: Expr,
    },
    /// `groupBy(keys).agg(aggregates)`; output = keys then aggregates.
    Aggregate {
        input: Arc<Plan>,
        keys: Vec<Expr>,
        aggregates: Vec<Expr>,
    },
    Sort {
        input: Arc<Plan>,
        keys: Vec<SortKey>,
        /// `orderBy` (global) or `sortWithinPartitions`.
        global: bool,
    },
    /// The first `n` rows after skipping `offset` (`LIMIT n OFFSET m`);
    /// `n` is `usize::MAX` for an offset alone.
    Limit {
        input: Arc<Plan>,
        n: usize,
        offset: usize,
    },
    /// `union`/`unionAll` by position; inputs already aligned to the first's columns.
    Union {
        inputs: Vec<Arc<Plan>>,
    },
    Repartition {
        input: Arc<Plan>,
        partitioning: Partitioning,
    },
    /// Merges partitions without a shuffle.
    Coalesce {
        input: Arc<Plan>,
        n: usize,
    },
    /// A join; output attributes already laid out (see `DataFrame::join`).
    Join {
        left: Arc<Plan>,
        right: Arc<Plan>,
        kind: crate::exec::join::JoinKind,
        on: JoinOn,
    },
    /// `sample(withReplacement, fraction, seed)` keeps the rows whose draw
    /// falls in `[lower, upper)` (`randomSplit` samples adjacent ranges);
    /// with replacement, `upper - lower` is the mean count per row.
    Sample {
        input: Arc<Plan>,
        lower: f64,
        upper: f64,
        with_replacement: bool,
        seed: i64,
    },
    /// `F.broadcast(df)`: the planner broadcasts this side of a join.
    BroadcastHint {
        input: Arc<Plan>,
    },
    /// `distinct()` / `dropDuplicates(cols)`: first row per key.
    Deduplicate {
        input: Arc<Plan>,
        keys: Option<Vec<Expr>>,
    },
    /// `explode(collection)` and its kin: each input row repeated once per
    /// element of `collection` (an array or map); output = the input's
    /// columns then the position (`posexplode`) and the element, or its key
    /// and value for a map. `outer` keeps a row with nulls for an empty or
    /// null collection.
    Generate {
        input: Arc<Plan>,
        collection: Expr,
        generator: crate::generate::Generator,
    },
    /// The input's rows with a column per value added (`row_ids`): ids,
    /// partition ids, seeded random numbers.
    RowIds {
        input: Arc<Plan>,
        values: Vec<crate::row_ids::RowValue>,
    },
    /// Window functions sharing one partitioning and order; output = the
    /// input's columns then one column per function (resolved `Expr::Window`s).
    Window {
        input: Arc<Plan>,
        partition_by: Vec<Expr>,
        order_by: Vec<SortKey>,
        functions: Vec<Expr>,
    },
}

/// A plan node with its analyzed output.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub node: LogicalPlan,
    pub schema: PlanSchema,
}

impl LogicalPlan {
    pub fn children(&self) -> Vec<&Arc<Plan>> {
        match self {
            LogicalPlan::Range { .. }
            | LogicalPlan::LocalRelation { .. }
            | LogicalPlan::Scan { .. } => {
                vec![]
            }
            LogicalPlan::Project { input, .. }
            | LogicalPlan::Filter { input, .. }
            | LogicalPlan::Aggregate { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Repartition { input, .. }
            | LogicalPlan::Coalesce { input, .. }
            | LogicalPlan::Deduplicate { input, .. }
            | LogicalPlan::Window { input, .. }
            | LogicalPlan::Generate { input, .. }
            | LogicalPlan::RowIds { input, .. }
            | LogicalPlan::BroadcastHint { input }
            | LogicalPlan::Sample { input, .. } => vec![input],
            LogicalPlan::Join { left, right, .. } => vec![left, right],
            LogicalPlan::Union { inputs } => inputs.iter().collect(),
        }
    }
}

impl LogicalPlan {
    /// The expressions this node evaluates (not its children's).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            LogicalPlan::Scan { .. }
            | LogicalPlan::Range { .. }
            | LogicalPlan::LocalRelation { .. }
            | LogicalPlan::Limit { .. }
            | LogicalPlan::Union { .. }
            | LogicalPlan::Coalesce { .. }
            | LogicalPlan::Sample { .. }
            | LogicalPlan::RowIds { .. }
            | LogicalPlan::BroadcastHint { .. } => vec![],
            LogicalPlan::Project { exprs, .. } => exprs.iter().collect(),
            LogicalPlan::Filter { predicate, .. } => vec![predicate],
            LogicalPlan::Aggregate {
                keys, aggregates, ..
            } => keys.iter().chain(aggregates).collect(),
            LogicalPlan::Sort { keys, .. } => keys.iter().map(|k| &k.expr).collect(),
            LogicalPlan::Repartition { partitioning, .. } => match partitioning {
                Partitioning::Hash(exprs, _) => exprs.iter().collect(),
                Partitioning::RoundRobin(_) | Partitioning::Single => vec![],
            },
            LogicalPlan::Join { on, .. } => match on {
                JoinOn::Condition(condition) => vec![condition],
                JoinOn::Using(_) | JoinOn::Nothing => vec![],
            },
            LogicalPlan::Deduplicate { keys, .. } => keys.iter().flatten().collect(),
            LogicalPlan::Generate { collection, .. } => vec![collection],
            LogicalPlan::Window {
                partition_by,
                order_by,
                functions,
                ..
            } => partition_by
                .iter()
                .chain(order_by.iter().map(|k| &k.expr))
                .chain(functions)
                .collect(),
        }
    }
}

impl Plan {
    /// True when running the plan again gives the same rows: no Python
    /// UDF (Spark reruns those, side effects included) and no function of
    /// the current time, which is fixed when a query is planned.
    pub fn is_deterministic(&self) -> bool {
        let mut deterministic = true;
        for expr in self.node.expressions() {
            expr.walk(&mut |e| match e {
                Expr::Udf { .. } => deterministic = false,
                Expr::Function { name, args, .. } => {
                    let name = name.to_ascii_lowercase();
                    if matches!(name.as_str(), "current_date" | "current_timestamp" | "now")
                        || name == "unix_timestamp" && args.is_empty()
                    {
                        deterministic = false;
                    }
                }
                _ => {}
            });
        }
        deterministic && self.node.children().iter().all(|c| c.is_deterministic())
    }

    /// Every file the plan reads.
    pub fn input_files(&self) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        if let LogicalPlan::Scan { source } = &self.node {
            out.extend(source.files.iter().map(|f| f.path.clone()));
        }
        for child in self.node.children() {
            out.extend(child.input_files());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;

    fn schema() -> PlanSchema {
        let mut s = PlanSchema::default();
        s.push(
            StructField::new("zone", DataType::String, true),
            vec![1],
            Some("a".into()),
        );
        s.push(
            StructField::new("zone", DataType::String, true),
            vec![2],
            Some("b".into()),
        );
        s.push(
            StructField::new("Hour", DataType::Long, true),
            vec![1, 2],
            None,
        );
        s
    }

    #[test]
    fn resolves_by_plan_id_qualifier_and_case() {
        let s = schema();
        assert_eq!(s.resolve_index("hour", None).unwrap(), 2);
        assert_eq!(s.resolve_index("zone", Some(2)).unwrap(), 1);
        assert_eq!(s.resolve_index("b.zone", None).unwrap(), 1);
        assert_ne!(s.attrs[0].physical, s.attrs[1].physical);
        let err = s.resolve_index("zone", None).unwrap_err().to_string();
        assert!(
            err.starts_with("[AMBIGUOUS_REFERENCE] Reference `zone` is ambiguous"),
            "{err}"
        );
    }

    #[test]
    fn unresolved_names_come_with_suggestions() {
        let err = schema()
            .resolve_index("hours", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `hours` cannot be resolved. Did you mean one of the following? [`Hour`"
            ),
            "{err}"
        );
    }
}
