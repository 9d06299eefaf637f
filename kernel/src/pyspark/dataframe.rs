//! `DataFrame` and `GroupedData`: PySpark's methods over a lazy engine
//! DataFrame. Transformations build plans; actions run engine jobs with the
//! interpreter lock released, so the stop button and other threads work.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use kiln_engine::dataframe::SetOperation;
use kiln_engine::exec::join::JoinKind;
use kiln_engine::expr::{func, lit, Expr};
use kiln_engine::pivot::{pivot_aggregates, PivotValue};
use kiln_engine::plan::JoinOn;
use kiln_engine::value::Value;
use kiln_engine::DataFrame as EngineFrame;

use super::column::{col_or_name, columns_arg, to_expr, Column};
use super::convert::{schema_json, to_python};
use super::errors::{expected_type, raise, type_error, type_name, value_error, IntoPy};
use super::io::DataFrameWriter;

#[pyclass(module = "pyspark.sql.dataframe", name = "DataFrame", frozen)]
pub struct DataFrame {
    pub inner: EngineFrame,
    /// The Python `SparkSession` this DataFrame belongs to.
    pub session: Py<PyAny>,
}

impl DataFrame {
    pub fn wrap(&self, inner: EngineFrame) -> DataFrame {
        Python::attach(|py| DataFrame {
            inner,
            session: self.session.clone_ref(py),
        })
    }

    fn set_operation(
        &self,
        other: &Bound<'_, DataFrame>,
        op: SetOperation,
        all: bool,
    ) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.set_operation(&other.get().inner, op, all).py()?))
    }

    fn rows<'py>(
        &self,
        py: Python<'py>,
        rows: Vec<Vec<kiln_engine::value::Value>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let schema = self.inner.schema();
        let names = PyList::new(py, schema.fields.iter().map(|f| f.name.as_str()))?;
        let types = py.import("pyspark.sql.types")?;
        let row_type = types.getattr("_row_class")?.call1((&names,))?;
        // One attribute dict for all rows of the result, as rows never change it.
        let attrs = types.getattr("_row_attrs")?.call1((names,))?;
        let new_tuple = py.get_type::<PyTuple>().getattr("__new__")?;
        let set_attr = py.get_type::<pyo3::types::PyAny>().getattr("__setattr__")?;
        let out = PyList::empty(py);
        let _paused = GcPause::new(py)?;
        for row in rows {
            let mut values = Vec::with_capacity(row.len());
            for (value, field) in row.iter().zip(&schema.fields) {
                values.push(to_python(py, value, &field.data_type)?);
            }
            let made = new_tuple.call1((&row_type, PyTuple::new(py, values)?))?;
            set_attr.call1((&made, "__dict__", &attrs))?;
            out.append(made)?;
        }
        Ok(out)
    }

    fn sort_keys(
        &self,
        cols: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<Expr>> {
        let mut keys = columns_arg(cols, "cols")?;
        let ascending = match kwargs {
            Some(k) => k.get_item("ascending")?,
            None => None,
        };
        if let Some(ascending) = ascending {
            let flags: Vec<bool> = if let Ok(list) = ascending.cast::<PyList>() {
                list.iter()
                    .map(|v| v.is_truthy())
                    .collect::<PyResult<_>>()?
            } else if ascending.is_instance_of::<pyo3::types::PyBool>()
                || ascending.is_instance_of::<pyo3::types::PyInt>()
            {
                vec![ascending.is_truthy()?; keys.len()]
            } else {
                return Err(expected_type("ascending", "Column, int or str", &ascending));
            };
            // PySpark zips the two: a shorter `ascending` list drops sort keys.
            keys = keys
                .into_iter()
                .zip(flags)
                .map(|(k, asc)| if asc { k.asc() } else { k.desc() })
                .collect();
        }
        Ok(keys)
    }
}

fn condition_arg(df: &EngineFrame, condition: &Bound<'_, PyAny>) -> PyResult<Expr> {
    if let Ok(text) = condition.cast::<PyString>() {
        return kiln_engine::sql::expression(df.session(), text.to_str()?).py();
    }
    if let Ok(column) = condition.cast::<Column>() {
        return Ok(column.get().expr.clone());
    }
    Err(expected_type("condition", "Column or str", condition))
}

fn join_kind(how: Option<&str>) -> PyResult<JoinKind> {
    JoinKind::parse(how.unwrap_or("inner")).py()
}

