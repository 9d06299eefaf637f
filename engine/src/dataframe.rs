//! The lazy DataFrame: each transformation analyzes eagerly (errors surface
//! where the user wrote them, as in Spark) and returns a new DataFrame; an
//! action plans and runs it.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::error::{EngineError, Result};
use crate::exec::join::JoinKind;
use crate::exec::{collect_partitions, take_rows, ExecutionPlan, TaskContext};
use crate::expr::{col, func, lit, BinaryOp, Expr};
use crate::format::show::show_string;
use crate::generate::GeneratorInput;
use crate::io::arrow_bridge::frame_to_batch;
use crate::plan::{
    next_id, Attribute, JoinOn, LogicalPlan, Partitioning, Plan, PlanSchema, SortKey,
};
use crate::planner::{analyze_aggregate, PhysicalPlanner};
use crate::row_ids::{self, RowValue};
use crate::rows::{frame_rows, Row};
use crate::session::Session;
use crate::types::{Schema, StructField};

/// The set operations besides union.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperation {
    Intersect,
    Except,
}

impl SetOperation {
    fn spark_name(self) -> &'static str {
        match self {
            SetOperation::Intersect => "INTERSECT",
            SetOperation::Except => "EXCEPT",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DataFrame {
    session: Session,
    plan: Arc<Plan>,
    /// Ties `df.col` references to this DataFrame's columns.
    id: u64,
}

impl DataFrame {
    pub(crate) fn new(session: Session, plan: Arc<Plan>, id: u64) -> DataFrame {
        DataFrame { session, plan, id }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn schema(&self) -> Schema {
        self.plan.schema.schema()
    }

    pub fn plan_schema(&self) -> &PlanSchema {
        &self.plan.schema
    }

    pub fn columns(&self) -> Vec<String> {
        self.plan.schema.names()
    }

    /// True when every column `expr` names is one of this DataFrame's.
    pub fn can_resolve(&self, expr: &Expr) -> bool {
        let config = self.session.planner_config();
        config.lower_context(&self.plan.schema).lower(expr).is_ok()
    }

    /// `df["name"]` / `df.name`: a column tied to this DataFrame, checked now.
    pub fn col(&self, name: &str) -> Result<Expr> {
        self.plan.schema.resolve(name, Some(self.id)).map_err(|e| {
            // `df['x']` lists every column in order, not the closest first.
            if e.error_class() == Some("UNRESOLVED_COLUMN.WITH_SUGGESTION") {
                self.plan.schema.unresolved_among_all(name)
            } else {
                e
            }
        })?;
        Ok(Expr::Column {
            name: name.to_string(),
            plan_id: Some(self.id),
        })
    }

    fn derive(&self, node: LogicalPlan, schema: PlanSchema) -> DataFrame {
        let id = next_id();
        DataFrame {
            session: self.session.clone(),
            plan: Arc::new(Plan {
                node,
                schema: schema.tagged(id),
            }),
            id,
        }
    }

    /// The same rows, with every column qualified by `alias` (`df.alias("t")`, views).
    pub fn aliased(&self, alias: &str) -> DataFrame {
        let mut schema = self.plan.schema.clone();
        for attr in &mut schema.attrs {
            attr.qualifier = Some(alias.to_string());
        }
        let exprs = self.passthrough_exprs();
        self.derive(
            LogicalPlan::Project {
                input: self.plan.clone(),
                exprs,
            },
            schema,
        )
    }

    /// The column at `index`, by position, so equal names stay distinct.
    pub fn column_at(&self, index: usize) -> Option<Expr> {
        self.plan.schema.attrs.get(index).map(|a| self.attr_ref(a))
    }

    /// One column reference per input column, by physical identity.
    fn passthrough_exprs(&self) -> Vec<Expr> {
        self.plan
            .schema
            .attrs
            .iter()
            .map(|a| Expr::Column {
                name: format!("`{}`", a.physical.replace('`', "``")),
                plan_id: None,
            })
            .collect()
    }

    /// `*` and `t.*` expanded to the input's columns.
    fn expand_stars(&self, exprs: Vec<Expr>) -> Result<Vec<Expr>> {
        let mut out = Vec::new();
        for expr in exprs {
            match expr {
                Expr::Star(qualifier) => {
                    let mut any = false;
                    for attr in &self.plan.schema.attrs {
                        let matches = match &qualifier {
                            None => true,
                            Some(q) => attr
                                .qualifier
                                .as_deref()
                                .is_some_and(|aq| aq.eq_ignore_ascii_case(q)),
                        };
                        if matches {
                            any = true;
                            out.push(self.attr_ref(attr));
                        }
                    }
                    if !any {
                        if let Some(q) = qualifier {
                            return Err(EngineError::analysis(
                                "CANNOT_RESOLVE_STAR_EXPAND",
                                format!(
                                    "Cannot resolve `{q}`.* given input columns {}.",
                                    self.columns().join(", ")
                                ),
                            ));
                        }
                    }
                }
                other => out.push(other),
            }
        }
        Ok(out)
    }

    /// A reference to exactly this attribute that keeps its user-visible name.
    fn attr_ref(&self, attr: &Attribute) -> Expr {
        Expr::Alias(
            Box::new(Expr::Column {
                name: format!("`{}`", attr.physical.replace('`', "``")),
                plan_id: None,
            }),
            attr.field.name.clone(),
        )
    }

    /// Schema of a projection: each expression's name, type and nullability.
    fn project_schema(&self, exprs: &[Expr]) -> Result<PlanSchema> {
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        let mut schema = PlanSchema::default();
        for expr in exprs {
            let typed = ctx.lower(expr)?;
            let (plan_ids, qualifier) = self.lineage(expr);
            let name = named_by_type(expr, &ctx).output_name();
            schema.push(
                StructField::new(name, typed.data_type, typed.nullable),
                plan_ids,
                qualifier,
            );
        }
        Ok(schema)
    }

    /// A plain column keeps the DataFrame ids and qualifier it had.
    fn lineage(&self, expr: &Expr) -> (Vec<u64>, Option<String>) {
        let column = match expr {
            Expr::Column { name, plan_id } => Some((name, plan_id)),
            Expr::Alias(inner, _) => match inner.as_ref() {
                Expr::Column { name, plan_id } if name.starts_with('`') => Some((name, plan_id)),
                _ => None,
            },
            _ => None,
        };
        match column.and_then(|(name, plan_id)| self.plan.schema.resolve(name, *plan_id).ok()) {
            Some(attr) => (attr.plan_ids.clone(), attr.qualifier.clone()),
            None => (vec![], None),
        }
    }

    /// `select(...)`; aggregates without a groupBy aggregate the whole frame.
    pub fn select(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        let exprs = self.expand_stars(exprs)?;
        if exprs.iter().any(row_ids::uses_row_values) {
            // The projection reads the values from a node below it, each
            // expression keeping the name Spark gives it.
            let names: Vec<Option<String>> = exprs
                .iter()
                .map(|e| {
                    (row_ids::uses_row_values(e) && !matches!(e, Expr::Alias(..)))
                        .then(|| e.output_name())
                })
                .collect();
            let exprs: Vec<Expr> = exprs.into_iter().map(row_ids::seeded).collect();
            let numbered = self.with_row_values(row_ids::row_values(&exprs));
            let schema = numbered.plan.schema.clone();
            let exprs = exprs
                .into_iter()
                .zip(names)
                .map(|(e, name)| {
                    let read = row_ids::reading_row_values(e, &schema);
                    match name {
                        Some(name) => read.alias(&name),
                        None => read,
                    }
                })
                .collect();
            return numbered.select(exprs);
        }
        if exprs.iter().any(Expr::contains_aggregate) {
            return self.aggregate(vec![], exprs);
        }
        if exprs.iter().any(crate::generate::contains_generator) {
            return self.select_with_generators(exprs);
        }
        if exprs.iter().any(Expr::contains_window) {
            return self.select_with_windows(exprs);
        }
        let schema = self.project_schema(&exprs)?;
        Ok(self.derive(
            LogicalPlan::Project {
                input: self.plan.clone(),
                exprs,
            },
            schema,
        ))
    }

    /// Each row repeated once per element of the collection `call` (an
    /// `explode` or `posexplode`, outer or not) reads, with the generated
    /// columns added after the input's: named `names`, or as Spark names
    /// them (`pos`, `col`, `key`, `value`), under `qualifier` if given.
    pub fn generate(
        &self,
        call: &Expr,
        names: Option<Vec<String>>,
        qualifier: Option<String>,
    ) -> Result<DataFrame> {
        let (generator, input) = crate::generate::generator_call(call).ok_or_else(|| {
            EngineError::analysis(
                "UNSUPPORTED_GENERATOR.NOT_GENERATOR",
                format!("The generator is not supported: {call} is expected to be a generator."),
            )
        })?;
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        let collection = match input {
            GeneratorInput::Collection(collection) => collection.clone(),
            GeneratorInput::Stack(args) => {
                let types = args
                    .iter()
                    .map(|a| ctx.lower(a).map(|t| t.data_type))
                    .collect::<Result<Vec<_>>>()?;
                crate::generate::stack_collection(call, args, &types)?
            }
        };
        let typed = ctx.lower(&collection)?;
        let names = names.or_else(|| match call {
            Expr::Alias(_, name) => Some(vec![name.clone()]),
            Expr::MultiAlias(_, names) => Some(names.clone()),
            _ => None,
        });
        let mut fields =
            crate::generate::generated_fields(call, generator, &typed.data_type, names.as_deref())?;
        if matches!(input, GeneratorInput::Stack(_)) {
            // Spark's `stack` declares every column nullable.
            fields.iter_mut().for_each(|f| f.nullable = true);
        }
        let mut schema = self.plan.schema.clone();
        for field in fields {
            schema.push(field, vec![], qualifier.clone());
        }
        Ok(self.derive(
            LogicalPlan::Generate {
                input: self.plan.clone(),
                collection,
                generator,
            },
            schema,
        ))
    }

    /// `unpivot(ids, values, variable, value)`: each row once per value
    /// column, as the `ids`, the column's label under `variable` and its
    /// value (in the values' common type) under `value`; rows whose value is
    /// null are dropped unless `include_nulls`.
    pub fn unpivot(
        &self,
        ids: Vec<Expr>,
        values: Vec<(Expr, String)>,
        variable: &str,
        value: &str,
        include_nulls: bool,
    ) -> Result<DataFrame> {
        const ENTRY: &str = "__kiln_unpivoted";
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        let mut common: Option<crate::types::DataType> = None;
        for (expr, _) in &values {
            let data_type = ctx.lower(expr)?.data_type;
            common = Some(match common {
                None => data_type,
                Some(so_far) => crate::lower::common_type(&so_far, &data_type).ok_or_else(|| {
                    EngineError::analysis(
                        "UNPIVOT_VALUE_DATA_TYPE_MISMATCH",
                        format!("Unpivot value columns must share a least common type, some types do not: [\"{}\", \"{}\"].", so_far.simple_string().to_uppercase(), data_type.simple_string().to_uppercase()),
                    )
                })?,
            });
        }
        let Some(common) = common else {
            return Err(EngineError::analysis(
                "UNPIVOT_REQUIRES_VALUE_COLUMNS",
                "At least one value column needs to be specified for UNPIVOT, all columns specified as ids.",
            ));
        };
        let entries = values
            .into_iter()
            .map(|(expr, label)| {
                func(
                    "named_struct",
                    vec![
                        lit("n"),
                        lit(label.as_str()),
                        lit("v"),
                        Expr::Cast(Box::new(expr), common.clone()),
                    ],
                )
            })
            .collect();
        let id_count = ids.len();
        let mut exprs = ids;
        exprs.push(func("explode", vec![func("array", entries)]).alias(ENTRY));
        let exploded = self.select(exprs)?;
        let field = |name: &str| func("get_field", vec![col(ENTRY), lit(name)]);
        let mut outputs: Vec<Expr> = (0..id_count)
            .filter_map(|i| exploded.column_at(i))
            .collect();
        outputs.push(field("n").alias(variable));
        outputs.push(field("v").alias(value));
        let unpivoted = exploded.select(outputs)?;
        if include_nulls {
            return Ok(unpivoted);
        }
        let value_column = unpivoted
            .column_at(id_count + 1)
            .ok_or_else(|| EngineError::Internal("unpivoted value missing".into()))?;
        unpivoted.filter(Expr::Unary(
            crate::expr::UnaryOp::IsNotNull,
            Box::new(value_column),
        ))
    }

    /// A projection with generators, as Spark's analyzer extracts them: one
    /// `Generate` per generator, in the list's order, then the projection
    /// with each generator replaced by the columns it added.
    fn select_with_generators(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        let mut df = self.clone();
        let mut projected = Vec::new();
        for expr in exprs {
            if crate::generate::generator_call(&expr).is_none() {
                if crate::generate::contains_generator(&expr) {
                    return Err(crate::generate::nested_generator_error(&expr));
                }
                projected.push(expr);
                continue;
            }
            let width = df.plan.schema.len();
            df = df.generate(&expr, None, None)?;
            projected.extend(df.plan.schema.attrs[width..].iter().map(|a| {
                Expr::Column {
                    name: format!("`{}`", a.physical.replace('`', "``")),
                    plan_id: None,
                }
                .alias(&a.field.name)
            }));
        }
        df.select(projected)
    }

    /// A projection with window functions, as Spark's analyzer extracts
    /// them: one `Window` node per distinct partitioning and order, each
    /// adding its functions' columns, then the projection over those.
    fn select_with_windows(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        let resolved_exprs = exprs
            .into_iter()
            .map(crate::window::resolve_all)
            .collect::<Result<Vec<_>>>()?;
        let mut windows: Vec<Expr> = Vec::new();
        for expr in &resolved_exprs {
            expr.walk(&mut |e| {
                if matches!(e, Expr::Window { .. }) && !windows.iter().any(|w| w.same_as(e)) {
                    windows.push(e.clone());
                }
            });
        }
        let config = self.session.planner_config();
        let mut df = self.clone();
        let mut physical: Vec<(Expr, String)> = Vec::new();
        for (spec, group) in crate::window::stacked_groups(windows) {
            let ctx = config.lower_context(&df.plan.schema);
            for key in spec.exprs() {
                ctx.lower(key)?;
            }
            let mut schema = df.plan.schema.clone();
            for window in &group {
                let Expr::Window { function, .. } = window else {
                    continue;
                };
                let (data_type, nullable) =
                    crate::window::WindowFunction::of(function)?.result_type(&ctx)?;
                schema.push(
                    StructField::new(window.to_string(), data_type, nullable),
                    vec![],
                    None,
                );
                let attr = schema
                    .attrs
                    .last()
                    .ok_or_else(|| EngineError::Internal("window column missing".into()))?;
                physical.push((window.clone(), attr.physical.clone()));
            }
            df = df.derive(
                LogicalPlan::Window {
                    input: df.plan.clone(),
                    partition_by: spec.partition_by.clone(),
                    order_by: spec.sort_keys(),
                    functions: group,
                },
                schema,
            );
        }
        let projected = resolved_exprs
            .into_iter()
            .map(|expr| {
                let name = expr.output_name();
                let plain = matches!(expr, Expr::Column { .. });
                let replaced = expr.transform_down(&mut |node| {
                    physical
                        .iter()
                        .find(|(w, _)| w.same_as(node))
                        .map(|(_, p)| Expr::Column {
                            name: format!("`{}`", p.replace('`', "``")),
                            plan_id: None,
                        })
                });
                if plain {
                    replaced
                } else {
                    replaced.alias(&name)
                }
            })
            .collect();
        df.select(projected)
    }

    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        if row_ids::uses_row_values(&predicate) {
            return self
                .through_row_values(vec![predicate], |df, mut used| df.filter(used.remove(0)));
        }
        if predicate.contains_window() {
            return Err(EngineError::analysis(
                "WINDOW_FUNCTION_NOT_ALLOWED_IN_CLAUSE",
                "It is not allowed to use window functions inside WHERE clause.",
            ));
        }
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        let typed = match ctx.lower(&predicate) {
            Ok(typed) => typed,
            Err(e) => {
                let hidden = self.with_hidden_columns(std::slice::from_ref(&predicate), |df| {
                    df.filter(predicate.clone())
                })?;
                return hidden.ok_or(e);
            }
        };
        if typed.data_type != crate::types::DataType::Boolean {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN",
                format!(
                    "Cannot resolve \"{predicate}\" due to data type mismatch: Filter expression \"{predicate}\" of type \"{}\" is not a boolean.",
                    typed.data_type.simple_string().to_uppercase()
                ),
            ));
        }
        if predicate.contains_aggregate() {
            return Err(EngineError::analysis(
                "INVALID_WHERE_CONDITION",
                format!("The WHERE condition \"{predicate}\" contains invalid expressions: aggregates are not allowed in a filter."),
            ));
        }
        Ok(self.derive(
            LogicalPlan::Filter {
                input: self.plan.clone(),
                predicate,
            },
            self.plan.schema.clone(),
        ))
    }

