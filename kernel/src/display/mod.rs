//! Rich output: turning Python objects into MIME bundles through the IPython
//! display protocol, and the `display()` / `clear_output()` functions.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use serde_json::{json, Map, Value};

use crate::python::context::{context, lock};

/// Text made safe inside HTML and SVG elements and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

pub mod chart;
pub mod plan_graph;
pub mod progress;
pub mod table;

/// `_repr_*_` methods in the order IPython's formatter tries them.
const REPR_METHODS: &[(&str, &str)] = &[
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
    ("_repr_javascript_", "application/javascript"),
    ("_repr_pdf_", "application/pdf"),
];

/// A MIME bundle and its metadata, ready to be sent.
pub struct Bundle {
    pub data: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

fn is_binary_mime(mime: &str) -> bool {
    matches!(mime, "image/png" | "image/jpeg" | "application/pdf")
}

/// Converts one representation to JSON: binary images are base64, JSON stays JSON.
fn to_json_value(py: Python<'_>, mime: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        if is_binary_mime(mime) {
            let b64 = py.import("base64")?.call_method1("b64encode", (bytes,))?;
            return Ok(Value::String(
                b64.call_method1("decode", ("ascii",))?.extract()?,
            ));
        }
        return Ok(Value::String(
            String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
        ));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_string()));
    }
    python_to_json(py, value)
}

/// Any JSON-able Python value, through the `json` module.
pub fn python_to_json(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (value,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// Splits a `_repr_*_` result into data and optional metadata (`(data, md)` tuples).
fn split_repr<'py>(value: Bound<'py, PyAny>) -> (Bound<'py, PyAny>, Option<Bound<'py, PyAny>>) {
    if let Ok(tuple) = value.cast::<PyTuple>() {
        if tuple.len() == 2 {
            if let (Ok(data), Ok(md)) = (tuple.get_item(0), tuple.get_item(1)) {
                return (data, Some(md));
            }
        }
    }
    (value, None)
}

/// The full MIME bundle for `obj`: `_repr_mimebundle_`, then every `_repr_*_`
/// method, and always `text/plain` from `repr`. A failing repr method is
/// skipped (as IPython does), never fatal; except a DataFrame's table, whose
/// failure is the query's error and is the cell's to report.
pub fn mime_bundle(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Bundle> {
    let mut data = Map::new();
    let mut metadata = Map::new();
    if let Ok(method) = obj.getattr("_repr_mimebundle_") {
        let kwargs = PyDict::new(py);
        kwargs.set_item("include", py.None())?;
        kwargs.set_item("exclude", py.None())?;
        let called = method.call((), Some(&kwargs));
        if obj.hasattr("_kiln_table")? {
            called.as_ref().map_err(|e| e.clone_ref(py))?;
        }
        if let Ok(result) = called {
            let (bundle, md) = split_repr(result);
            if let Ok(dict) = bundle.cast::<PyDict>() {
                for (mime, value) in dict.iter() {
                    let mime: String = mime.extract()?;
                    let value = to_json_value(py, &mime, &value)?;
                    data.insert(mime, value);
                }
            }
            if let Some(md) = md.filter(|m| !m.is_none()) {
                if let Value::Object(md) = python_to_json(py, &md)? {
                    metadata.extend(md);
                }
            }
        }
    }
    for (method, mime) in REPR_METHODS {
        if data.contains_key(*mime) {
            continue;
        }
        // Classes themselves have the methods unbound; only instances count.
        if obj.is_instance_of::<pyo3::types::PyType>() {
            break;
        }
        let Ok(bound) = obj.getattr(*method) else {
            continue;
        };
        let Ok(result) = bound.call0() else {
            continue;
        };
        if result.is_none() {
            continue;
        }
        let (value, md) = split_repr(result);
        if value.is_none() {
            continue;
        }
        data.insert(mime.to_string(), to_json_value(py, mime, &value)?);
        if let Some(md) = md.filter(|m| !m.is_none()) {
            metadata.insert(mime.to_string(), python_to_json(py, &md)?);
        }
    }
    if !data.contains_key("text/plain") {
        data.insert("text/plain".into(), Value::String(plain_text(obj)?));
    }
    Ok(Bundle { data, metadata })
}

/// `text/plain` as Jupyter's Python kernels print it: a container too long
/// for one line is broken over lines by IPython's pretty printer (when
/// IPython is installed; otherwise `pprint`), anything else is its `repr`.
fn plain_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    use pyo3::types::{PyDict, PyList, PySet, PyTuple};
    let text = obj.repr()?.to_string();
    let container = obj.is_exact_instance_of::<PyList>()
        || obj.is_exact_instance_of::<PyTuple>()
        || obj.is_exact_instance_of::<PyDict>()
        || obj.is_exact_instance_of::<PySet>();
    if !container || text.len() <= 79 {
        return Ok(text);
    }
    let py = obj.py();
    let pretty = match py.import("IPython.lib.pretty") {
        Ok(pretty) => pretty.call_method1("pretty", (obj,)),
        Err(_) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("width", 79)?;
            kwargs.set_item("sort_dicts", false)?;
            py.import("pprint")?
                .getattr("pformat")?
                .call((obj,), Some(&kwargs))
        }
    };
    pretty.and_then(|t| t.extract()).or(Ok(text))
}