#[pymethods]
impl DataFrame {
    /// The notebook's view of a DataFrame as a cell's value: a table of its
    /// first rows (`spark.sql.repl.eagerEval.enabled`, which Kiln turns on by
    /// default), else PySpark's `DataFrame[...]` text.
    #[pyo3(signature = (include=None, exclude=None))]
    fn _repr_mimebundle_<'py>(
        &self,
        py: Python<'py>,
        include: Option<&Bound<'py, PyAny>>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let _ = (include, exclude);
        let eager = self
            .inner
            .session()
            .config()
            .get("spark.sql.repl.eagerEval.enabled")
            .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        if eager {
            return self._kiln_table(py, None);
        }
        let bundle = PyDict::new(py);
        bundle.set_item("text/plain", self.__repr__())?;
        Ok(bundle)
    }

    /// `display(df, n=...)`'s bundle: the first `n` rows (default
    /// `spark.sql.repl.eagerEval.maxNumRows`, 20) as HTML and `show()` text,
    /// cells cut at `spark.sql.repl.eagerEval.truncate` (20) characters.
    #[pyo3(signature = (n=None))]
    fn _kiln_table<'py>(&self, py: Python<'py>, n: Option<usize>) -> PyResult<Bound<'py, PyDict>> {
        let config = self.inner.session().config();
        let setting = |key: &str| config.get(key).and_then(|v| v.trim().parse::<usize>().ok());
        let rows = n
            .or_else(|| setting("spark.sql.repl.eagerEval.maxNumRows"))
            .unwrap_or(20);
        let truncate = setting("spark.sql.repl.eagerEval.truncate").unwrap_or(20);
        let df = self.inner.clone();
        let preview = py.detach(|| df.preview(rows)).py()?;
        let bundle = PyDict::new(py);
        for (mime, value) in crate::display::table::table_bundle(&preview, truncate) {
            bundle.set_item(mime, value.as_str().unwrap_or_default())?;
        }
        Ok(bundle)
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .inner
            .schema()
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.data_type.simple_string()))
            .collect();
        format!("DataFrame[{}]", fields.join(", "))
    }

    fn __getattr__(&self, name: &str) -> PyResult<Column> {
        if name.starts_with("__")
            || !self
                .inner
                .columns()
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name))
        {
            return Python::attach(|py| {
                Err(raise(
                    py,
                    "PySparkAttributeError",
                    format!("[ATTRIBUTE_NOT_SUPPORTED] Attribute `{name}` is not supported."),
                ))
            });
        }
        Ok(Column::new(self.inner.col(name).py()?))
    }

    fn __getitem__(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(name) = item.cast::<PyString>() {
            return Ok(Column::new(self.inner.col(name.to_str()?).py()?)
                .into_pyobject(py)?
                .into_any()
                .unbind());
        }
        if let Ok(index) = item.extract::<usize>() {
            // PySpark indexes its list of column names; a name two columns
            // share (after a join) falls back to the column's position.
            let name = self.inner.columns().get(index).cloned().ok_or_else(|| {
                pyo3::exceptions::PyIndexError::new_err("list index out of range")
            })?;
            let expr = match self.inner.col(&format!("`{}`", name.replace('`', "``"))) {
                Ok(expr) => expr,
                Err(_) => self.inner.column_at(index).ok_or_else(|| {
                    pyo3::exceptions::PyIndexError::new_err("list index out of range")
                })?,
            };
            return Ok(Column::new(expr).into_pyobject(py)?.into_any().unbind());
        }
        if let Ok(column) = item.cast::<Column>() {
            let df = self.inner.filter(column.get().expr.clone()).py()?;
            return Ok(self.wrap(df).into_pyobject(py)?.into_any().unbind());
        }
        if item.is_instance_of::<PyList>() || item.is_instance_of::<PyTuple>() {
            let exprs: Vec<Expr> = item
                .try_iter()?
                .map(|c| col_or_name(&c?, "cols"))
                .collect::<PyResult<_>>()?;
            let df = self.inner.select(exprs).py()?;
            return Ok(self.wrap(df).into_pyobject(py)?.into_any().unbind());
        }
        Err(expected_type(
            "item",
            "Column, float, integer, list or string",
            item,
        ))
    }

    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner.columns()
    }

    #[getter]
    fn dtypes(&self) -> Vec<(String, String)> {
        self.inner
            .schema()
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.data_type.simple_string()))
            .collect()
    }

    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("pyspark.sql.types")?
            .getattr("_parse_datatype_json_string")?
            .call1((schema_json(&self.inner.schema()),))
    }

    /// `df.plot`: charts (`df.plot.bar(x, y)`, `df.plot(kind="line", ...)`).
    #[getter]
    fn plot<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("pyspark.sql.plot")?
            .getattr("PySparkPlotAccessor")?
            .call1((slf,))
    }

    /// `df.na`: fill and drop of missing values.
    #[getter]
    fn na<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        stats_module(slf.py())?
            .getattr("DataFrameNaFunctions")?
            .call1((slf,))
    }

    #[pyo3(signature = (value, subset=None))]
    fn fillna<'py>(
        slf: &Bound<'py, Self>,
        value: &Bound<'py, PyAny>,
        subset: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        stats_module(slf.py())?
            .getattr("fillna")?
            .call1((slf, value, subset))
    }

    #[pyo3(signature = (how="any", thresh=None, subset=None))]
    fn dropna<'py>(
        slf: &Bound<'py, Self>,
        how: &str,
        thresh: Option<i64>,
        subset: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        stats_module(slf.py())?
            .getattr("dropna")?
            .call1((slf, how, thresh, subset))
    }

    #[pyo3(signature = (*cols))]
    fn describe<'py>(
        slf: &Bound<'py, Self>,
        cols: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_stats(slf, "describe", cols)
    }

    #[pyo3(signature = (*statistics))]
    fn summary<'py>(
        slf: &Bound<'py, Self>,
        statistics: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_stats(slf, "summary", statistics)
    }

    /// `df.toPandas()`, as PySpark converts without Arrow.
    fn toPandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("pyspark.sql.pandas.conversion")?
            .getattr("to_pandas")?
            .call1((slf,))
    }

    /// `df.toArrow()`: a pyarrow Table.
    fn toArrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("pyspark.sql.pandas.conversion")?
            .getattr("to_arrow")?
            .call1((slf,))
    }

    /// The result as a pyarrow Table, handed over through the Arrow C
    /// stream interface (no per-value conversion); `pyarrow` must be importable.
    fn _arrow_table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        use kiln_engine::arrow::ffi_stream::FFI_ArrowArrayStream;
        use kiln_engine::arrow::record_batch::RecordBatchIterator;

        let df = self.inner.clone();
        let (schema, batches) = py.detach(|| df.collect_arrow()).py()?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        let mut stream = Box::new(FFI_ArrowArrayStream::new(Box::new(reader)));
        let address = std::ptr::addr_of_mut!(*stream) as usize;
        // pyarrow moves the stream out (leaving it released), so dropping
        // the box afterwards frees only the empty struct.
        let imported = py
            .import("pyarrow")?
            .getattr("RecordBatchReader")?
            .call_method1("_import_from_c", (address,))?;
        let table = imported.call_method0("read_all")?;
        drop(stream);
        Ok(table)
    }

    /// `df.rdd`: the rows as an RDD of `Row`s, one RDD partition per
    /// DataFrame partition.
    #[getter]
    fn rdd<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("pyspark.rdd")?
            .getattr("_from_dataframe")?
            .call1((slf,))
    }

    #[getter]
    fn sparkSession(&self, py: Python<'_>) -> Py<PyAny> {
        self.session.clone_ref(py)
    }

    #[getter]
    fn isStreaming(&self) -> bool {
        false
    }

    #[getter]
    fn write(&self) -> DataFrameWriter {
        DataFrameWriter::new(self.inner.clone())
    }

    #[pyo3(signature = (level=None))]
    fn printSchema(&self, py: Python<'_>, level: Option<i64>) -> PyResult<()> {
        let mut text = self.inner.schema().tree_string();
        if let Some(level) = level.filter(|l| *l > 0) {
            // A field nested d deep is drawn after d `|` marks.
            text = text
                .lines()
                .filter(|line| {
                    let marks = line.split("--").next().unwrap_or("").matches('|').count();
                    marks as i64 <= level
                })
                .map(|line| format!("{line}\n"))
                .collect();
        }
        py.import("builtins")?.getattr("print")?.call1((text,))?;
        Ok(())
    }

    #[pyo3(signature = (n=None, truncate=None, vertical=None))]
    fn show(
        &self,
        py: Python<'_>,
        n: Option<&Bound<'_, PyAny>>,
        truncate: Option<&Bound<'_, PyAny>>,
        vertical: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let n = match n {
            None => 20,
            Some(n)
                if n.is_instance_of::<pyo3::types::PyBool>()
                    || !n.is_instance_of::<pyo3::types::PyInt>() =>
            {
                return Err(expected_type("n", "int", n))
            }
            Some(n) => n.extract::<i64>()?,
        };
        let vertical = match vertical {
            None => false,
            Some(v) if v.is_instance_of::<pyo3::types::PyBool>() => v.is_truthy()?,
            Some(v) => return Err(expected_type("vertical", "bool", v)),
        };
        let truncate = match truncate {
            None => 20,
            Some(t) if t.is_instance_of::<pyo3::types::PyBool>() => {
                if t.is_truthy()? {
                    20
                } else {
                    0
                }
            }
            Some(t) => t
                .extract::<usize>()
                .map_err(|_| expected_type("truncate", "bool", t))?,
        };
        let n = n.max(0) as usize;
        let df = self.inner.clone();
        let text = py.detach(|| df.show_string(n, truncate, vertical)).py()?;
        py.import("builtins")?.getattr("print")?.call1((text,))?;
        Ok(())
    }

    fn count(&self, py: Python<'_>) -> PyResult<i64> {
        let df = self.inner.clone();
        py.detach(|| df.count()).py()
    }

    fn collect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let df = self.inner.clone();
        let rows = py.detach(|| df.collect()).py()?;
        self.rows(py, rows)
    }

    /// The rows of each partition, for `df.rdd`.
    fn _collect_partitions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let df = self.inner.clone();
        let partitions = py.detach(|| df.collect_partitions()).py()?;
        let out = PyList::empty(py);
        for rows in partitions {
            out.append(self.rows(py, rows)?)?;
        }
        Ok(out)
    }

    fn take<'py>(&self, py: Python<'py>, num: i64) -> PyResult<Bound<'py, PyList>> {
        let num = limit_count(num)?;
        let df = self.inner.clone();
        let rows = py.detach(|| df.take(num)).py()?;
        self.rows(py, rows)
    }

    #[pyo3(signature = (n=None))]
    fn head<'py>(&self, py: Python<'py>, n: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        match n {
            Some(n) => Ok(self.take(py, n)?.into_any()),
            None => self.first(py),
        }
    }

    fn first<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.take(py, 1)?;
        if rows.is_empty() {
            Ok(py.None().into_bound(py))
        } else {
            rows.get_item(0)
        }
    }

    fn isEmpty(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.take(py, 1)?.is_empty())
    }

    #[pyo3(signature = (*cols))]
    fn select(&self, cols: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.select(columns_arg(cols, "col")?).py()?))
    }

    #[pyo3(signature = (*expr))]
    fn selectExpr(&self, expr: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        let texts: Vec<String> = if expr.len() == 1 && expr.get_item(0)?.is_instance_of::<PyList>()
        {
            expr.get_item(0)?.extract()?
        } else {
            expr.extract()?
        };
        let exprs = texts
            .iter()
            .map(|t| kiln_engine::sql::expression(self.inner.session(), t))
            .collect::<kiln_engine::Result<Vec<_>>>()
            .py()?;
        Ok(self.wrap(self.inner.select(exprs).py()?))
    }

    fn filter(&self, condition: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
        Ok(self.wrap(
            self.inner
                .filter(condition_arg(&self.inner, condition)?)
                .py()?,
        ))
    }

    #[pyo3(name = "where")]
    fn where_(&self, condition: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
        self.filter(condition)
    }

    #[pyo3(signature = (colName, col))]
    fn withColumn(&self, colName: &str, col: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
        let column = col
            .cast::<Column>()
            .map_err(|_| expected_type("col", "Column", col))?;
        Ok(self.wrap(
            self.inner
                .with_column(colName, column.get().expr.clone())
                .py()?,
        ))
    }

    #[pyo3(signature = (*colsMap))]
    fn withColumns(&self, colsMap: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        let map = colsMap.get_item(0)?;
        let map = map
            .cast::<PyDict>()
            .map_err(|_| expected_type("colsMap", "dict", &map))?;
        let mut columns = Vec::new();
        for (name, column) in map.iter() {
            columns.push((name.extract::<String>()?, to_expr(&column)?));
        }
        Ok(self.wrap(self.inner.with_columns(columns).py()?))
    }

    fn withColumnRenamed(&self, existing: &str, new: &str) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.with_column_renamed(existing, new).py()?))
    }

    fn withColumnsRenamed(&self, colsMap: &Bound<'_, PyDict>) -> PyResult<DataFrame> {
        let mut df = self.inner.clone();
        for (existing, new) in colsMap.iter() {
            df = df
                .with_column_renamed(&existing.extract::<String>()?, &new.extract::<String>()?)
                .py()?;
        }
        Ok(self.wrap(df))
    }

    #[pyo3(signature = (*cols))]
    fn drop(&self, cols: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        let mut df = self.inner.clone();
        for item in cols.iter() {
            if let Ok(name) = item.cast::<PyString>() {
                df = df.drop(&[name.to_str()?.to_string()]).py()?;
            } else if let Ok(column) = item.cast::<Column>() {
                df = df.drop_column(&column.get().expr).py()?;
            } else {
                return Err(expected_type("col", "Column or str", &item));
            }
        }
        Ok(self.wrap(df))
    }

    /// `unpivot(ids, values, variableColumnName, valueColumnName)`: each row
    /// once per value column (every non-id column when `values` is None),
    /// nulls kept, as PySpark.
    #[pyo3(signature = (ids, values, variableColumnName, valueColumnName))]
    fn unpivot(
        &self,
        ids: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        variableColumnName: &str,
        valueColumnName: &str,
    ) -> PyResult<DataFrame> {
        let ids = one_or_many(ids, "ids")?;
        let values = if values.is_none() {
            let id_names: Vec<String> = ids
                .iter()
                .map(|id| id.output_name().to_ascii_lowercase())
                .collect();
            let names = self.inner.columns();
            (0..names.len())
                .filter(|i| !id_names.contains(&names[*i].to_ascii_lowercase()))
                .filter_map(|i| self.inner.column_at(i))
                .collect()
        } else {
            one_or_many(values, "values")?
        };
        let values = values
            .into_iter()
            .map(|value| {
                let label = value.output_name();
                (value, label)
            })
            .collect();
        let df = self
            .inner
            .unpivot(ids, values, variableColumnName, valueColumnName, true)
            .py()?;
        Ok(self.wrap(df))
    }

    /// `melt`: `unpivot` by its pandas name.
    #[pyo3(signature = (ids, values, variableColumnName, valueColumnName))]
    fn melt(
        &self,
        ids: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        variableColumnName: &str,
        valueColumnName: &str,
    ) -> PyResult<DataFrame> {
        self.unpivot(ids, values, variableColumnName, valueColumnName)
    }

    fn distinct(&self) -> DataFrame {
        self.wrap(self.inner.distinct())
    }

    #[pyo3(signature = (subset=None))]
    fn dropDuplicates(&self, subset: Option<Vec<String>>) -> PyResult<DataFrame> {
        Ok(match subset {
            Some(subset) => self.wrap(self.inner.drop_duplicates(&subset).py()?),
            None => self.wrap(self.inner.distinct()),
        })
    }

    #[pyo3(signature = (subset=None))]
    fn drop_duplicates(&self, subset: Option<Vec<String>>) -> PyResult<DataFrame> {
        self.dropDuplicates(subset)
    }

    fn limit(&self, num: i64) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.limit(limit_count(num)?)))
    }

    fn offset(&self, num: usize) -> DataFrame {
        self.wrap(self.inner.offset(num))
    }

    #[pyo3(signature = (*cols, **kwargs))]
    fn orderBy(
        &self,
        cols: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        let keys = self.sort_keys(cols, kwargs)?;
        Ok(self.wrap(self.inner.order_by(keys).py()?))
    }

    #[pyo3(signature = (*cols, **kwargs))]
    fn sort(
        &self,
        cols: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        self.orderBy(cols, kwargs)
    }

    #[pyo3(signature = (*cols, **kwargs))]
    fn sortWithinPartitions(
        &self,
        cols: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        let keys = self.sort_keys(cols, kwargs)?;
        Ok(self.wrap(self.inner.sort_within_partitions(keys).py()?))
    }

    #[pyo3(signature = (*cols))]
    fn groupBy(&self, cols: &Bound<'_, PyTuple>) -> PyResult<GroupedData> {
        Ok(GroupedData {
            keys: columns_arg(cols, "cols")?,
            frame: self.wrap(self.inner.clone()),
            pivot: None,
        })
    }

    #[pyo3(signature = (*cols))]
    fn groupby(&self, cols: &Bound<'_, PyTuple>) -> PyResult<GroupedData> {
        self.groupBy(cols)
    }

    #[pyo3(signature = (*exprs))]
    fn agg(&self, exprs: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        GroupedData {
            keys: vec![],
            frame: self.wrap(self.inner.clone()),
            pivot: None,
        }
        .agg(exprs)
    }

    #[pyo3(signature = (other, on=None, how=None))]
    fn join(
        &self,
        other: &Bound<'_, DataFrame>,
        on: Option<&Bound<'_, PyAny>>,
        how: Option<&str>,
    ) -> PyResult<DataFrame> {
        let right = &other.get().inner;
        let on_spec = match on {
            None => JoinOn::Nothing,
            Some(on) if on.is_none() => JoinOn::Nothing,
            Some(on) => {
                if let Ok(name) = on.cast::<PyString>() {
                    JoinOn::Using(vec![name.to_str()?.to_string()])
                } else if let Ok(column) = on.cast::<Column>() {
                    JoinOn::Condition(column.get().expr.clone())
                } else if on.is_instance_of::<PyList>() || on.is_instance_of::<PyTuple>() {
                    let items: Vec<Bound<'_, PyAny>> = on.try_iter()?.collect::<PyResult<_>>()?;
                    if items
                        .first()
                        .is_some_and(|i| i.is_instance_of::<PyString>())
                    {
                        JoinOn::Using(items.iter().map(|i| i.extract()).collect::<PyResult<_>>()?)
                    } else {
                        let mut condition: Option<Expr> = None;
                        for item in &items {
                            let e = item
                                .cast::<Column>()
                                .map_err(|_| join_on_error())?
                                .get()
                                .expr
                                .clone();
                            condition = Some(match condition {
                                Some(prev) => prev.and(e),
                                None => e,
                            });
                        }
                        condition.map_or(JoinOn::Nothing, JoinOn::Condition)
                    }
                } else {
                    return Err(join_on_error());
                }
            }
        };
        let kind = match (&on_spec, how) {
            (JoinOn::Nothing, None) => JoinKind::Inner,
            _ => join_kind(how)?,
        };
        Ok(self.wrap(self.inner.join(right, on_spec, kind).py()?))
    }

    fn crossJoin(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        Ok(self.wrap(
            self.inner
                .join(&other.get().inner, JoinOn::Nothing, JoinKind::Cross)
                .py()?,
        ))
    }

    fn union(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.union(&other.get().inner).py()?))
    }

    fn unionAll(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        self.union(other)
    }

    fn intersect(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        self.set_operation(other, SetOperation::Intersect, false)
    }

    fn intersectAll(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        self.set_operation(other, SetOperation::Intersect, true)
    }

    fn subtract(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        self.set_operation(other, SetOperation::Except, false)
    }

    fn exceptAll(&self, other: &Bound<'_, DataFrame>) -> PyResult<DataFrame> {
        self.set_operation(other, SetOperation::Except, true)
    }

    #[pyo3(signature = (other, allowMissingColumns=false))]
    fn unionByName(
        &self,
        other: &Bound<'_, DataFrame>,
        allowMissingColumns: bool,
    ) -> PyResult<DataFrame> {
        Ok(self.wrap(
            self.inner
                .union_by_name(&other.get().inner, allowMissingColumns)
                .py()?,
        ))
    }

    #[pyo3(signature = (numPartitions=None, *cols))]
    fn repartition(
        &self,
        numPartitions: Option<&Bound<'_, PyAny>>,
        cols: &Bound<'_, PyTuple>,
    ) -> PyResult<DataFrame> {
        let mut keys = columns_arg(cols, "cols")?;
        let n = match numPartitions {
            Some(n) if n.is_instance_of::<pyo3::types::PyInt>() => Some(n.extract::<usize>()?),
            Some(c) => {
                keys.insert(0, col_or_name(c, "numPartitions")?);
                None
            }
            None => None,
        };
        Ok(self.wrap(self.inner.repartition(n, keys).py()?))
    }

    fn coalesce(&self, numPartitions: usize) -> PyResult<DataFrame> {
        Ok(self.wrap(self.inner.coalesce(numPartitions).py()?))
    }

    fn cache(&self) -> DataFrame {
        self.wrap(self.inner.persist())
    }

    #[pyo3(signature = (storageLevel=None))]
    fn persist(&self, storageLevel: Option<&Bound<'_, PyAny>>) -> DataFrame {
        let _ = storageLevel;
        self.wrap(self.inner.persist())
    }

    #[pyo3(signature = (blocking=false))]
    fn unpersist(&self, blocking: bool) -> DataFrame {
        let _ = blocking;
        self.wrap(self.inner.unpersist())
    }

    #[getter]
    fn is_cached(&self) -> bool {
        self.inner.is_cached()
    }

    /// `sample(fraction)`, `sample(fraction, seed)`,
    /// `sample(withReplacement, fraction[, seed])`, as PySpark sorts them out.
    #[pyo3(signature = (withReplacement=None, fraction=None, seed=None))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        withReplacement: Option<&Bound<'py, PyAny>>,
        fraction: Option<&Bound<'py, PyAny>>,
        seed: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<DataFrame> {
        let given = |v: Option<&Bound<'py, PyAny>>| v.filter(|v| !v.is_none()).cloned();
        let (replacement, fraction, seed) = (given(withReplacement), given(fraction), given(seed));
        let is_float = |v: &Option<Bound<'py, PyAny>>| {
            v.as_ref()
                .is_some_and(|v| v.is_instance_of::<pyo3::types::PyFloat>())
        };
        let int = |v: Option<Bound<'py, PyAny>>| -> PyResult<i64> {
            match v {
                Some(v) => py
                    .import("builtins")?
                    .getattr("int")?
                    .call1((v,))?
                    .extract(),
                None => Ok(rand_seed()),
            }
        };
        let (with_replacement, fraction, seed) = match (&replacement, &fraction) {
            (Some(w), Some(f))
                if w.is_instance_of::<pyo3::types::PyBool>() && is_float(&fraction) =>
            {
                (w.is_truthy()?, f.extract::<f64>()?, int(seed)?)
            }
            (None, Some(f)) if is_float(&fraction) => (false, f.extract::<f64>()?, int(seed)?),
            (Some(w), _) if is_float(&replacement) => (false, w.extract::<f64>()?, int(fraction)?),
            _ => {
                let types: Vec<String> = [&replacement, &fraction, &seed]
                    .iter()
                    .map(|v| v.as_ref().map_or("NoneType".to_string(), type_name))
                    .collect();
                return Err(type_error(
                    "NOT_EXPECTED_TYPE",
                    format!(
                        "Argument `withReplacement (optional), fraction (required) and seed (optional)` should be bool, float or int, got {}.",
                        types.join(", ")
                    ),
                ));
            }
        };
        Ok(self.wrap(self.inner.sample(with_replacement, fraction, seed).py()?))
    }

    /// `corr(col1, col2, method=None)`: Pearson's coefficient.
    #[pyo3(signature = (col1, col2, method=None))]
    fn corr(
        &self,
        py: Python<'_>,
        col1: &Bound<'_, PyAny>,
        col2: &Bound<'_, PyAny>,
        method: Option<&str>,
    ) -> PyResult<Option<f64>> {
        let (col1, col2) = (stat_column(col1, "col1")?, stat_column(col2, "col2")?);
        if !matches!(method, None | Some("") | Some("pearson")) {
            return Err(value_error(
                "VALUE_NOT_ALLOWED",
                "Value for `method` has to be amongst the following values: ['pearson'].",
            ));
        }
        let df = self.inner.clone();
        py.detach(|| df.stat_co_moment("corr", &col1, &col2)).py()
    }

    /// `cov(col1, col2)`: the sample covariance.
    fn cov(
        &self,
        py: Python<'_>,
        col1: &Bound<'_, PyAny>,
        col2: &Bound<'_, PyAny>,
    ) -> PyResult<Option<f64>> {
        let (col1, col2) = (stat_column(col1, "col1")?, stat_column(col2, "col2")?);
        let df = self.inner.clone();
        py.detach(|| df.stat_co_moment("covar_samp", &col1, &col2))
            .py()
    }

    /// `randomSplit(weights, seed=None)`.
    #[pyo3(signature = (weights, seed=None))]
    fn randomSplit(&self, weights: Vec<f64>, seed: Option<i64>) -> PyResult<Vec<DataFrame>> {
        if let Some(w) = weights.iter().find(|w| **w < 0.0) {
            return Err(value_error(
                "VALUE_NOT_POSITIVE",
                format!("Value for `weights` must be positive, got '{w:?}'."),
            ));
        }
        let seed = seed.unwrap_or_else(|| rand_seed().wrapping_abs());
        let splits = self.inner.random_split(&weights, seed).py()?;
        Ok(splits.into_iter().map(|df| self.wrap(df)).collect())
    }

    fn alias(&self, alias: &str) -> DataFrame {
        self.wrap(self.inner.aliased(alias))
    }

    #[pyo3(signature = (*cols))]
    fn toDF(&self, cols: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        let names: Vec<String> = cols.extract()?;
        let current = self.inner.columns();
        if names.len() != current.len() {
            return Err(super::errors::to_python(kiln_engine::EngineError::analysis(
                "ASSIGNMENT_ARITY_MISMATCH",
                format!(
                    "The number of columns or variables assigned or aliased: {} does not match the number of source expressions: {}.",
                    current.len(),
                    names.len()
                ),
            )));
        }
        let exprs = (0..current.len())
            .map(|i| {
                self.inner
                    .column_at(i)
                    .map(|e| e.alias(&names[i]))
                    .ok_or_else(|| type_error("INTERNAL", "column out of range"))
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(self.wrap(self.inner.select(exprs).py()?))
    }

    fn createOrReplaceTempView(&self, name: &str) -> PyResult<()> {
        self.inner
            .session()
            .create_temp_view(name, &self.inner, true)
            .py()
    }

    fn createTempView(&self, name: &str) -> PyResult<()> {
        self.inner
            .session()
            .create_temp_view(name, &self.inner, false)
            .py()
    }

    fn registerTempTable(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let warnings = py.import("warnings")?;
        let category = py.import("builtins")?.getattr("FutureWarning")?;
        warnings.call_method1(
            "warn",
            (
                "Deprecated in 2.0, use createOrReplaceTempView instead.",
                category,
            ),
        )?;
        self.createOrReplaceTempView(name)
    }

    /// `explain()`, `explain(True)`, `explain("formatted")`,
    /// `explain(mode="cost")`, with PySpark's argument rules.
    #[pyo3(signature = (extended=None, mode=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        extended: Option<&Bound<'py, PyAny>>,
        mode: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        use kiln_engine::sql::ExplainMode;

        let given = |v: Option<&Bound<'py, PyAny>>| v.filter(|v| !v.is_none()).cloned();
        let name: String = match (given(extended), given(mode)) {
            (Some(_), Some(_)) => {
                return Err(super::errors::value_error(
                    "CANNOT_SET_TOGETHER",
                    "extended and mode should not be set together.",
                ))
            }
            (None, None) => "simple".into(),
            (Some(e), None) if e.is_instance_of::<pyo3::types::PyBool>() => {
                if e.is_truthy()? { "extended" } else { "simple" }.into()
            }
            (Some(e), None) if e.is_instance_of::<PyString>() => e.extract()?,
            (Some(e), None) => return Err(expected_type("extended", "bool or str", &e)),
            (None, Some(m)) if m.is_instance_of::<PyString>() => m.extract()?,
            (None, Some(m)) => return Err(expected_type("mode", "str", &m)),
        };
        let mode = match name.to_ascii_lowercase().as_str() {
            "simple" => ExplainMode::Simple,
            "extended" => ExplainMode::Extended,
            "codegen" => ExplainMode::Codegen,
            "cost" => ExplainMode::Cost,
            "formatted" => ExplainMode::Formatted,
            _ => {
                return Err(raise(
                    py,
                    "IllegalArgumentException",
                    format!("Unknown explain mode: {name}. Accepted explain modes are 'simple', 'extended', 'codegen', 'cost', 'formatted'."),
                ))
            }
        };
        let text = self.inner.explain_mode_string(mode);
        let builtins = py.import("builtins")?;
        builtins.getattr("print")?.call1((text,))?;
        // In a notebook, the stages as a picture too.
        if mode != ExplainMode::Codegen {
            if let Ok(display) = builtins.getattr("display") {
                let stages = self.inner.stage_graph();
                let bundle = PyDict::new(py);
                bundle.set_item(
                    "image/svg+xml",
                    crate::display::plan_graph::stage_graph_svg(&stages),
                )?;
                bundle.set_item(
                    "text/plain",
                    crate::display::plan_graph::stage_graph_text(&stages),
                )?;
                let kwargs = PyDict::new(py);
                kwargs.set_item("raw", true)?;
                display.call((bundle,), Some(&kwargs))?;
            }
        }
        Ok(())
    }

    fn getNumPartitions(&self, py: Python<'_>) -> PyResult<usize> {
        let df = self.inner.clone();
        py.detach(|| df.num_partitions()).py()
    }
}

