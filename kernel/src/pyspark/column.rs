//! `Column`: an engine expression with PySpark's operators and methods.
//! Python values on either side of an operator become literals.

use pyo3::prelude::*;
use pyo3::types::{PyList, PySlice, PyString, PyTuple};

use kiln_engine::expr::{col, func, lit, BinaryOp, Expr, UnaryOp};
use kiln_engine::window::{FrameKind, WindowFrame, WindowSpec};

use super::column_repr::node_string;
use super::convert::{literal, python_type};
use super::errors::{expected_type, type_error, type_name, value_error};

#[pyclass(module = "pyspark.sql.column", name = "Column", frozen)]
#[derive(Clone)]
pub struct Column {
    pub expr: Expr,
}

impl Column {
    pub fn new(expr: Expr) -> Column {
        Column { expr }
    }
}

/// A Column, or a Python value as a literal.
pub fn to_expr(obj: &Bound<'_, PyAny>) -> PyResult<Expr> {
    if let Ok(column) = obj.cast::<Column>() {
        return Ok(column.get().expr.clone());
    }
    Ok(Expr::Literal(literal(obj)?))
}

/// A Column, or a column name (PySpark's `ColumnOrName`).
pub fn col_or_name(obj: &Bound<'_, PyAny>, argument: &str) -> PyResult<Expr> {
    if let Ok(column) = obj.cast::<Column>() {
        return Ok(column.get().expr.clone());
    }
    if let Ok(name) = obj.cast::<PyString>() {
        let name = name.to_str()?;
        return Ok(if name == "*" {
            Expr::Star(None)
        } else if let Some(q) = name.strip_suffix(".*") {
            Expr::Star(Some(q.to_string()))
        } else {
            col(name)
        });
    }
    Err(expected_type(argument, "Column or str", obj))
}

/// The columns of `*cols`, where a single list stands for its items.
pub fn columns_arg(cols: &Bound<'_, PyTuple>, argument: &str) -> PyResult<Vec<Expr>> {
    let items: Vec<Bound<'_, PyAny>> = if cols.len() == 1 {
        let first = cols.get_item(0)?;
        if first.is_instance_of::<PyList>() || first.is_instance_of::<PyTuple>() {
            first.try_iter()?.collect::<PyResult<_>>()?
        } else {
            vec![first]
        }
    } else {
        cols.iter().collect()
    };
    items.iter().map(|c| col_or_name(c, argument)).collect()
}