    /// Spark's missing-reference rule: a filter or sort over a projection
    /// (through other filters and sorts) may use columns the projection
    /// left out (`df.select('a').filter(df.b > 0)`). Those columns are
    /// carried through the projection, used by `apply`, and projected away
    /// again. `None` when `used` needs no such column.
    fn with_hidden_columns(
        &self,
        used: &[Expr],
        apply: impl FnOnce(&DataFrame) -> Result<DataFrame>,
    ) -> Result<Option<DataFrame>> {
        let output = &self.plan.schema;
        let mut hidden: Vec<Attribute> = Vec::new();
        for expr in used {
            expr.walk(&mut |e| {
                let Expr::Column { name, plan_id } = e else {
                    return;
                };
                if output.resolve(name, *plan_id).is_ok() {
                    return;
                }
                if let Some(attr) = hidden_source(&self.plan, name, *plan_id) {
                    if !hidden.iter().any(|h| h.physical == attr.physical) {
                        hidden.push(attr);
                    }
                }
            });
        }
        let clashes = hidden
            .iter()
            .any(|h| output.attrs.iter().any(|a| a.physical == h.physical));
        if hidden.is_empty() || clashes {
            return Ok(None);
        }
        let Some(widened) = widen(&self.plan, &hidden) else {
            return Ok(None);
        };
        let applied = apply(&self.derive(widened.node.clone(), widened.schema.clone()))?;
        let mut schema = applied.plan.schema.clone();
        schema.attrs.truncate(output.len());
        let exprs = applied.passthrough_exprs()[..output.len()].to_vec();
        Ok(Some(applied.derive(
            LogicalPlan::Project {
                input: applied.plan.clone(),
                exprs,
            },
            schema,
        )))
    }