/// A row count for `limit` / `take` / `head`, which Spark's analyzer
/// rejects when negative.
fn limit_count(num: i64) -> PyResult<usize> {
    usize::try_from(num).map_err(|_| {
        super::errors::to_python(kiln_engine::EngineError::analysis(
            "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
            format!(
                "The limit like expression \"{num}\" is invalid. The limit expression must be equal to or greater than 0, but got {num}."
            ),
        ))
    })
}

/// PySpark's assertion for a join's `on` that is neither names nor Columns.
fn join_on_error() -> PyErr {
    pyo3::exceptions::PyAssertionError::new_err("on should be Column or list of Column")
}

/// A column name argument of `corr` / `cov`, which take names only.
fn stat_column(value: &Bound<'_, PyAny>, argument: &str) -> PyResult<String> {
    value
        .extract::<String>()
        .map_err(|_| expected_type(argument, "str", value))
}

fn rand_seed() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A column, a name, or a list or tuple of them.
fn one_or_many(value: &Bound<'_, PyAny>, argument: &str) -> PyResult<Vec<Expr>> {
    if value.is_instance_of::<pyo3::types::PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| col_or_name(&item?, argument))
            .collect();
    }
    Ok(vec![col_or_name(value, argument)?])
}

/// `df.groupBy(...)`: keys waiting for their aggregates.
#[pyclass(module = "pyspark.sql.group", name = "GroupedData", frozen)]
pub struct GroupedData {
    keys: Vec<Expr>,
    frame: DataFrame,
    pivot: Option<Pivot>,
}