fn floor_division_error(left: &str, right: &str) -> PyErr {
    pyo3::exceptions::PyTypeError::new_err(format!(
        "unsupported operand type(s) for //: '{left}' and '{right}'"
    ))
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Column {
    Column::new(Expr::Binary(op, Box::new(left), Box::new(right)))
}

#[pymethods]
impl Column {
    fn __repr__(&self) -> String {
        format!("Column<'{}'>", node_string(&self.expr))
    }

    /// The column's name if it is a plain column reference (`df.a`,
    /// `col('a')`), for `{name}` fields in `spark.sql` text.
    #[getter]
    fn _plain_reference(&self) -> Option<String> {
        match &self.expr {
            Expr::Column { name, .. } => Some(name.clone()),
            _ => None,
        }
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(value_error(
            "CANNOT_CONVERT_COLUMN_INTO_BOOL",
            format!("Cannot convert column into bool (offending column: {}): please use '&' for 'and', '|' for 'or', '~' for 'not' when building DataFrame boolean expressions.", self.expr),
        ))
    }

    fn __iter__(&self) -> PyResult<()> {
        Err(type_error("NOT_ITERABLE", "Column is not iterable."))
    }

    fn __contains__(&self, _item: &Bound<'_, PyAny>) -> PyResult<bool> {
        Err(value_error(
            "CANNOT_APPLY_IN_FOR_COLUMN",
            "Cannot apply 'in' operator against a column: please use 'contains' in a string column or 'array_contains' function for an array column.",
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Eq, self.expr.clone(), to_expr(other)?))
    }
    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(Expr::Unary(
            UnaryOp::Not,
            Box::new(binary(BinaryOp::Eq, self.expr.clone(), to_expr(other)?).expr),
        )))
    }
    fn __lt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Lt, self.expr.clone(), to_expr(other)?))
    }
    fn __le__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::LtEq, self.expr.clone(), to_expr(other)?))
    }
    fn __gt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Gt, self.expr.clone(), to_expr(other)?))
    }
    fn __ge__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::GtEq, self.expr.clone(), to_expr(other)?))
    }
    fn eqNullSafe(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(
            BinaryOp::EqNullSafe,
            self.expr.clone(),
            to_expr(other)?,
        ))
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Plus, self.expr.clone(), to_expr(other)?))
    }
    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Plus, to_expr(other)?, self.expr.clone()))
    }
    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Minus, self.expr.clone(), to_expr(other)?))
    }
    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Minus, to_expr(other)?, self.expr.clone()))
    }
    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(
            BinaryOp::Multiply,
            self.expr.clone(),
            to_expr(other)?,
        ))
    }
    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(
            BinaryOp::Multiply,
            to_expr(other)?,
            self.expr.clone(),
        ))
    }
    fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Divide, self.expr.clone(), to_expr(other)?))
    }
    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Divide, to_expr(other)?, self.expr.clone()))
    }
    fn __mod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Modulo, self.expr.clone(), to_expr(other)?))
    }
    fn __rmod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Modulo, to_expr(other)?, self.expr.clone()))
    }
    fn __pow__(&self, other: &Bound<'_, PyAny>, _modulo: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "power",
            vec![self.expr.clone(), to_expr(other)?],
        )))
    }
    fn __rpow__(&self, other: &Bound<'_, PyAny>, _modulo: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "power",
            vec![to_expr(other)?, self.expr.clone()],
        )))
    }
    fn __neg__(&self) -> Column {
        Column::new(func("negative", vec![self.expr.clone()]))
    }
    /// PySpark's Column has no `//`; Python's message names the class plainly.
    fn __floordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Err(floor_division_error("Column", &type_name(other)))
    }
    fn __rfloordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Err(floor_division_error(&type_name(other), "Column"))
    }
    fn __and__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::And, self.expr.clone(), to_expr(other)?))
    }
    fn __rand__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::And, to_expr(other)?, self.expr.clone()))
    }
    fn __or__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Or, self.expr.clone(), to_expr(other)?))
    }
    fn __ror__(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(binary(BinaryOp::Or, to_expr(other)?, self.expr.clone()))
    }
    fn __invert__(&self) -> Column {
        Column::new(Expr::Unary(UnaryOp::Not, Box::new(self.expr.clone())))
    }

    /// `c[1:3]` is a substring; `c[i]` an array element; `c['f']` a struct field.
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Column> {
        if let Ok(slice) = key.cast::<PySlice>() {
            return Ok(Column::new(func(
                "substr",
                vec![
                    self.expr.clone(),
                    to_expr(&slice.getattr("start")?)?,
                    to_expr(&slice.getattr("stop")?)?,
                ],
            )));
        }
        if key.is_instance_of::<PyString>() {
            return self.getField(key);
        }
        self.getItem(key)
    }

    /// `c.field`: a struct field, as PySpark reads unknown attributes.
    fn __getattr__(&self, name: &Bound<'_, PyString>) -> PyResult<Column> {
        if name.to_str()?.starts_with("__") {
            return Err(pyo3::exceptions::PyAttributeError::new_err(
                name.to_string(),
            ));
        }
        self.getField(name.as_any())
    }

    /// `c.getItem(i)`: the element at 0-based position `i` of an array.
    fn getItem(&self, key: &Bound<'_, PyAny>) -> PyResult<Column> {
        if key.is_instance_of::<PyString>() {
            return self.getField(key);
        }
        Ok(Column::new(func(
            "get_item",
            vec![self.expr.clone(), to_expr(key)?],
        )))
    }

    /// `c.getField(name)`: a field of a struct.
    fn getField(&self, name: &Bound<'_, PyAny>) -> PyResult<Column> {
        let name: String = name
            .extract()
            .map_err(|_| expected_type("name", "str", name))?;
        Ok(Column::new(func(
            "get_field",
            vec![self.expr.clone(), lit(name.as_str())],
        )))
    }

    /// `function.over(window)`: a ranking, offset or aggregate function
    /// over the rows of a `Window` spec.
    fn over(&self, window: &Bound<'_, PyAny>) -> PyResult<Column> {
        let names = |attr: &str| -> PyResult<Vec<Expr>> {
            window
                .getattr(attr)?
                .try_iter()?
                .map(|c| col_or_name(&c?, "cols"))
                .collect()
        };
        let frame = window.getattr("_frame")?;
        let frame = if frame.is_none() {
            None
        } else {
            let (kind, start, end): (String, i64, i64) = frame.extract()?;
            let kind = if kind == "rows" {
                FrameKind::Rows
            } else {
                FrameKind::Range
            };
            Some(WindowFrame::from_api(kind, start, end))
        };
        Ok(Column::new(Expr::Window {
            function: Box::new(self.expr.clone()),
            spec: Box::new(WindowSpec {
                partition_by: names("_partition")?,
                order_by: names("_order")?,
                frame,
            }),
        }))
    }

    #[pyo3(signature = (*alias, **_kwargs))]
    fn alias(
        &self,
        alias: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Column> {
        let names: Vec<String> = alias.extract()?;
        Ok(Column::new(match names.as_slice() {
            [name] => self.expr.clone().alias(name),
            _ => Expr::MultiAlias(Box::new(self.expr.clone()), names),
        }))
    }

    #[pyo3(signature = (*alias, **kwargs))]
    fn name(
        &self,
        alias: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Column> {
        self.alias(alias, kwargs)
    }

    fn cast(&self, data_type: &Bound<'_, PyAny>) -> PyResult<Column> {
        let to = if let Ok(text) = data_type.cast::<PyString>() {
            kiln_engine::types::DataType::parse(text.to_str()?).map_err(super::errors::to_python)?
        } else if data_type.hasattr("json")? {
            python_type(data_type)?
        } else {
            return Err(expected_type("dataType", "DataType or str", data_type));
        };
        Ok(Column::new(self.expr.clone().cast(to)))
    }

    fn astype(&self, data_type: &Bound<'_, PyAny>) -> PyResult<Column> {
        self.cast(data_type)
    }

    fn asc(&self) -> Column {
        self.sort(true, true)
    }
    fn asc_nulls_first(&self) -> Column {
        self.sort(true, true)
    }
    fn asc_nulls_last(&self) -> Column {
        self.sort(true, false)
    }
    fn desc(&self) -> Column {
        self.sort(false, false)
    }
    fn desc_nulls_first(&self) -> Column {
        self.sort(false, true)
    }
    fn desc_nulls_last(&self) -> Column {
        self.sort(false, false)
    }

    fn isNull(&self) -> Column {
        Column::new(Expr::Unary(UnaryOp::IsNull, Box::new(self.expr.clone())))
    }
    fn isNotNull(&self) -> Column {
        Column::new(Expr::Unary(UnaryOp::IsNotNull, Box::new(self.expr.clone())))
    }

    #[pyo3(signature = (*cols))]
    fn isin(&self, cols: &Bound<'_, PyTuple>) -> PyResult<Column> {
        let items: Vec<Bound<'_, PyAny>> = if cols.len() == 1
            && (cols.get_item(0)?.is_instance_of::<PyList>()
                || cols.get_item(0)?.is_instance_of::<PyTuple>()
                || cols.get_item(0)?.is_instance_of::<pyo3::types::PySet>())
        {
            cols.get_item(0)?.try_iter()?.collect::<PyResult<_>>()?
        } else {
            cols.iter().collect()
        };
        Ok(Column::new(Expr::InList {
            expr: Box::new(self.expr.clone()),
            list: items.iter().map(to_expr).collect::<PyResult<_>>()?,
            negated: false,
        }))
    }

    #[pyo3(signature = (lowerBound, upperBound))]
    fn between(
        &self,
        lowerBound: &Bound<'_, PyAny>,
        upperBound: &Bound<'_, PyAny>,
    ) -> PyResult<Column> {
        let low = binary(BinaryOp::GtEq, self.expr.clone(), to_expr(lowerBound)?);
        let high = binary(BinaryOp::LtEq, self.expr.clone(), to_expr(upperBound)?);
        Ok(binary(BinaryOp::And, low.expr, high.expr))
    }

    fn like(&self, other: &str) -> Column {
        Column::new(func("like", vec![self.expr.clone(), lit(other)]))
    }
    fn ilike(&self, other: &str) -> Column {
        Column::new(func("ilike", vec![self.expr.clone(), lit(other)]))
    }
    fn rlike(&self, other: &str) -> Column {
        Column::new(func("rlike", vec![self.expr.clone(), lit(other)]))
    }
    fn contains(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "contains",
            vec![self.expr.clone(), to_expr(other)?],
        )))
    }
    fn startswith(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "startswith",
            vec![self.expr.clone(), to_expr(other)?],
        )))
    }
    fn endswith(&self, other: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "endswith",
            vec![self.expr.clone(), to_expr(other)?],
        )))
    }

    #[pyo3(signature = (startPos, length))]
    fn substr(&self, startPos: &Bound<'_, PyAny>, length: &Bound<'_, PyAny>) -> PyResult<Column> {
        Ok(Column::new(func(
            "substr",
            vec![self.expr.clone(), to_expr(startPos)?, to_expr(length)?],
        )))
    }

    fn when(&self, condition: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Column> {
        let Expr::Case {
            branches,
            otherwise: None,
        } = &self.expr
        else {
            return Err(type_error(
                "INVALID_WHEN_USAGE",
                "when() can only be applied on a Column previously generated by when() function, and cannot be applied once otherwise() is applied.",
            ));
        };
        let condition = condition
            .cast::<Column>()
            .map_err(|_| expected_type("condition", "Column", condition))?;
        let mut branches = branches.clone();
        branches.push((condition.get().expr.clone(), to_expr(value)?));
        Ok(Column::new(Expr::Case {
            branches,
            otherwise: None,
        }))
    }

    fn otherwise(&self, value: &Bound<'_, PyAny>) -> PyResult<Column> {
        let Expr::Case {
            branches,
            otherwise: None,
        } = &self.expr
        else {
            return Err(type_error(
                "INVALID_WHEN_USAGE",
                "otherwise() can only be applied on a Column previously generated by when(), and cannot be applied twice.",
            ));
        };
        Ok(Column::new(Expr::Case {
            branches: branches.clone(),
            otherwise: Some(Box::new(to_expr(value)?)),
        }))
    }
}

impl Column {
    fn sort(&self, ascending: bool, nulls_first: bool) -> Column {
        Column::new(Expr::SortOrder {
            expr: Box::new(self.expr.clone()),
            ascending,
            nulls_first,
        })
    }
}
