//! `DataFrameReader` (`spark.read`) and `DataFrameWriter` (`df.write`):
//! PySpark's builder methods and keyword forms over the engine's sources
//! and its atomic writes.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use kiln_engine::io::write::{SaveMode, WriteFormat};
use kiln_engine::types::Schema;

use super::convert::python_type;
use super::dataframe::DataFrame;
use super::errors::{expected_type, type_error, IntoPy};

/// Spark's text for an option value: `True` is `true`.
fn option_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.into());
    }
    Ok(value.str()?.to_string())
}

/// `partitionBy=` as one name or a list of names.
fn column_names(cols: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    match cols.extract::<String>() {
        Ok(name) => Ok(vec![name]),
        Err(_) => cols.extract(),
    }
}

fn paths_arg(path: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(text) = path.cast::<PyString>() {
        return Ok(vec![text.to_str()?.to_string()]);
    }
    if path.is_instance_of::<PyList>() || path.is_instance_of::<PyTuple>() {
        return path.extract();
    }
    if path.hasattr("__fspath__")? {
        return Ok(vec![path.call_method0("__fspath__")?.extract()?]);
    }
    Err(expected_type("path", "str, list, RDD, or DataFrame", path))
}

#[pyclass(module = "pyspark.sql.readwriter", name = "DataFrameReader")]
pub struct DataFrameReader {
    session: Py<PyAny>,
    engine: kiln_engine::Session,
    format: String,
    options: Vec<(String, String)>,
    schema: Option<Schema>,
}

impl DataFrameReader {
    pub fn new(session: Py<PyAny>, engine: kiln_engine::Session) -> Self {
        DataFrameReader {
            session,
            engine,
            format: "parquet".into(),
            options: Vec::new(),
            schema: None,
        }
    }

    fn set_option(&mut self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if value.is_none() {
            return Ok(());
        }
        let text = option_text(value)?;
        self.options.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.options.push((key.to_string(), text));
        Ok(())
    }

    fn set_options(&mut self, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        if let Some(options) = options {
            for (k, v) in options.iter() {
                self.set_option(&k.extract::<String>()?, &v)?;
            }
        }
        Ok(())
    }

    /// `csv(path, schema, **options)` and `json(...)`: one path or a list.
    fn load_text(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        format: &str,
        path: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        if let Some(schema) = schema.filter(|s| !s.is_none()) {
            slf = Self::schema(slf, schema)?;
        }
        slf.set_options(options)?;
        slf.load_paths(py, format, paths_arg(path)?)
    }

    fn load_paths(&self, py: Python<'_>, format: &str, paths: Vec<String>) -> PyResult<DataFrame> {
        let (engine, options, schema) = (
            self.engine.clone(),
            self.options.clone(),
            self.schema.clone(),
        );
        let format = format.to_string();
        let inner = py
            .detach(move || engine.read(&format, &paths, &options, schema))
            .py()?;
        Ok(DataFrame {
            inner,
            session: self.session.clone_ref(py),
        })
    }
}