    /// This frame with a column per value added by a `RowIds` node.
    fn with_row_values(&self, values: Vec<RowValue>) -> DataFrame {
        let schema = row_ids::with_row_value_columns(&self.plan.schema, &values);
        self.derive(
            LogicalPlan::RowIds {
                input: self.plan.clone(),
                values,
            },
            schema,
        )
    }

    /// A filter or sort whose expressions `used` call `rand` or the id
    /// functions: `apply` runs over this frame with their values added
    /// below it, and the added columns are projected away again.
    fn through_row_values(
        &self,
        used: Vec<Expr>,
        apply: impl FnOnce(&DataFrame, Vec<Expr>) -> Result<DataFrame>,
    ) -> Result<DataFrame> {
        let used: Vec<Expr> = used.into_iter().map(row_ids::seeded).collect();
        let numbered = self.with_row_values(row_ids::row_values(&used));
        let schema = numbered.plan.schema.clone();
        let used = used
            .into_iter()
            .map(|e| row_ids::reading_row_values(e, &schema))
            .collect();
        let applied = apply(&numbered, used)?;
        let width = self.plan.schema.len();
        let mut schema = applied.plan.schema.clone();
        schema.attrs.truncate(width);
        let exprs = applied.passthrough_exprs()[..width].to_vec();
        Ok(applied.derive(
            LogicalPlan::Project {
                input: applied.plan.clone(),
                exprs,
            },
            schema,
        ))
    }

    /// `withColumn(name, expr)`: replaces a column of that name in place, or appends.
    pub fn with_column(&self, name: &str, expr: Expr) -> Result<DataFrame> {
        self.with_columns(vec![(name.to_string(), expr)])
    }

