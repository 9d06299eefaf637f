//! A session: configuration, the worker count of its master, the catalog of
//! temp views, and the entry points that create DataFrames.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use polars::prelude::{Column, DataFrame as PlFrame, IntoColumn};

use crate::config::{self, Config};
use crate::dataframe::DataFrame;
use crate::error::{EngineError, Result};
use crate::exec::cache::CacheEntry;
use crate::exec::events::{EventBus, Job, JobOutcome};
use crate::exec::TaskContext;
use crate::io::csv::{resolve_schema, CsvOptions};
use crate::io::files::{list_files, partition_schema};
use crate::io::parquet::{merge_schemas, read_footer};
use crate::plan::{next_id, FileSource, LogicalPlan, Plan, PlanSchema, SourceFormat};
use crate::planner::reuse::ReusedStages;
use crate::planner::PlannerConfig;
use crate::rows::Row;
use crate::types::{DataType, Schema, StructField};
use crate::udf::Udf;
use crate::value::Value;

/// Bytes of shuffle outputs kept after a job for later jobs to reuse.
const REUSED_BYTES: u64 = 64 << 20;

#[derive(Debug)]
struct SessionState {
    config: RwLock<Config>,
    events: Arc<EventBus>,
    cache: Mutex<Vec<(Arc<Plan>, Arc<CacheEntry>)>>,
    /// Shuffled subtrees later queries may reuse.
    reused: Arc<ReusedStages>,
    views: RwLock<BTreeMap<String, DataFrame>>,
    /// Functions registered for SQL (`spark.udf.register`), by lower-case name.
    udfs: RwLock<BTreeMap<String, Udf>>,
    parallelism: usize,
}

/// Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct Session {
    state: Arc<SessionState>,
}

impl Session {
    /// A session for `local`, `local[N]` or `local[*]`.
    pub fn new(master: &str) -> Result<Session> {
        let parallelism = config::parse_master(master)?;
        let mut config = Config::default();
        config.set(config::MASTER, master)?;
        Ok(Session {
            state: Arc::new(SessionState {
                config: RwLock::new(config),
                events: Arc::new(EventBus::default()),
                cache: Mutex::new(Vec::new()),
                reused: Arc::default(),
                views: RwLock::new(BTreeMap::new()),
                udfs: RwLock::new(BTreeMap::new()),
                parallelism,
            }),
        })
    }

    /// Where job, stage and task events go; add listeners here.
    pub fn events(&self) -> &Arc<EventBus> {
        &self.state.events
    }

    /// Runs an action as a job: events at start and end, a cancel token
    /// that `events().cancel_all()` trips.
    pub fn run_job<T>(
        &self,
        description: &str,
        action: impl FnOnce(&TaskContext) -> Result<T>,
    ) -> Result<T> {
        let (job, cancel) = Job::start(&self.state.events, description);
        let ctx = TaskContext {
            cancel: cancel.clone(),
            job: Some(job.clone()),
            input: None,
        };
        let result = action(&ctx);
        // Up to 64 MB of shuffle outputs (less under a smaller shuffle
        // budget) stays for later jobs: enough for aggregates, not for whole
        // repartitioned datasets, which would hold the kernel's memory
        // between cells.
        let budget = (self.config().memory_budget().max(0) as u64).min(REUSED_BYTES);
        self.state.reused.trim(budget);
        let outcome = match &result {
            Ok(_) => JobOutcome::Succeeded,
            Err(EngineError::Cancelled) => JobOutcome::Cancelled,
            Err(e) => JobOutcome::Failed(e.to_string()),
        };
        job.finish(&cancel, outcome);
        result
    }

    /// Marks a plan to be kept in memory once computed (`cache()` / `persist()`).
    pub fn persist(&self, plan: &Arc<Plan>) {
        self.state.reused.clear();
        if let Ok(mut cache) = self.state.cache.lock() {
            if !cache.iter().any(|(p, _)| Arc::ptr_eq(p, plan)) {
                cache.push((plan.clone(), Arc::new(CacheEntry::default())));
            }
        }
    }

    /// Drops a plan's cached partitions; true when it was cached.
    pub fn unpersist(&self, plan: &Arc<Plan>) -> bool {
        self.state.reused.clear();
        self.state
            .cache
            .lock()
            .map(|mut cache| {
                let before = cache.len();
                cache.retain(|(p, _)| !Arc::ptr_eq(p, plan));
                cache.len() != before
            })
            .unwrap_or(false)
    }