#[pymethods]
impl DataFrameReader {
    fn format<'py>(mut slf: PyRefMut<'py, Self>, source: &str) -> PyRefMut<'py, Self> {
        slf.format = source.to_ascii_lowercase();
        slf
    }

    fn option<'py>(
        mut slf: PyRefMut<'py, Self>,
        key: &str,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        slf.set_option(key, value)?;
        Ok(slf)
    }

    #[pyo3(signature = (**options))]
    fn options<'py>(
        mut slf: PyRefMut<'py, Self>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        slf.set_options(options)?;
        Ok(slf)
    }

    fn schema<'py>(
        mut slf: PyRefMut<'py, Self>,
        schema: &Bound<'_, PyAny>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        slf.schema = Some(if let Ok(text) = schema.cast::<PyString>() {
            Schema::parse_ddl(text.to_str()?).py()?
        } else {
            match python_type(schema) {
                Ok(kiln_engine::types::DataType::Struct(fields)) => Schema::new(fields),
                _ => return Err(expected_type("schema", "str or struct type", schema)),
            }
        });
        Ok(slf)
    }

    #[pyo3(signature = (path, schema=None, **options))]
    fn csv(
        slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        Self::load_text(slf, py, "csv", path, schema, options)
    }

    /// `spark.read.json(path, schema=None, **options)`: JSON Lines.
    #[pyo3(signature = (path, schema=None, **options))]
    fn json(
        slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        Self::load_text(slf, py, "json", path, schema, options)
    }

    #[pyo3(signature = (*paths, **options))]
    fn parquet(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        paths: &Bound<'_, PyTuple>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        slf.set_options(options)?;
        let mut all = Vec::new();
        for p in paths.iter() {
            all.extend(paths_arg(&p)?);
        }
        slf.load_paths(py, "parquet", all)
    }

    #[pyo3(signature = (path=None, format=None, schema=None, **options))]
    fn load(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: Option<&Bound<'_, PyAny>>,
        format: Option<&str>,
        schema: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        if let Some(format) = format {
            slf.format = format.to_ascii_lowercase();
        }
        if let Some(schema) = schema.filter(|s| !s.is_none()) {
            slf = Self::schema(slf, schema)?;
        }
        slf.set_options(options)?;
        let paths = match path {
            Some(p) => paths_arg(p)?,
            None => vec![],
        };
        let format = slf.format.clone();
        slf.load_paths(py, &format, paths)
    }

    fn table(&self, py: Python<'_>, tableName: &str) -> PyResult<DataFrame> {
        Ok(DataFrame {
            inner: self.engine.table(tableName).py()?,
            session: self.session.clone_ref(py),
        })
    }
}

#[pyclass(module = "pyspark.sql.readwriter", name = "DataFrameWriter")]
pub struct DataFrameWriter {
    frame: kiln_engine::DataFrame,
    format: String,
    mode: String,
    options: Vec<(String, String)>,
    partition_by: Vec<String>,
}

impl DataFrameWriter {
    pub fn new(frame: kiln_engine::DataFrame) -> Self {
        DataFrameWriter {
            frame,
            format: "parquet".into(),
            mode: "errorifexists".into(),
            options: Vec::new(),
            partition_by: Vec::new(),
        }
    }

    fn option_value(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn set_options(&mut self, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        if let Some(options) = options {
            for (k, v) in options.iter() {
                if !v.is_none() {
                    self.options.push((k.extract()?, option_text(&v)?));
                }
            }
        }
        Ok(())
    }

    /// `parquet(path, mode=..., compression=...)` and the other format
    /// shortcuts: keyword arguments over what was set before, then save.
    fn save_as(
        &mut self,
        py: Python<'_>,
        format: &str,
        path: &Bound<'_, PyAny>,
        mode: Option<&str>,
        compression: Option<&str>,
    ) -> PyResult<()> {
        if let Some(mode) = mode {
            self.mode = mode.to_string();
        }
        if let Some(codec) = compression {
            self.options.push(("compression".into(), codec.into()));
        }
        self.format = format.into();
        let path = paths_arg(path)?.remove(0);
        self.save_to(py, path)
    }

    fn save_to(&self, py: Python<'_>, path: String) -> PyResult<()> {
        let format = match self.format.as_str() {
            "parquet" => WriteFormat::Parquet {
                compression: self
                    .option_value("compression")
                    .unwrap_or("snappy")
                    .to_ascii_lowercase(),
            },
            "csv" => WriteFormat::Csv {
                header: self
                    .option_value("header")
                    .is_some_and(|h| h.eq_ignore_ascii_case("true")),
                separator: self
                    .option_value("sep")
                    .or(self.option_value("delimiter"))
                    .and_then(|s| s.bytes().next())
                    .unwrap_or(b','),
                null_value: self.option_value("nullValue").unwrap_or("").to_string(),
                compression: self
                    .option_value("compression")
                    .map(|c| c.to_ascii_lowercase()),
            },
            "json" => WriteFormat::Json {
                compression: self
                    .option_value("compression")
                    .map(|c| c.to_ascii_lowercase()),
            },
            other => {
                return Python::attach(|py| {
                    Err(super::errors::raise(
                        py,
                        "AnalysisException",
                        format!("[DATA_SOURCE_NOT_FOUND] Failed to find the data source: {other}. Kiln writes parquet, csv and json."),
                    ))
                })
            }
        };
        let mode = SaveMode::parse(&self.mode).py()?;
        let frame = self.frame.clone();
        let partition_by = self.partition_by.clone();
        py.detach(move || frame.write(&PathBuf::from(path), mode, format, partition_by))
            .py()?;
        Ok(())
    }
}

#[pymethods]
impl DataFrameWriter {
    /// Checked now, as Spark does: a misspelt mode fails here, not at the save.
    fn mode<'py>(
        mut slf: PyRefMut<'py, Self>,
        saveMode: Option<&str>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        if let Some(mode) = saveMode {
            kiln_engine::io::write::SaveMode::parse(mode).py()?;
            slf.mode = mode.to_string();
        }
        Ok(slf)
    }