    pub fn with_columns(&self, columns: Vec<(String, Expr)>) -> Result<DataFrame> {
        let mut exprs: Vec<Expr> = self
            .plan
            .schema
            .attrs
            .iter()
            .map(|a| self.attr_ref(a))
            .collect();
        for (name, expr) in columns {
            let aliased = expr.alias(&name);
            match self
                .plan
                .schema
                .attrs
                .iter()
                .position(|a| a.field.name.eq_ignore_ascii_case(&name))
            {
                Some(i) => exprs[i] = aliased,
                None => exprs.push(aliased),
            }
        }
        self.select(exprs)
    }

    pub fn with_column_renamed(&self, existing: &str, new: &str) -> Result<DataFrame> {
        let exprs: Vec<Expr> = self
            .plan
            .schema
            .attrs
            .iter()
            .map(|a| {
                let reference = self.attr_ref(a);
                if a.field.name.eq_ignore_ascii_case(existing) {
                    reference.alias(new)
                } else {
                    reference
                }
            })
            .collect();
        self.select(exprs)
    }

    /// `drop(names)`: names that do not exist are ignored, as in Spark.
    pub fn drop(&self, names: &[String]) -> Result<DataFrame> {
        let exprs: Vec<Expr> = self
            .plan
            .schema
            .attrs
            .iter()
            .filter(|a| !names.iter().any(|n| n.eq_ignore_ascii_case(&a.field.name)))
            .map(|a| self.attr_ref(a))
            .collect();
        self.select(exprs)
    }