    /// Drops every cached plan (`spark.catalog.clearCache()`).
    pub fn clear_cache(&self) {
        self.state.reused.clear();
        if let Ok(mut cache) = self.state.cache.lock() {
            cache.clear();
        }
    }

    pub fn cache_entry(&self, plan: &Arc<Plan>) -> Option<Arc<CacheEntry>> {
        self.state.cache.lock().ok().and_then(|cache| {
            cache
                .iter()
                .find(|(p, _)| Arc::ptr_eq(p, plan))
                .map(|(_, e)| e.clone())
        })
    }

    /// Subtrees of earlier queries the planner may reuse.
    pub fn reused_stages(&self) -> Arc<ReusedStages> {
        self.state.reused.clone()
    }

    pub fn cached_plans(&self) -> Vec<(Arc<Plan>, Arc<CacheEntry>)> {
        self.state
            .cache
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    pub fn parallelism(&self) -> usize {
        self.state.parallelism
    }

    pub fn config(&self) -> Config {
        self.state
            .config
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    pub fn set_conf(&self, key: &str, value: &str) -> Result<()> {
        self.state
            .config
            .write()
            .map_err(|_| EngineError::Internal("config lock poisoned".into()))?
            .set(key, value)
    }

    pub fn unset_conf(&self, key: &str) {
        if let Ok(mut config) = self.state.config.write() {
            config.unset(key);
        }
    }

    pub fn planner_config(&self) -> PlannerConfig {
        PlannerConfig::new(&self.config(), self.parallelism())
    }

    pub(crate) fn dataframe(&self, node: LogicalPlan, schema: PlanSchema, id: u64) -> DataFrame {
        DataFrame::new(
            self.clone(),
            Arc::new(Plan {
                node,
                schema: schema.tagged(id),
            }),
            id,
        )
    }

    /// `spark.range(start, end, step, numPartitions)`: a `bigint` column `id`.
    pub fn range(
        &self,
        start: i64,
        end: i64,
        step: i64,
        partitions: Option<usize>,
    ) -> Result<DataFrame> {
        if step == 0 {
            return Err(EngineError::spark(
                "INVALID_PARAMETER_VALUE.RANGE_STEP",
                "The value of parameter(s) `step` in `range` is invalid: step must not be 0.",
            ));
        }
        let id = next_id();
        let schema = PlanSchema::from_schema(
            &Schema::new(vec![StructField::new("id", DataType::Long, false)]),
            id,
        );
        let partitions = partitions.unwrap_or(self.parallelism()).max(1);
        Ok(self.dataframe(
            LogicalPlan::Range {
                start,
                end,
                step,
                partitions,
            },
            schema,
            id,
        ))
    }

    /// `createDataFrame(rows, schema)`: `min(max(rows, 1), parallelism)` partitions,
    /// sliced as Spark slices a local collection.
    pub fn create_dataframe(&self, rows: Vec<Row>, schema: Schema) -> Result<DataFrame> {
        for (line, row) in rows.iter().enumerate() {
            if row.len() != schema.len() {
                return Err(EngineError::spark(
                    "AXIS_LENGTH_MISMATCH",
                    format!(
                        "Row {} has {} values but the schema has {} fields ({}).",
                        line + 1,
                        row.len(),
                        schema.len(),
                        schema.names().join(", ")
                    ),
                ));
            }
        }
        let slices = rows.len().max(1).min(self.parallelism());
        let total = rows.len();
        let sizes = (0..slices)
            .map(|i| (i + 1) * total / slices - i * total / slices)
            .collect::<Vec<_>>();
        self.create_dataframe_sliced(rows, &sizes, schema)
    }

    /// A DataFrame of `rows` cut into partitions of the given sizes (an
    /// RDD's partitions become the DataFrame's).
    pub fn create_dataframe_sliced(
        &self,
        rows: Vec<Row>,
        sizes: &[usize],
        schema: Schema,
    ) -> Result<DataFrame> {
        if sizes.iter().sum::<usize>() != rows.len() {
            return Err(EngineError::Internal(format!(
                "partition sizes {sizes:?} do not add up to {} rows",
                rows.len()
            )));
        }
        let id = next_id();
        let plan_schema = PlanSchema::from_schema(&schema, id);
        let mut batches = Vec::with_capacity(sizes.len().max(1));
        let mut start = 0;
        for size in sizes {
            batches.push(rows_to_frame(&rows[start..start + size], &plan_schema)?);
            start += size;
        }
        if batches.is_empty() {
            batches.push(rows_to_frame(&[], &plan_schema)?);
        }
        Ok(self.dataframe(
            LogicalPlan::LocalRelation {
                batches: Arc::new(batches),
            },
            plan_schema,
            id,
        ))
    }

    /// `createDataFrame` from Arrow record batches (a pandas frame handed
    /// over through the C stream interface): the rows sliced into partitions
    /// as `create_dataframe` slices a local collection, each column cast to
    /// its field's type.
    pub fn create_dataframe_from_arrow(
        &self,
        batches: &[arrow::record_batch::RecordBatch],
        schema: Schema,
    ) -> Result<DataFrame> {
        let id = next_id();
        let plan_schema = PlanSchema::from_schema(&schema, id);
        let columns: Vec<(String, DataType)> = plan_schema
            .attrs
            .iter()
            .map(|a| (a.physical.clone(), a.field.data_type.clone()))
            .collect();
        let arrow_schema = match batches.first() {
            Some(batch) => batch.schema(),
            None => {
                return Err(EngineError::Internal(
                    "an Arrow hand-over without batches".into(),
                ))
            }
        };
        if arrow_schema.fields().len() != schema.len() {
            return Err(EngineError::Internal(format!(
                "{} Arrow columns for {} fields",
                arrow_schema.fields().len(),
                schema.len()
            )));
        }
        let all = arrow::compute::concat_batches(&arrow_schema, batches)?;
        let total = all.num_rows();
        let slices = total.max(1).min(self.parallelism());
        let mut frames = Vec::with_capacity(slices);
        for i in 0..slices {
            let (start, end) = (i * total / slices, (i + 1) * total / slices);
            frames.push(crate::io::arrow_bridge::batch_to_frame(
                &all.slice(start, end - start),
                &columns,
            )?);
        }
        Ok(self.dataframe(
            LogicalPlan::LocalRelation {
                batches: Arc::new(frames),
            },
            plan_schema,
            id,
        ))
    }

    /// `spark.read.format(...).options(...).schema(...).load(paths)` for csv and parquet.
    pub fn read(
        &self,
        format: &str,
        paths: &[String],
        options: &[(String, String)],
        schema: Option<Schema>,
    ) -> Result<DataFrame> {
        if paths.is_empty() {
            return Err(EngineError::spark(
                "UNABLE_TO_INFER_SCHEMA",
                format!(
                    "Unable to infer schema for {}. It must be specified manually.",
                    format.to_uppercase()
                ),
            ));
        }
        let files = list_files(paths)?;
        if format.eq_ignore_ascii_case("json") {
            // JSON is read when the DataFrame is made, one partition per file.
            let mode = crate::io::json::ParseMode::from_options(options)?;
            let (schema, partitions) =
                crate::io::json::read(&files, schema, mode, &self.config().time_zone())?;
            let sizes: Vec<usize> = partitions.iter().map(Vec::len).collect();
            let rows = partitions.into_iter().flatten().collect();
            return self.create_dataframe_sliced(rows, &sizes, schema);
        }
        let partition_fields = partition_schema(&files);
        let (source_format, data_schema) = match format.to_ascii_lowercase().as_str() {
            "csv" => {
                let csv = CsvOptions::from_options(options)?;
                let data_schema = resolve_schema(&files, &csv, schema)?;
                (SourceFormat::Csv(csv), data_schema)
            }
            "parquet" => {
                let footers = files.iter().map(read_footer).collect::<Result<Vec<_>>>()?;
                let data_schema = match schema {
                    Some(s) => s,
                    None => {
                        if footers.is_empty() {
                            return Err(EngineError::spark(
                                "UNABLE_TO_INFER_SCHEMA",
                                "Unable to infer schema for Parquet. It must be specified manually.",
                            ));
                        }
                        merge_schemas(
                            &footers.iter().map(|f| f.schema.clone()).collect::<Vec<_>>(),
                        )?
                    }
                };
                (SourceFormat::Parquet(Arc::new(footers)), data_schema)
            }
            other => {
                return Err(EngineError::spark(
                    "DATA_SOURCE_NOT_FOUND",
                    format!(
                    "Failed to find the data source: {other}. Kiln reads csv, parquet and json."
                ),
                ))
            }
        };
        let partition_fields: Vec<StructField> = partition_fields
            .into_iter()
            .filter(|p| data_schema.field(&p.name).is_none())
            .collect();
        let mut fields = data_schema.fields.clone();
        fields.extend(partition_fields.iter().cloned());
        let id = next_id();
        let plan_schema = PlanSchema::from_schema(&Schema::new(fields), id);
        Ok(self.dataframe(
            LogicalPlan::Scan {
                source: Arc::new(FileSource {
                    format: source_format,
                    files: Arc::new(files),
                    data_schema,
                    partition_fields,
                }),
            },
            plan_schema,
            id,
        ))
    }

    pub fn create_temp_view(&self, name: &str, df: &DataFrame, replace: bool) -> Result<()> {
        let mut views = self
            .state
            .views
            .write()
            .map_err(|_| EngineError::Internal("catalog lock poisoned".into()))?;
        let key = name.to_ascii_lowercase();
        if !replace && views.contains_key(&key) {
            return Err(EngineError::analysis(
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                format!("Cannot create the temporary view `{name}` because it already exists.\nChoose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views."),
            ));
        }
        views.insert(key, df.clone());
        Ok(())
    }

    /// True when a view was dropped.
    pub fn drop_temp_view(&self, name: &str) -> bool {
        self.state
            .views
            .write()
            .map(|mut v| v.remove(&name.to_ascii_lowercase()).is_some())
            .unwrap_or(false)
    }

    /// `spark.sql(text)`: one statement; commands run now, queries stay lazy.
    pub fn sql(&self, text: &str) -> Result<DataFrame> {
        crate::sql::sql(self, text, &crate::sql::SqlArgs::None)
    }

    /// `spark.sql(text, args=...)` with `:name` or `?` parameters.
    pub fn sql_with_args(&self, text: &str, args: &crate::sql::SqlArgs) -> Result<DataFrame> {
        crate::sql::sql(self, text, args)
    }

    /// The DataFrame a temp view stands for, unqualified.
    pub fn temp_view(&self, name: &str) -> Option<DataFrame> {
        self.state
            .views
            .read()
            .ok()?
            .get(&name.trim_matches('`').to_ascii_lowercase())
            .cloned()
    }

    pub fn table(&self, name: &str) -> Result<DataFrame> {
        let views = self
            .state
            .views
            .read()
            .map_err(|_| EngineError::Internal("catalog lock poisoned".into()))?;
        views
            .get(&name.trim_matches('`').to_ascii_lowercase())
            .map(|df| df.aliased(name.trim_matches('`')))
            .ok_or_else(|| view_not_found(name))
    }

    /// Temp view names, sorted.
    /// Makes `udf` callable by `name` in SQL text, replacing an earlier one.
    pub fn register_udf(&self, name: &str, udf: Udf) {
        if let Ok(mut udfs) = self.state.udfs.write() {
            udfs.insert(name.to_ascii_lowercase(), udf);
        }
    }

    /// The functions registered for SQL.
    pub fn udfs(&self) -> BTreeMap<String, Udf> {
        self.state
            .udfs
            .read()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    pub fn view_names(&self) -> Vec<String> {
        self.state
            .views
            .read()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Builds one partition's polars frame from rows, checking each value's type.
fn rows_to_frame(rows: &[Row], schema: &PlanSchema) -> Result<PlFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(schema.len());
    for (index, attr) in schema.attrs.iter().enumerate() {
        let data_type = &attr.field.data_type;
        let values: Vec<polars::prelude::AnyValue<'static>> = rows
            .iter()
            .enumerate()
            .map(|(line, row)| any_value(&row[index], data_type, &attr.field.name, line))
            .collect::<Result<_>>()?;
        let series = polars::prelude::Series::from_any_values_and_dtype(
            attr.physical.as_str().into(),
            &values,
            &data_type.to_polars(),
            true,
        )
        .map_err(crate::exec::from_polars)?;
        columns.push(series.into_column());
    }
    PlFrame::new(rows.len(), columns).map_err(crate::exec::from_polars)
}

/// Spark's `TABLE_OR_VIEW_NOT_FOUND`.
pub fn view_not_found(name: &str) -> EngineError {
    EngineError::analysis(
        "TABLE_OR_VIEW_NOT_FOUND",
        format!(
            "The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog.\nSearch path: [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`].\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS."
        ),
    )
}

/// A value as polars holds it in a column of `data_type`.
pub fn any_value_of(
    value: &Value,
    data_type: &DataType,
) -> Result<polars::prelude::AnyValue<'static>> {
    any_value(value, data_type, "value", 0)
}

fn any_value(
    value: &Value,
    data_type: &DataType,
    field: &str,
    line: usize,
) -> Result<polars::prelude::AnyValue<'static>> {
    use polars::prelude::AnyValue as A;
    let mismatch = || {
        EngineError::spark(
            "FIELD_DATA_TYPE_UNACCEPTABLE",
            format!(
                "Row {}: field `{field}` is {} but the value {:?} does not fit it.",
                line + 1,
                data_type.simple_string(),
                value
            ),
        )
    };
    Ok(match (value, data_type) {
        (Value::Null, _) => A::Null,
        (Value::Boolean(b), DataType::Boolean) => A::Boolean(*b),
        (v, t) if t.is_integral() => {
            let n = match v {
                Value::Byte(x) => *x as i64,
                Value::Short(x) => *x as i64,
                Value::Integer(x) => *x as i64,
                Value::Long(x) => *x,
                _ => return Err(mismatch()),
            };
            match t {
                DataType::Byte => A::Int8(i8::try_from(n).map_err(|_| mismatch())?),
                DataType::Short => A::Int16(i16::try_from(n).map_err(|_| mismatch())?),
                DataType::Integer => A::Int32(i32::try_from(n).map_err(|_| mismatch())?),
                _ => A::Int64(n),
            }
        }
        (v, DataType::Float | DataType::Double) => {
            let x = match v {
                Value::Float(x) => *x as f64,
                Value::Double(x) => *x,
                Value::Integer(x) => *x as f64,
                Value::Long(x) => *x as f64,
                _ => return Err(mismatch()),
            };
            if *data_type == DataType::Float {
                A::Float32(x as f32)
            } else {
                A::Float64(x)
            }
        }
        (Value::Decimal(u, _, s), DataType::Decimal(p, ts)) => {
            let scaled = if ts >= s {
                u * 10i128.pow((ts - s) as u32)
            } else {
                u / 10i128.pow((s - ts) as u32)
            };
            A::Decimal(scaled, *p as usize, *ts as usize)
        }
        (Value::String(s), DataType::String) => A::StringOwned(s.as_str().into()),
        (Value::Binary(b), DataType::Binary) => A::BinaryOwned(b.clone()),
        (Value::Date(d), DataType::Date) => A::Date(*d),
        (Value::Timestamp(us), DataType::Timestamp)
        | (Value::TimestampNtz(us), DataType::TimestampNtz) => {
            A::DatetimeOwned(*us, polars::prelude::TimeUnit::Microseconds, None)
        }
        (Value::DayTimeInterval(us, _), DataType::DayTimeInterval(_)) => {
            A::Duration(*us, polars::prelude::TimeUnit::Microseconds)
        }
        (Value::Array(items), DataType::Array(element, _)) => {
            let values = items
                .iter()
                .map(|v| any_value(v, element, field, line))
                .collect::<Result<Vec<_>>>()?;
            let series = polars::prelude::Series::from_any_values_and_dtype(
                "".into(),
                &values,
                &element.to_polars(),
                true,
            )
            .map_err(crate::exec::from_polars)?;
            A::List(series)
        }
        (Value::Struct(entries), DataType::Struct(fields)) if entries.len() == fields.len() => {
            let values = entries
                .iter()
                .zip(fields)
                .map(|((_, v), f)| any_value(v, &f.data_type, field, line))
                .collect::<Result<Vec<_>>>()?;
            let polars_fields = fields
                .iter()
                .map(|f| {
                    polars::prelude::Field::new(f.name.as_str().into(), f.data_type.to_polars())
                })
                .collect();
            A::StructOwned(Box::new((values, polars_fields)))
        }
        // A map is held as a list of (key, value) structs.
        (Value::Map(entries), DataType::Map(key, value, value_null)) => {
            let entry_type = DataType::Struct(vec![
                StructField::new("key", key.as_ref().clone(), false),
                StructField::new("value", value.as_ref().clone(), *value_null),
            ]);
            let entries = entries
                .iter()
                .map(|(k, v)| {
                    Value::Struct(vec![("key".into(), k.clone()), ("value".into(), v.clone())])
                })
                .collect();
            return any_value(
                &Value::Array(entries),
                &DataType::Array(Box::new(entry_type), false),
                field,
                line,
            );
        }
        _ => return Err(mismatch()),
    })
}