    fn format<'py>(mut slf: PyRefMut<'py, Self>, source: &str) -> PyRefMut<'py, Self> {
        slf.format = source.to_ascii_lowercase();
        slf
    }

    fn option<'py>(
        mut slf: PyRefMut<'py, Self>,
        key: &str,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let text = option_text(value)?;
        slf.options.push((key.to_string(), text));
        Ok(slf)
    }

    #[pyo3(signature = (**options))]
    fn options<'py>(
        mut slf: PyRefMut<'py, Self>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        slf.set_options(options)?;
        Ok(slf)
    }

    #[pyo3(signature = (*cols))]
    fn partitionBy<'py>(
        mut slf: PyRefMut<'py, Self>,
        cols: &Bound<'_, PyTuple>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let names: Vec<String> = if cols.len() == 1 && cols.get_item(0)?.is_instance_of::<PyList>()
        {
            cols.get_item(0)?.extract()?
        } else {
            cols.extract()?
        };
        slf.partition_by = names;
        Ok(slf)
    }

    #[pyo3(signature = (path, mode=None, partitionBy=None, compression=None))]
    fn parquet(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        mode: Option<&str>,
        partitionBy: Option<&Bound<'_, PyAny>>,
        compression: Option<&str>,
    ) -> PyResult<()> {
        if let Some(cols) = partitionBy.filter(|p| !p.is_none()) {
            slf.partition_by = column_names(cols)?;
        }
        slf.save_as(py, "parquet", path, mode, compression)
    }

    /// `df.write.json(path, mode=None, compression=None)`: JSON Lines.
    #[pyo3(signature = (path, mode=None, compression=None, **options))]
    fn json(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        mode: Option<&str>,
        compression: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        slf.set_options(options)?;
        slf.save_as(py, "json", path, mode, compression)
    }

    #[pyo3(signature = (path, mode=None, compression=None, sep=None, header=None, nullValue=None, **options))]
    #[allow(clippy::too_many_arguments)]
    fn csv(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        mode: Option<&str>,
        compression: Option<&str>,
        sep: Option<&str>,
        header: Option<&Bound<'_, PyAny>>,
        nullValue: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        for (key, value) in [("sep", sep), ("nullValue", nullValue)] {
            if let Some(value) = value {
                slf.options.push((key.into(), value.into()));
            }
        }
        if let Some(header) = header.filter(|h| !h.is_none()) {
            let text = option_text(header)?;
            slf.options.push(("header".into(), text));
        }
        slf.set_options(options)?;
        slf.save_as(py, "csv", path, mode, compression)
    }

    #[pyo3(signature = (path=None, format=None, mode=None, partitionBy=None, **options))]
    fn save(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: Option<&Bound<'_, PyAny>>,
        format: Option<&str>,
        mode: Option<&str>,
        partitionBy: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if let Some(format) = format {
            slf.format = format.to_ascii_lowercase();
        }
        if let Some(mode) = mode {
            slf.mode = mode.to_string();
        }
        if let Some(cols) = partitionBy.filter(|p| !p.is_none()) {
            slf.partition_by = column_names(cols)?;
        }
        slf.set_options(options)?;
        let path = match path {
            Some(p) => paths_arg(p)?.remove(0),
            None => match slf.option_value("path") {
                Some(p) => p.to_string(),
                None => {
                    return Err(type_error(
                        "CANNOT_BE_NONE",
                        "Argument `path` can not be None.",
                    ))
                }
            },
        };
        slf.save_to(py, path)
    }
}