    /// `drop(df.col)`: removes exactly that column.
    pub fn drop_column(&self, column: &Expr) -> Result<DataFrame> {
        let Expr::Column { name, plan_id } = column else {
            return Ok(self.clone());
        };
        let index = self.plan.schema.resolve_index(name, *plan_id)?;
        let exprs: Vec<Expr> = self
            .plan
            .schema
            .attrs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, a)| self.attr_ref(a))
            .collect();
        self.select(exprs)
    }

    /// `groupBy(keys).agg(aggregates)`.
    pub fn aggregate(&self, keys: Vec<Expr>, aggregates: Vec<Expr>) -> Result<DataFrame> {
        let config = self.session.planner_config();
        let analysis = analyze_aggregate(&self.plan.schema, &keys, &aggregates, &config)?;
        let mut schema = PlanSchema::default();
        for (i, field) in analysis.output_fields.into_iter().enumerate() {
            let (plan_ids, qualifier) = match keys.get(i) {
                Some(key) => self.lineage(key),
                None => (vec![], None),
            };
            schema.push(field, plan_ids, qualifier);
        }
        Ok(self.derive(
            LogicalPlan::Aggregate {
                input: self.plan.clone(),
                keys,
                aggregates,
            },
            schema,
        ))
    }

    fn sort_keys(&self, exprs: &[Expr]) -> Result<Vec<SortKey>> {
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        exprs
            .iter()
            .map(|e| {
                let key = SortKey::from_expr(e);
                ctx.lower(&key.expr)?;
                Ok(key)
            })
            .collect()
    }

    pub fn order_by(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        if exprs.iter().any(row_ids::uses_row_values) {
            return self.through_row_values(exprs, |df, keys| df.order_by(keys));
        }
        let keys = match self.sort_keys(&exprs) {
            Ok(keys) => keys,
            Err(e) => {
                let hidden = self.with_hidden_columns(&exprs, |df| df.order_by(exprs.clone()))?;
                return hidden.ok_or(e);
            }
        };
        Ok(self.derive(
            LogicalPlan::Sort {
                input: self.plan.clone(),
                keys,
                global: true,
            },
            self.plan.schema.clone(),
        ))
    }

    pub fn sort_within_partitions(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        if exprs.iter().any(row_ids::uses_row_values) {
            return self.through_row_values(exprs, |df, keys| df.sort_within_partitions(keys));
        }
        let keys = self.sort_keys(&exprs)?;
        Ok(self.derive(
            LogicalPlan::Sort {
                input: self.plan.clone(),
                keys,
                global: false,
            },
            self.plan.schema.clone(),
        ))
    }

    pub fn limit(&self, n: usize) -> DataFrame {
        let (input, n, offset) = match &self.plan.node {
            // An offset then a limit is one GlobalLimit, as in Spark's plans.
            LogicalPlan::Limit {
                input,
                n: earlier,
                offset,
            } => (input.clone(), n.min(*earlier), *offset),
            _ => (self.plan.clone(), n, 0),
        };
        self.derive(
            LogicalPlan::Limit { input, n, offset },
            self.plan.schema.clone(),
        )
    }

    /// `offset(n)`: the rows after the first `n`, in partition order.
    pub fn offset(&self, n: usize) -> DataFrame {
        match &self.plan.node {
            // `limit(k).offset(m)` keeps rows m+1..=k, as Spark's GlobalLimit does.
            LogicalPlan::Limit {
                input,
                n: limit,
                offset,
            } if *offset == 0 => self.derive(
                LogicalPlan::Limit {
                    input: input.clone(),
                    n: limit.saturating_sub(n),
                    offset: n,
                },
                self.plan.schema.clone(),
            ),
            _ => self.derive(
                LogicalPlan::Limit {
                    input: self.plan.clone(),
                    n: usize::MAX,
                    offset: n,
                },
                self.plan.schema.clone(),
            ),
        }
    }

    /// `union` / `unionAll`: by position, widening types; names from the left.
    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        let left = &self.plan.schema;
        let right = &other.plan.schema;
        if left.len() != right.len() {
            return Err(EngineError::analysis(
                "NUM_COLUMNS_MISMATCH",
                format!(
                    "UNION can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns.",
                    left.len(),
                    right.len()
                ),
            ));
        }
        let mut fields = Vec::new();
        for (i, (l, r)) in left.attrs.iter().zip(&right.attrs).enumerate() {
            let common = crate::lower::common_type(&l.field.data_type, &r.field.data_type)
                .ok_or_else(|| {
                    EngineError::analysis(
                        "INCOMPATIBLE_COLUMN_TYPE",
                        format!(
                            "UNION can only be performed on tables with compatible column types. The {} column of the second table is \"{}\" type which is not compatible with \"{}\" at the same column of the first table.",
                            ordinal(i + 1),
                            r.field.data_type.simple_string().to_uppercase(),
                            l.field.data_type.simple_string().to_uppercase()
                        ),
                    )
                })?;
            fields.push(StructField::new(
                l.field.name.clone(),
                common,
                l.field.nullable || r.field.nullable,
            ));
        }
        let align = |df: &DataFrame| -> Result<DataFrame> {
            let exprs: Vec<Expr> = df
                .plan
                .schema
                .attrs
                .iter()
                .zip(&fields)
                .map(|(a, f)| {
                    let reference = df.attr_ref(a);
                    if a.field.data_type == f.data_type {
                        reference
                    } else {
                        reference
                            .unaliased()
                            .cast(f.data_type.clone())
                            .alias(&a.field.name)
                    }
                })
                .collect();
            df.select(exprs)
        };
        let left_aligned = align(self)?;
        let right_aligned = align(other)?;
        let mut schema = PlanSchema::default();
        for (field, attr) in fields.into_iter().zip(&left_aligned.plan.schema.attrs) {
            schema.attrs.push(Attribute {
                field,
                physical: attr.physical.clone(),
                plan_ids: attr.plan_ids.clone(),
                qualifier: None,
            });
        }
        Ok(self.derive(
            LogicalPlan::Union {
                inputs: vec![left_aligned.plan.clone(), right_aligned.plan.clone()],
            },
            schema,
        ))
    }

    /// `unionByName`: columns matched by name; missing ones null when allowed.
    pub fn union_by_name(&self, other: &DataFrame, allow_missing: bool) -> Result<DataFrame> {
        let mut exprs = Vec::new();
        for attr in &self.plan.schema.attrs {
            match other.plan.schema.resolve(&attr.field.name, None) {
                Ok(found) => exprs.push(other.attr_ref(found).unaliased().alias(&attr.field.name)),
                Err(_) if allow_missing => exprs.push(
                    Expr::Literal(crate::value::Value::Null)
                        .cast(attr.field.data_type.clone())
                        .alias(&attr.field.name),
                ),
                Err(_) => {
                    return Err(EngineError::analysis(
                        "UNRESOLVED_COLUMN_AMONG_FIELD_NAMES",
                        format!(
                            "Cannot resolve column name \"{}\" among ({}).",
                            attr.field.name,
                            other.columns().join(", ")
                        ),
                    ))
                }
            }
        }
        let mut left = self.clone();
        if allow_missing {
            let extra: Vec<(String, Expr)> = other
                .plan
                .schema
                .attrs
                .iter()
                .filter(|a| self.plan.schema.resolve(&a.field.name, None).is_err())
                .map(|a| {
                    exprs.push(other.attr_ref(a));
                    (
                        a.field.name.clone(),
                        Expr::Literal(crate::value::Value::Null).cast(a.field.data_type.clone()),
                    )
                })
                .collect();
            left = left.with_columns(extra)?;
        }
        left.union(&other.select(exprs)?)
    }

    /// `repartition(n)` (round-robin) or `repartition(n?, cols)` (hash).
    pub fn repartition(&self, n: Option<usize>, keys: Vec<Expr>) -> Result<DataFrame> {
        if n == Some(0) {
            return Err(EngineError::spark(
                "ILLEGAL_PARTITIONS",
                "Number of partitions (0) must be positive.",
            ));
        }
        let config = self.session.planner_config();
        let ctx = config.lower_context(&self.plan.schema);
        for key in &keys {
            ctx.lower(key)?;
        }
        let partitioning = match (n, keys.is_empty()) {
            (Some(n), true) => Partitioning::RoundRobin(n),
            (None, true) => Partitioning::RoundRobin(config.shuffle_partitions),
            (n, false) => Partitioning::Hash(keys, n),
        };
        Ok(self.derive(
            LogicalPlan::Repartition {
                input: self.plan.clone(),
                partitioning,
            },
            self.plan.schema.clone(),
        ))
    }

    pub fn coalesce(&self, n: usize) -> Result<DataFrame> {
        if n == 0 {
            return Err(EngineError::spark(
                "ILLEGAL_PARTITIONS",
                "Number of partitions (0) must be positive.",
            ));
        }
        Ok(self.derive(
            LogicalPlan::Coalesce {
                input: self.plan.clone(),
                n,
            },
            self.plan.schema.clone(),
        ))
    }

    pub fn distinct(&self) -> DataFrame {
        self.derive(
            LogicalPlan::Deduplicate {
                input: self.plan.clone(),
                keys: None,
            },
            self.plan.schema.clone(),
        )
    }

    pub fn drop_duplicates(&self, subset: &[String]) -> Result<DataFrame> {
        if subset.is_empty() {
            return Ok(self.distinct());
        }
        let keys = subset
            .iter()
            .map(|name| {
                self.plan.schema.resolve(name, None)?;
                Ok(col(name))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self.derive(
            LogicalPlan::Deduplicate {
                input: self.plan.clone(),
                keys: Some(keys),
            },
            self.plan.schema.clone(),
        ))
    }

    /// `INTERSECT` / `EXCEPT` [`ALL`] (`intersect`, `intersectAll`,
    /// `subtract`, `exceptAll`): rows compared on every column by position,
    /// nulls equal. Without `ALL` a semi or anti join then distinct, as
    /// Spark plans them; with `ALL` each row is numbered among its equals
    /// on the left and kept while its number is within (intersect) or past
    /// (except) how many equals the right has, so a row the left holds l
    /// times and the right r times comes out min(l, r) or max(l - r, 0) times.
    pub fn set_operation(
        &self,
        other: &DataFrame,
        op: SetOperation,
        all: bool,
    ) -> Result<DataFrame> {
        let (l, r) = (self.columns(), other.columns());
        if l.len() != r.len() {
            return Err(EngineError::analysis(
                "NUM_COLUMNS_MISMATCH",
                format!(
                    "{} can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns.",
                    op.spark_name(),
                    l.len(),
                    r.len()
                ),
            ));
        }
        const NUMBER: &str = "__kiln_set_number";
        const COUNT: &str = "__kiln_set_count";
        let quoted = |name: &str| format!("`{}`", name.replace('`', "``"));
        let (left, right) = if all {
            let every: Vec<Expr> = l.iter().map(|c| col(&quoted(c))).collect();
            let numbered = self.with_column(
                NUMBER,
                Expr::Window {
                    function: Box::new(func("row_number", vec![])),
                    spec: Box::new(crate::window::WindowSpec {
                        partition_by: every.clone(),
                        order_by: every,
                        frame: None,
                    }),
                },
            )?;
            let counted = other.aggregate(
                r.iter().map(|c| col(&quoted(c))).collect(),
                vec![func("count", vec![lit(1i32)]).alias(COUNT)],
            )?;
            (numbered, counted)
        } else {
            (self.clone(), other.clone())
        };
        // Both sides may come from one view: qualify them apart.
        let (left, right) = (left.aliased("__left"), right.aliased("__right"));
        let mut condition: Option<Expr> = None;
        for (a, b) in l.iter().zip(&r) {
            let a = col(&format!("__left.{}", quoted(a)));
            let b = col(&format!("__right.{}", quoted(b)));
            let equal = a.binary(BinaryOp::EqNullSafe, b);
            condition = Some(match condition {
                Some(c) => c.and(equal),
                None => equal,
            });
        }
        let on = match condition {
            Some(c) => JoinOn::Condition(c),
            None => JoinOn::Nothing,
        };
        if !all {
            let kind = match op {
                SetOperation::Intersect => JoinKind::LeftSemi,
                SetOperation::Except => JoinKind::LeftAnti,
            };
            return Ok(left.join(&right, on, kind)?.distinct());
        }
        let number = col(&format!("__left.{NUMBER}"));
        let count = col(&format!("__right.{COUNT}"));
        let (kind, keep) = match op {
            SetOperation::Intersect => (JoinKind::Inner, number.binary(BinaryOp::LtEq, count)),
            SetOperation::Except => (
                JoinKind::Left,
                number.binary(BinaryOp::Gt, func("coalesce", vec![count, lit(0i64)])),
            ),
        };
        left.join(&right, on, kind)?.filter(keep)?.select(
            l.iter()
                .map(|c| col(&format!("__left.{}", quoted(c))).alias(c))
                .collect(),
        )
    }

    /// `cache()` / `persist()`: computed once by the next action, then reused.
    pub fn persist(&self) -> DataFrame {
        self.session.persist(&self.plan);
        self.clone()
    }

    pub fn unpersist(&self) -> DataFrame {
        self.session.unpersist(&self.plan);
        self.clone()
    }

    pub fn is_cached(&self) -> bool {
        self.session.cache_entry(&self.plan).is_some()
    }

    /// `sample(withReplacement, fraction, seed)`.
    pub fn sample(&self, with_replacement: bool, fraction: f64, seed: i64) -> Result<DataFrame> {
        if fraction.is_nan() || fraction < 0.0 || (!with_replacement && fraction > 1.0) {
            return Err(EngineError::spark(
                "INVALID_SAMPLING_FRACTION",
                format!("Sampling fraction ({fraction}) must be on interval [0, 1] without replacement, or non-negative with replacement."),
            ));
        }
        Ok(self.derive(
            LogicalPlan::Sample {
                input: self.plan.clone(),
                lower: 0.0,
                upper: fraction,
                with_replacement,
                seed,
            },
            self.plan.schema.clone(),
        ))
    }

    /// `randomSplit(weights, seed)`: Spark sorts each partition by every
    /// orderable column, so each split draws over the same row order, then
    /// samples adjacent ranges of the normalized weights with one seed.
    pub fn random_split(&self, weights: &[f64], seed: i64) -> Result<Vec<DataFrame>> {
        let listed = || {
            let shown: Vec<String> = weights.iter().map(|w| format!("{w:?}")).collect();
            format!("[{}]", shown.join(","))
        };
        if weights.iter().any(|w| w.is_nan() || *w < 0.0) {
            return Err(EngineError::IllegalArgument(format!(
                "requirement failed: Weights must be nonnegative, but got {}",
                listed()
            )));
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(EngineError::IllegalArgument(format!(
                "requirement failed: Sum of weights must be positive, but got {}",
                listed()
            )));
        }
        let keys: Vec<Expr> = self
            .plan
            .schema
            .attrs
            .iter()
            .filter(|a| orderable(&a.field.data_type))
            .map(|a| self.attr_ref(a))
            .collect();
        let sorted = if keys.is_empty() {
            self.clone()
        } else {
            self.sort_within_partitions(keys)?
        };
        let mut bounds = vec![0.0];
        for w in weights {
            bounds.push(bounds[bounds.len() - 1] + w / total);
        }
        Ok(bounds
            .windows(2)
            .map(|range| {
                sorted.derive(
                    LogicalPlan::Sample {
                        input: sorted.plan.clone(),
                        lower: range[0],
                        upper: range[1],
                        with_replacement: false,
                        seed,
                    },
                    sorted.plan.schema.clone(),
                )
            })
            .collect())
    }

    /// `df.corr(a, b)` (`corr`) and `df.cov(a, b)` (`covar_samp`) of two
    /// numeric columns, as Spark's `DataFrameStatFunctions` compute them:
    /// they read a null as 0 (the value an unsafe row holds in its place),
    /// where the SQL functions skip the row.
    pub fn stat_co_moment(&self, function: &str, col1: &str, col2: &str) -> Result<Option<f64>> {
        let what = if function == "corr" {
            "correlation"
        } else {
            "covariance"
        };
        let mut args = Vec::new();
        for name in [col1, col2] {
            let attr = self.plan.schema.resolve(name, None)?;
            if !attr.field.data_type.is_numeric() {
                return Err(EngineError::IllegalArgument(format!(
                    "requirement failed: Currently {what} calculation for columns with dataType {} not supported.",
                    attr.field.data_type.simple_string()
                )));
            }
            let value = Expr::Cast(
                Box::new(self.attr_ref(attr)),
                crate::types::DataType::Double,
            );
            args.push(func("coalesce", vec![value, lit(0.0)]));
        }
        let rows = self
            .select(vec![func(&format!("stat_{function}"), args)])?
            .collect()?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(crate::value::Value::Double(v)) => Some(*v),
            _ => None,
        })
    }

    /// `F.broadcast(df)`: joins with this DataFrame broadcast it.
    pub fn broadcast_hint(&self) -> DataFrame {
        DataFrame {
            session: self.session.clone(),
            plan: Arc::new(Plan {
                node: LogicalPlan::BroadcastHint {
                    input: self.plan.clone(),
                },
                schema: self.plan.schema.clone(),
            }),
            id: self.id,
        }
    }

    /// `join(other, on, how)`. Output: for `on=[names]` the keys first, then the
    /// other columns of each side; otherwise all left columns then all right.
    /// Left semi/anti joins keep only left columns; an existence join adds
    /// its boolean column `exists` after them.
    pub fn join(&self, other: &DataFrame, on: JoinOn, kind: JoinKind) -> Result<DataFrame> {
        let left = &self.plan.schema;
        let right = &other.plan.schema;
        let left_nullable = matches!(kind, JoinKind::Right | JoinKind::Full);
        let right_nullable = matches!(kind, JoinKind::Left | JoinKind::Full);
        let keeps_right = !kind.keeps_left_only();
        let mut schema = PlanSchema::default();
        let mut push = |attr: &Attribute, nullable: bool, extra_ids: &[u64]| {
            let mut field = attr.field.clone();
            field.nullable |= nullable;
            let mut ids = attr.plan_ids.clone();
            ids.extend_from_slice(extra_ids);
            schema.push(field, ids, attr.qualifier.clone());
        };
        match &on {
            JoinOn::Using(keys) => {
                let mut left_keys = Vec::new();
                let mut right_keys = Vec::new();
                for key in keys {
                    let l = left
                        .resolve_index(key, None)
                        .map_err(|_| using_missing(key, "left", left))?;
                    let r = right
                        .resolve_index(key, None)
                        .map_err(|_| using_missing(key, "right", right))?;
                    let common = crate::lower::comparison_type(
                        &left.attrs[l].field.data_type,
                        &right.attrs[r].field.data_type,
                    )
                    .ok_or_else(|| {
                        EngineError::analysis(
                            "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
                            format!("Cannot join on `{key}`: the sides have incompatible types."),
                        )
                    })?;
                    let source = if kind == JoinKind::Right {
                        &right.attrs[r]
                    } else {
                        &left.attrs[l]
                    };
                    let mut key_attr = source.clone();
                    key_attr.field.name = left.attrs[l].field.name.clone();
                    if kind == JoinKind::Full {
                        key_attr.field.data_type = common;
                        key_attr.field.nullable =
                            left.attrs[l].field.nullable || right.attrs[r].field.nullable;
                    }
                    let mut ids = right.attrs[r].plan_ids.clone();
                    ids.extend(left.attrs[l].plan_ids.iter().copied());
                    key_attr.plan_ids = ids;
                    push(&key_attr, false, &[]);
                    left_keys.push(l);
                    right_keys.push(r);
                }
                for (i, attr) in left.attrs.iter().enumerate() {
                    if !left_keys.contains(&i) {
                        push(attr, left_nullable, &[]);
                    }
                }
                if keeps_right {
                    for (i, attr) in right.attrs.iter().enumerate() {
                        if !right_keys.contains(&i) {
                            push(attr, right_nullable, &[]);
                        }
                    }
                }
            }
            JoinOn::Condition(condition) => {
                let mut both = left.clone();
                for attr in &right.attrs {
                    both.push(
                        attr.field.clone(),
                        attr.plan_ids.clone(),
                        attr.qualifier.clone(),
                    );
                }
                let config = self.session.planner_config();
                let typed = config.lower_context(&both).lower(condition)?;
                if typed.data_type != crate::types::DataType::Boolean {
                    return Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                        format!("The join condition {condition} must be a boolean."),
                    ));
                }
                for attr in &left.attrs {
                    push(attr, left_nullable, &[]);
                }
                if keeps_right {
                    for attr in &right.attrs {
                        push(attr, right_nullable, &[]);
                    }
                }
            }
            JoinOn::Nothing => {
                for attr in &left.attrs {
                    push(attr, false, &[]);
                }
                if keeps_right {
                    for attr in &right.attrs {
                        push(attr, false, &[]);
                    }
                }
            }
        }
        if kind == JoinKind::LeftMark {
            schema.push(
                StructField::new("exists", crate::types::DataType::Boolean, false),
                Vec::new(),
                None,
            );
        }
        Ok(self.derive(
            LogicalPlan::Join {
                left: self.plan.clone(),
                right: other.plan.clone(),
                kind,
                on,
            },
            schema,
        ))
    }

    /// The physical plan for this DataFrame, under the current configuration.
    pub fn physical_plan(&self) -> Result<Arc<dyn ExecutionPlan>> {
        let cache = self.session.cached_plans();
        PhysicalPlanner {
            config: self.session.planner_config(),
            cache,
            reuse: self.session.reused_stages(),
        }
        .plan(&self.optimized_plan())
    }

    /// The logical plan after column pruning, as it is planned and explained.
    fn optimized_plan(&self) -> Arc<Plan> {
        let cached: Vec<Arc<Plan>> = self
            .session
            .cached_plans()
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        crate::optimizer::prune(&self.plan, None, &cached)
    }

    /// Rows of the whole result.
    pub fn collect(&self) -> Result<Vec<Row>> {
        self.session.run_job("collect", |ctx| {
            let plan = self.physical_plan()?;
            let mut rows = Vec::new();
            for frame in collect_partitions(&plan, ctx)? {
                rows.extend(frame_rows(&frame, &self.plan.schema)?);
            }
            Ok(rows)
        })
    }

    /// The whole result as Arrow record batches (one per partition) with
    /// Spark's physical types, for hand-over through the C Data Interface.
    /// Every field is nullable here; the receiver applies Spark's nullability.
    pub fn collect_arrow(&self) -> Result<(arrow::datatypes::SchemaRef, Vec<RecordBatch>)> {
        let schema = Arc::new(arrow::datatypes::Schema::new(
            self.plan
                .schema
                .attrs
                .iter()
                .map(|a| {
                    arrow::datatypes::Field::new(
                        a.field.name.as_str(),
                        crate::io::arrow_bridge::arrow_type(&a.field.data_type),
                        true,
                    )
                })
                .collect::<Vec<_>>(),
        ));
        let batches = self.session.run_job("toArrow", |ctx| {
            let plan = self.physical_plan()?;
            collect_partitions(&plan, ctx)?
                .iter()
                .filter(|frame| frame.height() > 0)
                .map(|frame| {
                    let batch = frame_to_batch(frame, &self.plan.schema, &[])?;
                    // Rows without columns (`select()`) still count.
                    Ok(RecordBatch::try_new_with_options(
                        schema.clone(),
                        batch.columns().to_vec(),
                        &arrow::record_batch::RecordBatchOptions::new()
                            .with_row_count(Some(batch.num_rows())),
                    )?)
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok((schema, batches))
    }

    /// Rows partition by partition, as `df.rdd` sees them.
    pub fn collect_partitions(&self) -> Result<Vec<Vec<Row>>> {
        self.session.run_job("javaToPython", |ctx| {
            let plan = self.physical_plan()?;
            collect_partitions(&plan, ctx)?
                .iter()
                .map(|frame| frame_rows(frame, &self.plan.schema))
                .collect()
        })
    }

    /// The first n rows, reading as few partitions as needed.
    pub fn take(&self, n: usize) -> Result<Vec<Row>> {
        self.session.run_job("take", |ctx| self.take_in(n, ctx))
    }

    fn take_in(&self, n: usize, ctx: &TaskContext) -> Result<Vec<Row>> {
        // The head of a sorted frame is its first rows in order, which Spark
        // takes without sorting everything (`TakeOrderedAndProject`).
        let plan = match &self.plan.node {
            LogicalPlan::Sort { global: true, .. } => self.limit(n).physical_plan()?,
            _ => self.physical_plan()?,
        };
        let mut rows = Vec::new();
        for frame in take_rows(&plan, n, ctx)? {
            rows.extend(frame_rows(&frame, &self.plan.schema)?);
            if rows.len() >= n {
                break;
            }
        }
        rows.truncate(n);
        Ok(rows)
    }

    pub fn count(&self) -> Result<i64> {
        let counted = self.aggregate(
            vec![],
            vec![crate::expr::func("count", vec![crate::expr::lit(1)])],
        )?;
        let rows = counted.collect()?;
        match rows.first().and_then(|r| r.first()) {
            Some(crate::value::Value::Long(n)) => Ok(*n),
            _ => Err(EngineError::Internal("count returned no row".into())),
        }
    }

    /// The number of partitions an action would produce (after adaptive coalescing,
    /// which needs the shuffle stages to run).
    pub fn num_partitions(&self) -> Result<usize> {
        self.session.run_job("getNumPartitions", |ctx| {
            let plan = self.physical_plan()?;
            plan.prepare(ctx)?;
            Ok(plan.partition_count())
        })
    }

    /// `df.write...save(path)`: runs the query and commits its files.
    pub fn write(
        &self,
        path: &std::path::Path,
        mode: crate::io::write::SaveMode,
        format: crate::io::write::WriteFormat,
        partition_by: Vec<String>,
    ) -> Result<crate::io::write::WriteSummary> {
        crate::io::files::check_local(&path.to_string_lossy())?;
        let plan = self.physical_plan()?;
        let request = crate::io::write::WriteRequest {
            path,
            mode,
            format,
            partition_by,
            inputs: self.plan.input_files(),
            time_zone: self.session.config().time_zone(),
        };
        self.session
            .run_job("save", |ctx| crate::io::write::write(&plan, &request, ctx))
    }

    /// `explain()` text: the physical plan with Spark's node names.
    /// The physical plan's stages, sources first.
    pub fn stage_graph(&self) -> Vec<crate::format::explain::Stage> {
        crate::format::explain::stage_graph(&self.optimized_plan(), &self.session.planner_config())
    }

    /// `explain(mode)` text.
    pub fn explain_mode_string(&self, mode: crate::sql::ExplainMode) -> String {
        crate::format::explain::explain_mode_string(
            &self.plan,
            &self.optimized_plan(),
            &self.session.planner_config(),
            mode,
        )
    }

    pub fn explain_string(&self) -> String {
        crate::format::explain::explain_string(
            &self.optimized_plan(),
            &self.session.planner_config(),
        )
    }

    /// The first `n` rows and whether more exist: a limit of `n + 1`,
    /// never the whole result.
    pub fn preview(&self, n: usize) -> Result<Preview> {
        let mut rows = self
            .session
            .run_job("showString", |ctx| self.take_in(n + 1, ctx))?;
        let has_more = rows.len() > n;
        rows.truncate(n);
        Ok(Preview {
            fields: self.schema().fields,
            rows,
            has_more,
            time_zone: self.session.config().time_zone(),
        })
    }

    /// `show(n, truncate, vertical)` text.
    pub fn show_string(&self, n: usize, truncate: usize, vertical: bool) -> Result<String> {
        Ok(self.preview(n)?.show_string(truncate, vertical))
    }
}

/// The head of a result as `show()` and notebook tables present it.
pub struct Preview {
    pub fields: Vec<StructField>,
    pub rows: Vec<Row>,
    /// More rows exist past `rows`.
    pub has_more: bool,
    /// The session's zone, which timestamps are shown in.
    pub time_zone: chrono_tz::Tz,
}

impl Preview {
    /// Each cell as `show()` prints it (before truncation).
    pub fn cells(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.to_show_string(&self.time_zone))
                    .collect()
            })
            .collect()
    }

    /// Spark's `show()` text for these rows.
    pub fn show_string(&self, truncate: usize, vertical: bool) -> String {
        let names: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        show_string(
            &names,
            &self.cells(),
            self.rows.len(),
            truncate,
            vertical,
            self.has_more,
        )
    }
}

