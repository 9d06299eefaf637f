//! Kiln's native `pyspark`: what `import pyspark` finds in a Kiln kernel.
//! The engine-facing classes (`SparkSession`'s core, `DataFrame`, `Column`,
//! `GroupedData`, reader and writer) are Rust classes in `_kiln_pyspark`;
//! the plain-value parts of the API (types, `Row`, exceptions, the builder,
//! the `functions` signatures) are Python modules compiled into the binary
//! and served by an import hook placed ahead of every other, so an
//! installed PySpark is never picked up by mistake.

// PySpark's method and argument names are the API.
#![allow(non_snake_case)]

mod column;
mod column_repr;
mod convert;
mod dataframe;
mod errors;
mod io;
mod session;
mod udf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use kiln_engine::expr::Expr;
use kiln_engine::types::Schema;

use column::{col_or_name, to_expr, Column};
use errors::IntoPy;

pub use errors::to_python;

/// The embedded package: module name, source, whether it is a package.
const SOURCES: &[(&str, &str, bool)] = &[
    ("pyspark", include_str!("python/pyspark/__init__.py"), true),
    (
        "pyspark.errors",
        include_str!("python/pyspark/errors/__init__.py"),
        true,
    ),
    (
        "pyspark.conf",
        include_str!("python/pyspark/conf.py"),
        false,
    ),
    (
        "pyspark.context",
        include_str!("python/pyspark/context.py"),
        false,
    ),
    ("pyspark.rdd", include_str!("python/pyspark/rdd.py"), false),
    (
        "pyspark.storagelevel",
        include_str!("python/pyspark/storagelevel.py"),
        false,
    ),
    (
        "pyspark.resultiterable",
        include_str!("python/pyspark/resultiterable.py"),
        false,
    ),
    (
        "pyspark.sql",
        include_str!("python/pyspark/sql/__init__.py"),
        true,
    ),
    (
        "pyspark.sql.types",
        include_str!("python/pyspark/sql/types.py"),
        false,
    ),
    (
        "pyspark.sql.session",
        include_str!("python/pyspark/sql/session.py"),
        false,
    ),
    (
        "pyspark.sql.functions",
        include_str!("python/pyspark/sql/functions.py"),
        false,
    ),
    (
        "pyspark.sql.column",
        include_str!("python/pyspark/sql/column.py"),
        false,
    ),
    (
        "pyspark.sql.pandas",
        include_str!("python/pyspark/sql/pandas/__init__.py"),
        true,
    ),
    (
        "pyspark.sql.pandas.conversion",
        include_str!("python/pyspark/sql/pandas/conversion.py"),
        false,
    ),
    (
        "pyspark.sql.pandas.functions",
        include_str!("python/pyspark/sql/pandas/functions.py"),
        false,
    ),
    (
        "pyspark.sql.pandas.types",
        include_str!("python/pyspark/sql/pandas/types.py"),
        false,
    ),
    (
        "pyspark.sql.dataframe_stats",
        include_str!("python/pyspark/sql/dataframe_stats.py"),
        false,
    ),
    (
        "pyspark.sql.window",
        include_str!("python/pyspark/sql/window.py"),
        false,
    ),
    (
        "pyspark.sql.plot",
        include_str!("python/pyspark/sql/plot.py"),
        false,
    ),
    (
        "pyspark.sql.udf",
        include_str!("python/pyspark/sql/udf.py"),
        false,
    ),
    (
        "pyspark.sql.dataframe",
        include_str!("python/pyspark/sql/dataframe.py"),
        false,
    ),
];

const IMPORTER: &str = include_str!("python/importer.py");

/// `F.col(name)`.
#[pyfunction]
fn col(name: &Bound<'_, PyAny>) -> PyResult<Column> {
    Ok(Column::new(col_or_name(name, "col")?))
}

/// `F.lit(value)`: a Column stays as it is.
#[pyfunction]
fn lit(value: &Bound<'_, PyAny>) -> PyResult<Column> {
    Ok(Column::new(to_expr(value)?))
}

/// `F.expr(text)`: a SQL expression.
#[pyfunction]
fn expr(text: &str) -> PyResult<Column> {
    let session = crate::python::context::context()?.engine.clone();
    Ok(Column::new(
        kiln_engine::sql::expression(&session, text).py()?,
    ))
}

/// A registry function over Columns and literals: `call("round", c, 2)`.
/// Strings are literals here; the Python signatures turn names into columns.
#[pyfunction]
#[pyo3(signature = (name, *args, distinct=false))]
fn call(name: &str, args: &Bound<'_, PyTuple>, distinct: bool) -> PyResult<Column> {
    let args: Vec<Expr> = args.iter().map(|a| to_expr(&a)).collect::<PyResult<_>>()?;
    Ok(Column::new(Expr::Function {
        name: name.to_string(),
        args,
        distinct,
        filter: None,
    }))
}