/// `groupBy(...).pivot(column, values)`: one output column per value (and
/// aggregate).
#[derive(Clone)]
struct Pivot {
    column: Expr,
    values: Vec<Value>,
}

/// Spark's `spark.sql.pivotMaxValues`.
const PIVOT_MAX_VALUES: usize = 10_000;

impl Pivot {
    fn expand(&self, aggregates: Vec<Expr>, frame: &EngineFrame) -> Vec<Expr> {
        let time_zone = frame.session().config().time_zone();
        let values: Vec<PivotValue> = self
            .values
            .iter()
            .map(|v| PivotValue::new(v.clone(), &time_zone))
            .collect();
        pivot_aggregates(&self.column, &values, &aggregates)
    }
}

impl GroupedData {
    fn aggregate(&self, aggregates: Vec<Expr>) -> PyResult<DataFrame> {
        let aggregates = match &self.pivot {
            Some(pivot) => pivot.expand(aggregates, &self.frame.inner),
            None => aggregates,
        };
        let df = self
            .frame
            .inner
            .aggregate(self.keys.clone(), aggregates)
            .py()?;
        Ok(self.frame.wrap(df))
    }

    /// `fn(col)` over the named columns, or over every numeric column.
    fn numeric(&self, function: &str, cols: Vec<String>) -> PyResult<DataFrame> {
        let names = if cols.is_empty() {
            let key_names: Vec<String> = self.keys.iter().map(|k| k.output_name()).collect();
            self.frame
                .inner
                .schema()
                .fields
                .iter()
                .filter(|f| f.data_type.is_numeric() && !key_names.contains(&f.name))
                .map(|f| f.name.clone())
                .collect()
        } else {
            for name in &cols {
                let field = self.frame.inner.schema().field(name).cloned();
                if let Some(field) = field {
                    if !field.data_type.is_numeric() {
                        return Python::attach(|py| {
                            Err(raise(
                                py,
                                "AnalysisException",
                                format!("\"{name}\" is not a numeric column. Aggregation function can only be applied on a numeric column."),
                            ))
                        });
                    }
                }
            }
            cols
        };
        let aggregates = names
            .iter()
            .map(|n| self.frame.inner.col(n).map(|c| func(function, vec![c])))
            .collect::<kiln_engine::Result<Vec<_>>>()
            .py()?;
        self.aggregate(aggregates)
    }
}