fn publish_display(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    raw: bool,
    metadata: Option<&Bound<'_, PyAny>>,
    display_id: Option<&str>,
    update: bool,
) -> PyResult<()> {
    let mut bundle = if raw {
        let data = match python_to_json(py, obj)? {
            Value::Object(map) => map,
            _ => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "display(..., raw=True) takes a dict of MIME type to data",
                ))
            }
        };
        Bundle {
            data,
            metadata: Map::new(),
        }
    } else {
        mime_bundle(py, obj)?
    };
    if let Some(md) = metadata {
        if let Value::Object(md) = python_to_json(py, md)? {
            bundle.metadata.extend(md);
        }
    }
    let mut content = json!({"data": bundle.data, "metadata": bundle.metadata, "transient": {}});
    if let Some(id) = display_id {
        content["transient"] = json!({"display_id": id});
    }
    let msg_type = if update {
        "update_display_data"
    } else {
        "display_data"
    };
    context()?.publisher.publish(msg_type, content);
    Ok(())
}

/// A handle on one display area, updated in place with `update(obj)`.
#[pyclass(module = "_kiln")]
pub struct DisplayHandle {
    #[pyo3(get)]
    display_id: String,
}

#[pymethods]
impl DisplayHandle {
    #[new]
    #[pyo3(signature = (display_id = None))]
    fn new(display_id: Option<String>) -> Self {
        DisplayHandle {
            display_id: display_id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
        }
    }

    #[pyo3(signature = (obj, **kwargs))]
    fn display(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let md = kwargs.and_then(|k| k.get_item("metadata").ok().flatten());
        publish_display(py, obj, false, md.as_ref(), Some(&self.display_id), false)
    }

    #[pyo3(signature = (obj, **kwargs))]
    fn update(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let md = kwargs.and_then(|k| k.get_item("metadata").ok().flatten());
        publish_display(py, obj, false, md.as_ref(), Some(&self.display_id), true)
    }

    fn __repr__(&self) -> String {
        format!("<DisplayHandle display_id={}>", self.display_id)
    }
}

/// `display(*objs, include=None, exclude=None, metadata=None, transient=None,
/// display_id=None, raw=False, clear=False, update=False)`, as in IPython.
#[pyfunction]
#[pyo3(signature = (*objs, include = None, exclude = None, metadata = None, transient = None,
                    display_id = None, raw = false, clear = false, update = false, **kwargs))]
#[allow(clippy::too_many_arguments)]
pub fn display(
    py: Python<'_>,
    objs: &Bound<'_, PyTuple>,
    include: Option<&Bound<'_, PyAny>>,
    exclude: Option<&Bound<'_, PyAny>>,
    metadata: Option<&Bound<'_, PyAny>>,
    transient: Option<&Bound<'_, PyAny>>,
    display_id: Option<&Bound<'_, PyAny>>,
    raw: bool,
    clear: bool,
    update: bool,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<Py<DisplayHandle>>> {
    let _ = (include, exclude);
    let mut id: Option<String> = match display_id {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match v.extract::<bool>() {
            Ok(true) => Some(uuid::Uuid::new_v4().simple().to_string()),
            Ok(false) => None,
            Err(_) => Some(v.str()?.to_string()),
        },
    };
    if let Some(t) = transient {
        if let Ok(Some(tid)) = t.get_item("display_id").map(Some) {
            if !tid.is_none() {
                id = Some(tid.str()?.to_string());
            }
        }
    }
    if update && id.is_none() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "display_id required for update_display",
        ));
    }
    if clear {
        clear_output(true)?;
    }
    // `display(df, n=100)`: a DataFrame's table with that many rows.
    let rows = kwargs.and_then(|k| k.get_item("n").ok().flatten());
    for obj in objs.iter() {
        if obj.hasattr("_kiln_table")? && !raw {
            let table = obj.call_method1("_kiln_table", (rows.clone(),))?;
            publish_display(py, &table, true, metadata, id.as_deref(), update)?;
        } else {
            publish_display(py, &obj, raw, metadata, id.as_deref(), update)?;
        }
    }
    match id {
        Some(id) if !update => Ok(Some(Py::new(py, DisplayHandle { display_id: id })?)),
        _ => Ok(None),
    }
}

/// `update_display(obj, display_id=...)`, as in IPython.
#[pyfunction]
#[pyo3(signature = (obj, *, display_id, **kwargs))]
pub fn update_display(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    display_id: &Bound<'_, PyAny>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let md = kwargs.and_then(|k| k.get_item("metadata").ok().flatten());
    publish_display(
        py,
        obj,
        false,
        md.as_ref(),
        Some(&display_id.str()?.to_string()),
        true,
    )
}

/// `clear_output(wait=False)`: clears the cell's output area.
#[pyfunction]
#[pyo3(signature = (wait = false))]
pub fn clear_output(wait: bool) -> PyResult<()> {
    context()?
        .publisher
        .publish("clear_output", json!({"wait": wait}));
    Ok(())
}

/// Publishes the value of a cell's last expression as `execute_result`.
pub fn publish_result(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    execution_count: u64,
) -> PyResult<String> {
    let bundle = mime_bundle(py, value)?;
    let plain = bundle
        .data
        .get("text/plain")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let ctx = context()?;
    ctx.publisher.publish(
        "execute_result",
        json!({"execution_count": execution_count, "data": bundle.data, "metadata": bundle.metadata}),
    );
    lock(&ctx.history).record_output(execution_count, &plain);
    Ok(plain)
}