/// Where a column that a projection dropped comes from: the output of a
/// node down the chain of projections, filters and sorts under `plan`.
fn hidden_source(plan: &Plan, name: &str, plan_id: Option<u64>) -> Option<Attribute> {
    match &plan.node {
        LogicalPlan::Project { input, .. }
        | LogicalPlan::Filter { input, .. }
        | LogicalPlan::Sort { input, .. } => match input.schema.resolve(name, plan_id) {
            Ok(attr) => Some(attr.clone()),
            Err(_) => hidden_source(input, name, plan_id),
        },
        _ => None,
    }
}

/// `plan` with the `hidden` columns it lacks carried up from below and
/// added to its output after its own columns.
fn widen(plan: &Arc<Plan>, hidden: &[Attribute]) -> Option<Arc<Plan>> {
    let lacking: Vec<Attribute> = hidden
        .iter()
        .filter(|h| !plan.schema.attrs.iter().any(|a| a.physical == h.physical))
        .cloned()
        .collect();
    if lacking.is_empty() {
        return Some(plan.clone());
    }
    let node = match &plan.node {
        LogicalPlan::Project { input, exprs } => {
            let mut exprs = exprs.clone();
            exprs.extend(lacking.iter().map(|attr| Expr::Column {
                name: format!("`{}`", attr.physical.replace('`', "``")),
                plan_id: None,
            }));
            LogicalPlan::Project {
                input: widen(input, &lacking)?,
                exprs,
            }
        }
        LogicalPlan::Filter { input, predicate } => LogicalPlan::Filter {
            input: widen(input, &lacking)?,
            predicate: predicate.clone(),
        },
        LogicalPlan::Sort {
            input,
            keys,
            global,
        } => LogicalPlan::Sort {
            input: widen(input, &lacking)?,
            keys: keys.clone(),
            global: *global,
        },
        _ => return None,
    };
    let mut schema = plan.schema.clone();
    schema.attrs.extend(lacking);
    Some(Arc::new(Plan { node, schema }))
}