#[pymethods]
impl GroupedData {
    fn __repr__(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        format!(
            "GroupedData[grouping expressions: [{}], value: {}, type: GroupBy]",
            keys.join(", "),
            self.frame.__repr__()
        )
    }

    #[pyo3(signature = (*exprs))]
    fn agg(&self, exprs: &Bound<'_, PyTuple>) -> PyResult<DataFrame> {
        if exprs.len() == 1 {
            if let Ok(map) = exprs.get_item(0)?.cast::<PyDict>() {
                let mut aggregates = Vec::new();
                for (name, function) in map.iter() {
                    let name: String = name.extract()?;
                    let function: String = function.extract()?;
                    let column = if name == "*" {
                        lit(1)
                    } else {
                        self.frame.inner.col(&name).py()?
                    };
                    aggregates.push(func(&function, vec![column]));
                }
                return self.aggregate(aggregates);
            }
        }
        let aggregates = exprs
            .iter()
            .map(|e| {
                e.cast::<Column>()
                    .map(|c| c.get().expr.clone())
                    .map_err(|_| {
                        pyo3::exceptions::PyAssertionError::new_err("all exprs should be Column")
                    })
            })
            .collect::<PyResult<Vec<_>>>()?;
        if aggregates.is_empty() {
            return Err(super::errors::value_error(
                "CANNOT_BE_EMPTY",
                "At least one agg must be provided.",
            ));
        }
        self.aggregate(aggregates)
    }