/// `F.when(condition, value)`.
#[pyfunction]
fn when(condition: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Column> {
    let condition = condition
        .cast::<Column>()
        .map_err(|_| errors::expected_type("condition", "Column", condition))?;
    Ok(Column::new(Expr::Case {
        branches: vec![(condition.get().expr.clone(), to_expr(value)?)],
        otherwise: None,
    }))
}

/// `F.broadcast(df)`.
#[pyfunction]
fn broadcast(df: &Bound<'_, dataframe::DataFrame>) -> dataframe::DataFrame {
    df.get().wrap(df.get().inner.broadcast_hint())
}

/// A DDL schema or type string as Spark's schema JSON.
#[pyfunction]
fn parse_ddl(text: &str) -> PyResult<String> {
    match Schema::parse_ddl(text) {
        Ok(schema) => Ok(convert::schema_json(&schema)),
        Err(e) => match kiln_engine::types::DataType::parse(text) {
            Ok(t) => Ok(convert::type_json(&t).to_string()),
            Err(_) => Err(to_python(e)),
        },
    }
}

/// `printSchema()` text of a schema given as JSON.
#[pyfunction]
fn tree_string(json: &str, _level: i64) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| errors::value_error("INVALID_JSON", e.to_string()))?;
    match convert::json_type(&value) {
        Ok(kiln_engine::types::DataType::Struct(fields)) => Ok(Schema::new(fields).tree_string()),
        _ => Err(errors::value_error(
            "NOT_STRUCT",
            "treeString needs a StructType",
        )),
    }
}

fn native_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let module = PyModule::new(py, "_kiln_pyspark")?;
    module.add_class::<session::SparkSession>()?;
    module.add_class::<dataframe::DataFrame>()?;
    module.add_class::<dataframe::GroupedData>()?;
    module.add_class::<Column>()?;
    module.add_class::<io::DataFrameReader>()?;
    module.add_class::<io::DataFrameWriter>()?;
    module.add_class::<udf::UdfHandle>()?;
    for f in [
        wrap_pyfunction!(col, &module)?,
        wrap_pyfunction!(lit, &module)?,
        wrap_pyfunction!(expr, &module)?,
        wrap_pyfunction!(call, &module)?,
        wrap_pyfunction!(when, &module)?,
        wrap_pyfunction!(broadcast, &module)?,
        wrap_pyfunction!(parse_ddl, &module)?,
        wrap_pyfunction!(tree_string, &module)?,
        wrap_pyfunction!(render_chart, &module)?,
        wrap_pyfunction!(check_local_path, &module)?,
    ] {
        module.add_function(f)?;
    }
    module.add("SPARK_VERSION", kiln_engine::SPARK_VERSION)?;
    module.add("KILN_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(module)
}

/// Fails, saying what to do instead, for a path on an object store or a
/// cluster file system (`gs://...`), which Kiln does not reach.
#[pyfunction]
fn check_local_path(path: &str) -> PyResult<()> {
    kiln_engine::io::files::check_local(path).map_err(to_python)
}

/// `df.plot`'s drawing: the values, already reduced by the engine, as SVG
/// and PNG.
#[pyfunction]
#[pyo3(signature = (kind, title, x_label, y_label, categories, positions, series, note=None, time_axis=false))]
#[allow(clippy::too_many_arguments)]
fn render_chart(
    kind: &str,
    title: String,
    x_label: String,
    y_label: String,
    categories: Vec<String>,
    positions: Vec<f64>,
    series: Vec<(String, Vec<f64>)>,
    note: Option<String>,
    time_axis: bool,
) -> PyResult<(String, Py<pyo3::types::PyBytes>)> {
    use crate::display::chart::{render_png, render_svg, ChartKind, ChartSpec};
    let kind = ChartKind::parse(kind).ok_or_else(|| {
        errors::value_error(
            "UNSUPPORTED_PLOT_KIND",
            format!("Plot kind '{kind}' is not supported."),
        )
    })?;
    let spec = ChartSpec {
        kind,
        title,
        x_label,
        y_label,
        categories,
        positions,
        series,
        note,
        time_axis,
    };
    let failed = |e: String| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("drawing the chart failed: {e}"))
    };
    let svg = render_svg(&spec).map_err(failed)?;
    let png = render_png(&spec).map_err(failed)?;
    Python::attach(|py| Ok((svg, pyo3::types::PyBytes::new(py, &png).unbind())))
}

/// Registers `_kiln_pyspark` and the import hook that serves `pyspark`.
pub fn install(py: Python<'_>) -> PyResult<()> {
    let module = native_module(py)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item("_kiln_pyspark", &module)?;
    let sources = PyDict::new(py);
    for (name, source, is_package) in SOURCES {
        sources.set_item(*name, (*source, *is_package))?;
    }
    let code = std::ffi::CString::new(IMPORTER)?;
    let importer = PyModule::from_code(py, &code, c"<kiln pyspark importer>", c"_kiln_importer")?;
    importer.getattr("install")?.call1((sources,))?;
    Ok(())
}

/// An engine DataFrame as a PySpark `DataFrame` of the active session
/// (created as `getOrCreate` would), for `%%sql -o`.
pub fn python_dataframe(py: Python<'_>, inner: kiln_engine::DataFrame) -> PyResult<Py<PyAny>> {
    let session = py
        .import("pyspark.sql.session")?
        .getattr("SparkSession")?
        .getattr("builder")?
        .call_method0("getOrCreate")?;
    Ok(dataframe::DataFrame {
        inner,
        session: session.unbind(),
    }
    .into_pyobject(py)?
    .into_any()
    .unbind())
}