fn using_missing(key: &str, side: &str, schema: &PlanSchema) -> EngineError {
    EngineError::analysis(
        "UNRESOLVED_USING_COLUMN_FOR_JOIN",
        format!(
            "USING column `{key}` cannot be resolved on the {side} side of the join. The {side}-side columns: [{}].",
            schema.names().iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ),
    )
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        n => format!("{n}th"),
    }
}

/// `m.key` (`m['key']` in PySpark) reads a map when `m` is one, which
/// Spark's column names show as `m[key]`.
/// `expr` as Spark names it once types are known: `m.key` (`m['key']` in
/// PySpark) reading a map is `m[key]`, and a date or timestamp moved by an
/// interval (Spark's `TimeAdd`) is `ts + INTERVAL '1' HOUR`, unparenthesized.
fn named_by_type(expr: &Expr, ctx: &crate::lower::LowerContext<'_>) -> Expr {
    use crate::types::DataType;
    let type_of = |e: &Expr| ctx.lower(e).map(|t| t.data_type).ok();
    expr.clone().transform_down(&mut |e| match e {
        Expr::Function { name, args, .. } if name == "get_field" && args.len() == 2 => {
            matches!(type_of(&args[0]), Some(DataType::Map(..)))
                .then(|| func("get_item", args.clone()))
        }
        // The right side first: in a chain `a + b + c` it is the small one.
        Expr::Binary(op @ (BinaryOp::Plus | BinaryOp::Minus), l, r)
            if matches!(
                type_of(r),
                Some(DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_))
            ) && matches!(
                type_of(l),
                Some(DataType::Date | DataType::Timestamp | DataType::TimestampNtz)
            ) =>
        {
            let (l, r) = (named_by_type(l, ctx), named_by_type(r, ctx));
            let shown = format!("{l} {} {r}", op.symbol());
            Some(crate::expr::shown_as(
                Expr::Binary(*op, Box::new(l), Box::new(r)),
                shown,
            ))
        }
        _ => None,
    })
}

/// Whether Spark can order values of `data_type` (maps it cannot).
fn orderable(data_type: &crate::types::DataType) -> bool {
    use crate::types::DataType;
    match data_type {
        DataType::Map(..) => false,
        DataType::Array(element, _) => orderable(element),
        DataType::Struct(fields) => fields.iter().all(|f| orderable(&f.data_type)),
        _ => true,
    }
}