    fn count(&self) -> PyResult<DataFrame> {
        self.aggregate(vec![func("count", vec![lit(1)]).alias("count")])
    }

    /// `pivot(column, values=None)`: without values, the column's distinct
    /// values in ascending order (at most 10000).
    #[pyo3(signature = (pivot_col, values=None))]
    fn pivot(
        &self,
        py: Python<'_>,
        pivot_col: &Bound<'_, PyAny>,
        values: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<GroupedData> {
        if self.pivot.is_some() {
            return Err(raise(
                py,
                "PySparkValueError",
                "[REPEATED_CLAUSE] The PIVOT clause may be used at most once per SUBQUERY operation."
                    .into(),
            ));
        }
        let column = col_or_name(pivot_col, "pivot_col")?;
        let values = match values.filter(|v| !v.is_none()) {
            Some(values) => values
                .try_iter()?
                .map(|v| super::convert::literal(&v?))
                .collect::<PyResult<Vec<_>>>()?,
            None => {
                let frame = &self.frame.inner;
                let distinct = frame
                    .select(vec![column.clone()])
                    .py()?
                    .distinct()
                    .order_by(vec![column.clone().asc()])
                    .py()?;
                let rows = py.detach(|| distinct.take(PIVOT_MAX_VALUES + 1)).py()?;
                if rows.len() > PIVOT_MAX_VALUES {
                    return Err(raise(
                        py,
                        "AnalysisException",
                        format!("[PIVOT_VALUE_LIMIT_EXCEEDED] The pivot column {column} has more than {PIVOT_MAX_VALUES} distinct values, this could indicate an error. If this was intended, pass the list of values to pivot()."),
                    ));
                }
                rows.into_iter()
                    .filter_map(|r| r.into_iter().next())
                    .collect()
            }
        };
        Ok(GroupedData {
            keys: self.keys.clone(),
            frame: self.frame.wrap(self.frame.inner.clone()),
            pivot: Some(Pivot { column, values }),
        })
    }

    #[pyo3(signature = (*cols))]
    fn sum(&self, cols: Vec<String>) -> PyResult<DataFrame> {
        self.numeric("sum", cols)
    }

    #[pyo3(signature = (*cols))]
    fn avg(&self, cols: Vec<String>) -> PyResult<DataFrame> {
        self.numeric("avg", cols)
    }

    #[pyo3(signature = (*cols))]
    fn mean(&self, cols: Vec<String>) -> PyResult<DataFrame> {
        self.numeric("avg", cols)
    }

    #[pyo3(signature = (*cols))]
    fn min(&self, cols: Vec<String>) -> PyResult<DataFrame> {
        self.numeric("min", cols)
    }

    #[pyo3(signature = (*cols))]
    fn max(&self, cols: Vec<String>) -> PyResult<DataFrame> {
        self.numeric("max", cols)
    }
}

/// Pauses Python's cyclic collector while a large result is built: it would
/// rescan the growing list of new rows again and again. Resumes on drop.
struct GcPause<'py> {
    gc: Bound<'py, PyModule>,
    was_enabled: bool,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> PyResult<Self> {
        let gc = py.import("gc")?;
        let was_enabled = gc.call_method0("isenabled")?.is_truthy()?;
        gc.call_method0("disable")?;
        Ok(GcPause { gc, was_enabled })
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if self.was_enabled {
            // Nothing to report to: the collector only stays off if this fails.
            let _ = self.gc.call_method0("enable");
        }
    }
}

fn stats_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("pyspark.sql.dataframe_stats")
}

/// `dataframe_stats.<function>(df, *args)`.
fn call_stats<'py>(
    df: &Bound<'py, DataFrame>,
    function: &str,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut all = vec![df.as_any().clone()];
    all.extend(args.iter());
    let all = PyTuple::new(df.py(), all)?;
    stats_module(df.py())?.getattr(function)?.call1(all)
}
