//! Analysis and lowering of expressions: resolves names against an input
//! schema, applies Spark's type coercion and ANSI rules, and produces the
//! polars expression that evaluates it on one partition, with its Spark type.

use chrono_tz::Tz;
use polars::prelude::{
    self as pl, lit as pl_lit, when as pl_when, AnyValue, Column, DataType as PlType, IntoColumn,
    PlSmallStr, Scalar, StrptimeOptions,
};

use polars::chunked_array::cast::CastOptions;
use polars::prelude::{NamedFrom, TimeZone as PlTimeZone};

use crate::error::{EngineError, Result};
use crate::expr::{BinaryOp, Expr, UnaryOp};
use crate::functions;
use crate::plan::PlanSchema;
use crate::types::{DataType, IntervalField, IntervalFields, StructField};
use crate::udf::{self, Udf};
use crate::value::{Value, MICROS_PER_DAY, MICROS_PER_SECOND};
use crate::zone::is_utc;

/// A lowered expression: what polars evaluates and the Spark type it yields.
#[derive(Clone)]
pub struct Typed {
    pub expr: pl::Expr,
    pub data_type: DataType,
    pub nullable: bool,
}

impl Typed {
    pub fn new(expr: pl::Expr, data_type: DataType, nullable: bool) -> Self {
        Typed {
            expr,
            data_type,
            nullable,
        }
    }
}

/// What lowering needs from the session and the input.
pub struct LowerContext<'a> {
    pub input: &'a PlanSchema,
    pub time_zone: Tz,
    pub ansi: bool,
}

impl LowerContext<'_> {
    pub fn lower(&self, expr: &Expr) -> Result<Typed> {
        match expr {
            Expr::Column { name, plan_id } => {
                let attr = match self.input.resolve(name, *plan_id) {
                    Ok(attr) => attr,
                    Err(error) => return self.struct_field(name, *plan_id).unwrap_or(Err(error)),
                };
                Ok(Typed::new(
                    pl::col(attr.physical.as_str()),
                    attr.field.data_type.clone(),
                    attr.field.nullable,
                ))
            }
            Expr::Star(_) => Err(EngineError::analysis(
                "INVALID_USAGE_OF_STAR_OR_REGEX",
                "Invalid usage of '*' in expression.",
            )),
            Expr::Literal(value) => Ok(literal(value)),
            Expr::Alias(inner, _) => self.lower(inner),
            Expr::MultiAlias(inner, names) => Err(EngineError::analysis(
                "MULTI_ALIAS_WITHOUT_GENERATOR",
                format!("Multi part aliasing ({}) is not supported with {inner} as it is not a generator function.", names.join(", ")),
            )),
            Expr::Cast(inner, to) => {
                let from = self.lower(inner)?;
                cast(from, to, self.ansi, &self.time_zone)
            }
            Expr::TryCast(inner, to) => {
                let from = self.lower(inner)?;
                cast(from, to, false, &self.time_zone)
            }
            Expr::Unary(op, inner) => self.unary(*op, self.lower(inner)?),
            Expr::Binary(op, l, r) => {
                let l = self.lower(l)?;
                let r = self.lower(r)?;
                self.binary(*op, l, r)
            }
            Expr::Function {
                name,
                args,
                distinct,
                filter,
            } => {
                if functions::is_aggregate(name) {
                    return Err(EngineError::analysis(
                        "MISSING_GROUP_BY",
                        "The query does not include a GROUP BY clause. Add GROUP BY or turn it into the window functions using OVER clauses.",
                    ));
                }
                if *distinct {
                    return Err(EngineError::analysis(
                        "INVALID_DISTINCT_ARGUMENT",
                        format!("DISTINCT is only allowed in aggregate functions, not in {name}."),
                    ));
                }
                if filter.is_some() {
                    return Err(functions::filter_unsupported(name));
                }
                if crate::row_ids::is_random(name) {
                    crate::row_ids::check_seed(name, args, &expr.to_string())?;
                }
                // `struct(a, x AS y, 1)` is `named_struct('a', a, 'y', x, 'col3', 1)`.
                if name.eq_ignore_ascii_case("struct") {
                    let mut fields = Vec::with_capacity(args.len() * 2);
                    for (i, arg) in args.iter().enumerate() {
                        let field = match arg {
                            Expr::Alias(..) | Expr::Column { .. } => arg.output_name(),
                            _ => format!("col{}", i + 1),
                        };
                        fields.push(Expr::Literal(Value::String(field)));
                        fields.push(arg.clone().unaliased());
                    }
                    return self.lower(&crate::expr::func("named_struct", fields));
                }
                let args = args
                    .iter()
                    .map(|a| self.lower(a))
                    .collect::<Result<Vec<_>>>()?;
                functions::scalar(name, args, self)
            }
            Expr::Case {
                branches,
                otherwise,
            } => self.case(branches, otherwise.as_deref()),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let value = self.lower(expr)?;
                let mut result: Option<Typed> = None;
                for item in list {
                    let eq = self.binary(BinaryOp::Eq, value.clone(), self.lower(item)?)?;
                    result = Some(match result {
                        None => eq,
                        Some(acc) => self.binary(BinaryOp::Or, acc, eq)?,
                    });
                }
                let result = result.unwrap_or_else(|| literal(&Value::Boolean(false)));
                if *negated {
                    self.unary(UnaryOp::Not, result)
                } else {
                    Ok(result)
                }
            }
            Expr::SortOrder { expr, .. } => self.lower(expr),
            Expr::Udf { function, args } => self.udf(function, args),
            Expr::Window { .. } => Err(EngineError::analysis(
                "UNSUPPORTED_EXPR_FOR_OPERATOR",
                format!("A query operator contains one or more unsupported expressions. Consider to rewrite it to avoid window functions, aggregate functions, and generator functions in the WHERE clause. Invalid expressions: [{expr}]"),
            )),
        }
    }

    fn udf(&self, function: &Udf, args: &[Expr]) -> Result<Typed> {
        let args = args
            .iter()
            .map(|a| self.lower(a))
            .collect::<Result<Vec<_>>>()?;
        let types = args.iter().map(|a| a.data_type.clone()).collect();
        let mut inputs: Vec<pl::Expr> = args.into_iter().map(|a| a.expr).collect();
        if inputs.is_empty() {
            // A function of no arguments still runs once per row: any column
            // gives the batch its height (its values are not passed).
            inputs.push(match self.input.attrs.first() {
                Some(attr) => pl::col(attr.physical.as_str()),
                None => pl_lit(0i32),
            });
        }
        Ok(Typed::new(
            udf::lower_udf(function, inputs, types),
            function.return_type().clone(),
            true,
        ))
    }

    pub(crate) fn unary(&self, op: UnaryOp, input: Typed) -> Result<Typed> {
        Ok(match op {
            UnaryOp::Not => {
                let input = self.coerce_to(input, &DataType::Boolean)?;
                Typed::new(input.expr.not(), DataType::Boolean, input.nullable)
            }
            UnaryOp::Negate => {
                // A string is read as a double, as Spark's `-'2'` is.
                let input = match input.data_type {
                    DataType::String => self.coerce_to(input, &DataType::Double)?,
                    _ => input,
                };
                if !input.data_type.is_numeric()
                    && !matches!(
                        input.data_type,
                        DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_)
                    )
                {
                    return Err(type_mismatch("(- x)", "numeric", &input.data_type));
                }
                Typed::new(
                    pl_lit(0).cast(input.data_type.to_polars()) - input.expr,
                    input.data_type,
                    input.nullable,
                )
            }
            UnaryOp::IsNull => Typed::new(input.expr.is_null(), DataType::Boolean, false),
            UnaryOp::IsNotNull => Typed::new(input.expr.is_not_null(), DataType::Boolean, false),
        })
    }

    /// Casts an operand implicitly, as Spark's type coercion does.
    pub fn coerce_to(&self, input: Typed, to: &DataType) -> Result<Typed> {
        if &input.data_type == to {
            return Ok(input);
        }
        cast(input, to, self.ansi, &self.time_zone)
    }

    /// `s.a.b` naming the field `a.b` of a struct column `s` (Spark
    /// resolves a name's leading parts as a column when no table has it);
    /// `None` when no prefix of the name is a struct column.
    fn struct_field(&self, name: &str, plan_id: Option<u64>) -> Option<Result<Typed>> {
        let parts: Vec<&str> = name.split('.').collect();
        (1..parts.len()).rev().find_map(|k| {
            let column = parts[..k].join(".");
            let attr = self.input.resolve(&column, plan_id).ok()?;
            if !matches!(attr.field.data_type, DataType::Struct(_)) {
                return None;
            }
            let mut value = Expr::Column {
                name: column,
                plan_id,
            };
            for field in &parts[k..] {
                value = crate::expr::func(
                    "get_field",
                    vec![value, Expr::Literal(Value::String((*field).to_string()))],
                );
            }
            Some(self.lower(&value))
        })
    }

    pub fn binary(&self, op: BinaryOp, l: Typed, r: Typed) -> Result<Typed> {
        let nullable = l.nullable || r.nullable;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.coerce_to(l, &DataType::Boolean)?;
                let r = self.coerce_to(r, &DataType::Boolean)?;
                let expr = if op == BinaryOp::And {
                    l.expr.and(r.expr)
                } else {
                    l.expr.or(r.expr)
                };
                Ok(Typed::new(expr, DataType::Boolean, nullable))
            }
            _ if op.is_comparison() => {
                let common = comparison_type(&l.data_type, &r.data_type).ok_or_else(|| {
                    EngineError::analysis(
                        "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
                        format!(
                            "Cannot resolve \"{}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\").",
                            op.symbol(),
                            l.data_type.simple_string().to_uppercase(),
                            r.data_type.simple_string().to_uppercase()
                        ),
                    )
                })?;
                let l = self.coerce_to(l, &common)?.expr;
                let r = self.coerce_to(r, &common)?.expr;
                let expr = match op {
                    BinaryOp::Eq => l.eq(r),
                    BinaryOp::EqNullSafe => l.eq_missing(r),
                    BinaryOp::NotEq => l.neq(r),
                    BinaryOp::Lt => l.lt(r),
                    BinaryOp::LtEq => l.lt_eq(r),
                    BinaryOp::Gt => l.gt(r),
                    _ => l.gt_eq(r),
                };
                let nullable = nullable && op != BinaryOp::EqNullSafe;
                Ok(Typed::new(expr, DataType::Boolean, nullable))
            }
            _ => self.arithmetic(op, l, r),
        }
    }

    fn arithmetic(&self, op: BinaryOp, l: Typed, r: Typed) -> Result<Typed> {
        let nullable = l.nullable || r.nullable;
        // Date and time arithmetic.
        match (&l.data_type, &r.data_type, op) {
            (
                DataType::Timestamp | DataType::TimestampNtz,
                DataType::Timestamp | DataType::TimestampNtz,
                BinaryOp::Minus,
            ) => {
                let expr = (l.expr - r.expr).cast(PlType::Duration(pl::TimeUnit::Microseconds));
                return Ok(Typed::new(
                    expr,
                    DataType::DayTimeInterval(IntervalFields::DAY_TO_SECOND),
                    nullable,
                ));
            }
            (DataType::Date, DataType::Date, BinaryOp::Minus) => {
                let expr = l.expr.cast(PlType::Int32) - r.expr.cast(PlType::Int32);
                return Ok(Typed::new(
                    (expr.cast(PlType::Int64) * pl_lit(MICROS_PER_DAY))
                        .cast(PlType::Duration(pl::TimeUnit::Microseconds)),
                    DataType::DayTimeInterval(IntervalFields::DAY),
                    nullable,
                ));
            }
            (
                DataType::Timestamp | DataType::TimestampNtz,
                DataType::DayTimeInterval(_),
                BinaryOp::Plus | BinaryOp::Minus,
            ) => {
                let expr = if op == BinaryOp::Plus {
                    l.expr + r.expr
                } else {
                    l.expr - r.expr
                };
                return Ok(Typed::new(expr, l.data_type, nullable));
            }
            (
                DataType::DayTimeInterval(x),
                DataType::DayTimeInterval(y),
                BinaryOp::Plus | BinaryOp::Minus,
            )
            | (
                DataType::YearMonthInterval(x),
                DataType::YearMonthInterval(y),
                BinaryOp::Plus | BinaryOp::Minus,
            ) => {
                let widened = match l.data_type {
                    DataType::DayTimeInterval(_) => DataType::DayTimeInterval(x.widen(*y)),
                    _ => DataType::YearMonthInterval(x.widen(*y)),
                };
                let expr = match op {
                    BinaryOp::Plus => l.expr + r.expr,
                    _ => l.expr - r.expr,
                };
                return Ok(Typed::new(expr, widened, nullable));
            }
            (
                DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_),
                t,
                BinaryOp::Multiply | BinaryOp::Divide,
            ) if t.is_numeric() => {
                return self.scaled_interval(op, l, r);
            }
            (
                t,
                DataType::DayTimeInterval(_) | DataType::YearMonthInterval(_),
                BinaryOp::Multiply,
            ) if t.is_numeric() => {
                return self.scaled_interval(op, r, l);
            }
            // `date + 30` is Spark's DateAdd, `date - 30` its DateSub.
            (DataType::Date, t, BinaryOp::Plus | BinaryOp::Minus) if t.is_integral() => {
                let name = if op == BinaryOp::Plus {
                    "date_add"
                } else {
                    "date_sub"
                };
                return functions::scalar(name, vec![l, r], self);
            }
            (t, DataType::Date, BinaryOp::Plus) if t.is_integral() => {
                return functions::scalar("date_add", vec![r, l], self);
            }
            (DataType::Date, DataType::DayTimeInterval(_), BinaryOp::Plus | BinaryOp::Minus) => {
                let sign = if op == BinaryOp::Plus { 1 } else { -1 };
                // A whole-day interval moves the date (Spark's DateAdd); one with a
                // time part makes a timestamp.
                if let Some(micros) = literal_micros(&r.expr) {
                    if micros % MICROS_PER_DAY == 0 {
                        let days = pl_lit((sign * micros / MICROS_PER_DAY) as i32);
                        let expr = (l.expr.cast(PlType::Int32) + days).cast(PlType::Date);
                        return Ok(Typed::new(expr, DataType::Date, nullable));
                    }
                }
                let start = cast(l, &DataType::Timestamp, self.ansi, &self.time_zone)?;
                return self.arithmetic(op, start, r);
            }
            (
                DataType::Timestamp | DataType::TimestampNtz,
                DataType::YearMonthInterval(_),
                BinaryOp::Plus | BinaryOp::Minus,
            ) => {
                // The local date moves by whole months (the day clamped to the
                // month's last), the time of day stays, as Spark's plusMonths.
                let shift = signed_months(op, &r.expr, "timestamps")?;
                let moved = |local: pl::Expr| {
                    local
                        .cast(PlType::Int64)
                        .map(
                            move |c: Column| {
                                let out: pl::Int64Chunked = c
                                    .i64()?
                                    .iter()
                                    .map(|m| {
                                        m.and_then(|m| functions::shift_local_months(m, shift))
                                    })
                                    .collect();
                                Ok(out.with_name(c.name().clone()).into_column())
                            },
                            |_, f| Ok(pl::Field::new(f.name().clone(), PlType::Int64)),
                        )
                        .cast(PlType::Datetime(pl::TimeUnit::Microseconds, None))
                };
                let expr = if l.data_type == DataType::Timestamp {
                    local_to_utc(
                        moved(utc_to_local(l.expr, &self.time_zone)),
                        &self.time_zone,
                    )
                } else {
                    moved(l.expr)
                };
                return Ok(Typed::new(expr, l.data_type, nullable));
            }
            (DataType::Date, DataType::YearMonthInterval(_), BinaryOp::Plus | BinaryOp::Minus) => {
                let months = signed_months(op, &r.expr, "dates")?;
                if let Some(days) = literal_days(&l.expr) {
                    // A constant date moves now: `DATE '1993-07-01' + INTERVAL '3' MONTH`.
                    if let Some(moved) = crate::value::add_months(days, months) {
                        return Ok(literal(&Value::Date(moved)));
                    }
                }
                return functions::scalar(
                    "add_months",
                    vec![l, literal(&Value::Integer(months))],
                    self,
                );
            }
            _ => {}
        }
        let operand_error = |t: &DataType| type_mismatch(op.symbol(), "numeric", t);
        let textual = |t: &DataType| matches!(t, DataType::String | DataType::Null);
        if textual(&l.data_type)
            && textual(&r.data_type)
            && (l.data_type == DataType::String || r.data_type == DataType::String)
        {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE",
                format!(
                    "Cannot resolve \"{}\" due to data type mismatch: the binary operator requires the input type (\"NUMERIC\" or \"INTERVAL DAY TO SECOND\" or \"INTERVAL YEAR TO MONTH\" or \"INTERVAL\"), not \"STRING\".",
                    op.symbol()
                ),
            ));
        }
        let (left_type, right_type) = (l.data_type.clone(), r.data_type.clone());
        let l = self
            .numeric_operand(l, &right_type)
            .map_err(|_| operand_error(&DataType::String))?;
        let r = self
            .numeric_operand(r, &left_type)
            .map_err(|_| operand_error(&DataType::String))?;
        if !l.data_type.is_numeric() {
            return Err(operand_error(&l.data_type));
        }
        if !r.data_type.is_numeric() {
            return Err(operand_error(&r.data_type));
        }
        // An integer literal next to a decimal counts only its own digits (Spark's `fromLiteral`).
        let l = literal_as_decimal(l, &r.data_type);
        let r = literal_as_decimal(r, &l.data_type);
        let nullable = nullable || l.nullable || r.nullable;
        if let Some((decimal_op, left, right)) =
            exact_decimal_operands(op, &l.data_type, &r.data_type)
        {
            let result = arithmetic_types(op, &l.data_type, &r.data_type).0;
            if let (
                DataType::Decimal(_, left_scale),
                DataType::Decimal(_, right_scale),
                DataType::Decimal(precision, scale),
            ) = (&left, &right, &result)
            {
                // An integer literal is typed by its digits but still holds
                // an integer: cast it for real.
                let expr = crate::decimal::arithmetic(
                    decimal_op,
                    self.coerce_to(l, &left)?.expr.cast(left.to_polars()),
                    self.coerce_to(r, &right)?.expr.cast(right.to_polars()),
                    (*left_scale, *right_scale),
                    *precision,
                    *scale,
                    self.ansi,
                );
                return Ok(Typed::new(expr, result, nullable || divides(op)));
            }
        }
        let (result_type, operand_type) = arithmetic_types(op, &l.data_type, &r.data_type);
        let le = self.coerce_to(l, &operand_type)?.expr;
        let re = self.coerce_to(r, &operand_type)?.expr;
        let ansi = self.ansi;
        let expr = match op {
            BinaryOp::Plus => le + re,
            BinaryOp::Minus => le - re,
            BinaryOp::Multiply => le * re,
            BinaryOp::Divide => {
                if ansi {
                    raise_where(
                        re.clone().eq(pl_lit(0)),
                        "DIVIDE_BY_ZERO",
                        DIVIDE_BY_ZERO_MESSAGE,
                        divided(le, re),
                    )
                } else {
                    pl_when(re.clone().eq(pl_lit(0)))
                        .then(pl_lit(pl::Null {}))
                        .otherwise(divided(le, re))
                }
            }
            BinaryOp::IntDivide => {
                let quotient = (le.cast(PlType::Float64) / re.clone().cast(PlType::Float64))
                    .cast(PlType::Int64);
                if ansi {
                    raise_where(
                        re.eq(pl_lit(0)),
                        "DIVIDE_BY_ZERO",
                        DIVIDE_BY_ZERO_MESSAGE,
                        quotient,
                    )
                } else {
                    quotient
                }
            }
            _ => {
                // Spark's % keeps the dividend's sign (Java's remainder);
                // polars' % keeps the divisor's (floored), one divisor away
                // when the signs differ.
                let remainder = if matches!(operand_type, DataType::Decimal(..)) {
                    // Polars has no decimal %: the remainder of the magnitudes,
                    // with the dividend's sign.
                    let decimal = operand_type.to_polars();
                    let (a, b) = (le.clone().abs(), re.clone().abs());
                    let magnitude = (a.clone() - (a / b.clone()).floor() * b).cast(decimal.clone());
                    pl_when(le.lt(pl_lit(0).cast(decimal.clone())))
                        .then((pl_lit(0).cast(decimal.clone()) - magnitude.clone()).cast(decimal))
                        .otherwise(magnitude)
                } else {
                    let floored = le.clone() % re.clone();
                    let negative = le.lt(pl_lit(0));
                    let signs_differ = floored
                        .clone()
                        .lt(pl_lit(0))
                        .neq(negative.clone())
                        .and(floored.clone().neq(pl_lit(0)));
                    let remainder = pl_when(signs_differ).then(floored.clone() - re.clone());
                    if operand_type.is_integral() {
                        remainder.otherwise(floored)
                    } else {
                        // Java's remainder of a negative dividend is -0.0, not 0.0.
                        remainder
                            .when(floored.clone().eq(pl_lit(0)).and(negative))
                            .then(pl_lit(-0.0f64))
                            .otherwise(floored)
                    }
                };
                if ansi {
                    raise_where(
                        re.eq(pl_lit(0)),
                        "REMAINDER_BY_ZERO",
                        REMAINDER_BY_ZERO_MESSAGE,
                        remainder,
                    )
                } else {
                    pl_when(re.eq(pl_lit(0)))
                        .then(pl_lit(pl::Null {}))
                        .otherwise(remainder)
                }
            }
        };
        let expr = if ansi
            && result_type.is_integral()
            && matches!(op, BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Multiply)
        {
            overflow_checked(expr, op, &result_type)
        } else {
            expr
        };
        Ok(Typed::new(
            expr.cast(result_type.to_polars()),
            result_type,
            nullable || divides(op),
        ))
    }

    /// A string in arithmetic is read as a `bigint` next to an integer and
    /// as a double otherwise (Spark 4's ANSI coercion).
    fn numeric_operand(&self, input: Typed, other: &DataType) -> Result<Typed> {
        match input.data_type {
            DataType::String if other.is_integral() => self.coerce_to(input, &DataType::Long),
            DataType::String => self.coerce_to(input, &DataType::Double),
            DataType::Null => self.coerce_to(input, &DataType::Integer),
            _ => Ok(input),
        }
    }

    fn case(&self, branches: &[(Expr, Expr)], otherwise: Option<&Expr>) -> Result<Typed> {
        let mut values = branches
            .iter()
            .map(|(_, v)| self.lower(v))
            .collect::<Result<Vec<_>>>()?;
        let otherwise = match otherwise {
            Some(o) => self.lower(o)?,
            None => literal(&Value::Null),
        };
        values.push(otherwise);
        let common = values
            .iter()
            .skip(1)
            .try_fold(values[0].data_type.clone(), |acc, v| common_type(&acc, &v.data_type))
            .ok_or_else(|| {
                EngineError::analysis(
                    "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
                    "Cannot resolve CASE WHEN due to data type mismatch: the branches have different types.",
                )
            })?;
        let nullable = values.iter().any(|v| v.nullable);
        let mut values = values
            .into_iter()
            .map(|v| self.coerce_to(v, &common).map(|t| t.expr))
            .collect::<Result<Vec<_>>>()?;
        let otherwise = values.pop().unwrap_or_else(|| pl_lit(pl::Null {}));
        let mut conditions = Vec::new();
        for (c, _) in branches {
            let c = self.lower(c)?;
            conditions.push(self.coerce_to(c, &DataType::Boolean)?.expr);
        }
        let mut chain: Option<pl::ChainedThen> = None;
        let mut first: Option<pl::Then> = None;
        for (condition, value) in conditions.into_iter().zip(values) {
            match (first.take(), chain.take()) {
                (None, None) => first = Some(pl_when(condition).then(value)),
                (Some(t), _) => chain = Some(t.when(condition).then(value)),
                (None, Some(c)) => chain = Some(c.when(condition).then(value)),
            }
        }
        let expr = match (first, chain) {
            (Some(t), _) => t.otherwise(otherwise),
            (None, Some(c)) => c.otherwise(otherwise),
            (None, None) => otherwise,
        };
        Ok(Typed::new(expr.cast(common.to_polars()), common, nullable))
    }
}

pub(crate) const REMAINDER_BY_ZERO_MESSAGE: &str = "Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.";
const DIVIDE_BY_ZERO_MESSAGE: &str = "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.";

fn type_mismatch(op: &str, expected: &str, got: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{op}\" due to data type mismatch: requires {expected} type, however the input has type \"{}\".",
            got.simple_string().to_uppercase()
        ),
    )
}

/// The months a literal year-month interval adds (`+`) or takes away
/// (`-`); a non-literal interval is not supported next to `what`.
fn signed_months(op: BinaryOp, interval: &pl::Expr, what: &str) -> Result<i32> {
    let months = literal_months(interval).ok_or_else(|| {
        EngineError::spark(
            "UNSUPPORTED_FEATURE",
            format!(
                "Kiln adds year-month intervals to {what} only as literals (INTERVAL '3' MONTH)."
            ),
        )
    })?;
    Ok(if op == BinaryOp::Plus {
        months
    } else {
        -months
    })
}

/// The microseconds of a literal day-time interval.
fn literal_micros(expr: &pl::Expr) -> Option<i64> {
    match expr {
        pl::Expr::Literal(value) => match value.to_any_value()? {
            AnyValue::Duration(v, pl::TimeUnit::Microseconds) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// The days since the epoch of a literal date.
fn literal_days(expr: &pl::Expr) -> Option<i32> {
    match expr {
        pl::Expr::Literal(value) => match value.to_any_value()? {
            AnyValue::Date(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// The months of a literal year-month interval.
fn literal_months(expr: &pl::Expr) -> Option<i32> {
    match expr {
        pl::Expr::Literal(value) => match value.to_any_value()? {
            AnyValue::Int32(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// A polars literal of the value's Spark type.
pub fn literal(value: &Value) -> Typed {
    let data_type = value.data_type();
    let any = match value {
        Value::Null => AnyValue::Null,
        Value::Boolean(b) => AnyValue::Boolean(*b),
        Value::Byte(v) => AnyValue::Int8(*v),
        Value::Short(v) => AnyValue::Int16(*v),
        Value::Integer(v) => AnyValue::Int32(*v),
        Value::Long(v) => AnyValue::Int64(*v),
        Value::Float(v) => AnyValue::Float32(*v),
        Value::Double(v) => AnyValue::Float64(*v),
        Value::Decimal(unscaled, p, s) => AnyValue::Decimal(*unscaled, *p as usize, *s as usize),
        Value::String(s) => AnyValue::StringOwned(PlSmallStr::from(s.as_str())),
        Value::Binary(b) => AnyValue::BinaryOwned(b.clone()),
        Value::Date(d) => AnyValue::Date(*d),
        Value::Timestamp(us) | Value::TimestampNtz(us) => {
            AnyValue::Datetime(*us, pl::TimeUnit::Microseconds, None)
        }
        Value::DayTimeInterval(us, _) => AnyValue::Duration(*us, pl::TimeUnit::Microseconds),
        Value::YearMonthInterval(months, _) => AnyValue::Int32(*months),
        Value::Array(_) | Value::Map(_) | Value::Struct(_) => AnyValue::Null,
    };
    let expr = pl_lit(Scalar::new(data_type.to_polars(), any.into_static()));
    Typed::new(expr, data_type, value.is_null())
}

fn literal_as_decimal(operand: Typed, other: &DataType) -> Typed {
    if !matches!(other, DataType::Decimal(..)) || !operand.data_type.is_integral() {
        return operand;
    }
    let pl::Expr::Literal(value) = &operand.expr else {
        return operand;
    };
    let Some(number) = value.to_any_value().and_then(|v| v.extract::<i64>()) else {
        return operand;
    };
    let digits = number.unsigned_abs().max(1).ilog10() as u8 + 1;
    let data_type = DataType::Decimal(digits, 0);
    Typed {
        nullable: operand.nullable || cast_forces_null(&operand.data_type, &data_type),
        data_type,
        ..operand
    }
}

/// Rank in Spark's numeric widening order.
fn numeric_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Byte => 1,
        DataType::Short => 2,
        DataType::Integer => 3,
        DataType::Long => 4,
        DataType::Decimal(..) => 5,
        DataType::Float => 6,
        DataType::Double => 7,
        _ => return None,
    })
}

/// The decimal type that holds every value of an integral type.
fn integral_as_decimal(t: &DataType) -> DataType {
    match t {
        DataType::Byte => DataType::Decimal(3, 0),
        DataType::Short => DataType::Decimal(5, 0),
        DataType::Integer => DataType::Decimal(10, 0),
        DataType::Long => DataType::Decimal(20, 0),
        other => other.clone(),
    }
}

fn wider_decimal(a: &DataType, b: &DataType) -> DataType {
    let (DataType::Decimal(p1, s1), DataType::Decimal(p2, s2)) =
        (integral_as_decimal(a), integral_as_decimal(b))
    else {
        return DataType::Double;
    };
    let scale = s1.max(s2);
    let int_digits = (p1 - s1).max(p2 - s2);
    DataType::Decimal((int_digits + scale).min(38), scale)
}

/// The type two values are widened to (Spark's `findWiderTypeForTwo`).
pub fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (DataType::Null, other) | (other, DataType::Null) => Some(other.clone()),
        _ => match (numeric_rank(a), numeric_rank(b)) {
            (Some(ra), Some(rb)) => Some(
                if matches!(a, DataType::Decimal(..)) || matches!(b, DataType::Decimal(..)) {
                    if ra >= 6 || rb >= 6 {
                        DataType::Double
                    } else {
                        wider_decimal(a, b)
                    }
                } else if ra >= rb {
                    a.clone()
                } else {
                    b.clone()
                },
            ),
            _ => match (a, b) {
                (DataType::Date, DataType::Timestamp) | (DataType::Timestamp, DataType::Date) => {
                    Some(DataType::Timestamp)
                }
                // Intervals widen to span both types' fields.
                (DataType::DayTimeInterval(x), DataType::DayTimeInterval(y)) => {
                    Some(DataType::DayTimeInterval(x.widen(*y)))
                }
                (DataType::YearMonthInterval(x), DataType::YearMonthInterval(y)) => {
                    Some(DataType::YearMonthInterval(x.widen(*y)))
                }
                // Collections widen by their elements; either side's nulls allow nulls.
                (DataType::Array(x, x_nulls), DataType::Array(y, y_nulls)) => Some(
                    DataType::Array(Box::new(common_type(x, y)?), *x_nulls || *y_nulls),
                ),
                (DataType::Map(xk, xv, x_nulls), DataType::Map(yk, yv, y_nulls)) => {
                    Some(DataType::Map(
                        Box::new(common_type(xk, yk)?),
                        Box::new(common_type(xv, yv)?),
                        *x_nulls || *y_nulls,
                    ))
                }
                // Structs with the same field names widen field by field.
                (DataType::Struct(x), DataType::Struct(y))
                    if x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|(f, g)| f.name.eq_ignore_ascii_case(&g.name)) =>
                {
                    let fields = x
                        .iter()
                        .zip(y)
                        .map(|(f, g)| {
                            Some(StructField::new(
                                f.name.clone(),
                                common_type(&f.data_type, &g.data_type)?,
                                f.nullable || g.nullable,
                            ))
                        })
                        .collect::<Option<Vec<_>>>()?;
                    Some(DataType::Struct(fields))
                }
                // Spark 4's ANSI rules: a string takes the other side's
                // type, integers widened to bigint and fractions to double.
                (DataType::String, other) | (other, DataType::String) => match other {
                    t if t.is_integral() => Some(DataType::Long),
                    t if t.is_numeric() => Some(DataType::Double),
                    DataType::Date
                    | DataType::Timestamp
                    | DataType::TimestampNtz
                    | DataType::Boolean
                    | DataType::Binary => Some(other.clone()),
                    DataType::Array(..) | DataType::Map(..) | DataType::Struct(_) => None,
                    _ => Some(DataType::String),
                },
                _ => None,
            },
        },
    }
}

/// The type both sides of a comparison are cast to.
pub fn comparison_type(a: &DataType, b: &DataType) -> Option<DataType> {
    match (a, b) {
        (DataType::String, other) | (other, DataType::String) => match other {
            DataType::String => Some(DataType::String),
            DataType::Date | DataType::Timestamp | DataType::TimestampNtz | DataType::Boolean => {
                Some(other.clone())
            }
            t if t.is_integral() => Some(DataType::Long),
            t if t.is_numeric() => Some(DataType::Double),
            DataType::Null => Some(DataType::String),
            _ => None,
        },
        _ => common_type(a, b),
    }
}

/// Spark's decimal result precision, capped at 38 keeping at least 6 scale digits.
fn bounded_decimal(precision: i32, scale: i32) -> DataType {
    if precision <= 38 {
        return DataType::Decimal(precision as u8, scale as u8);
    }
    let int_digits = precision - scale;
    let min_scale = scale.min(6);
    let scale = (38 - int_digits).max(min_scale);
    DataType::Decimal(38, scale as u8)
}

/// The exact decimal operator and the operands' decimal types for `+`,
/// `-` or `*` of two decimals (or a decimal and an integral).
fn exact_decimal_operands(
    op: BinaryOp,
    a: &DataType,
    b: &DataType,
) -> Option<(crate::decimal::DecimalOp, DataType, DataType)> {
    use crate::decimal::DecimalOp;
    let decimal_op = match op {
        BinaryOp::Plus => DecimalOp::Add,
        BinaryOp::Minus => DecimalOp::Subtract,
        BinaryOp::Multiply => DecimalOp::Multiply,
        BinaryOp::Modulo => DecimalOp::Remainder,
        _ => return None,
    };
    if !matches!(a, DataType::Decimal(..)) && !matches!(b, DataType::Decimal(..)) {
        return None;
    }
    match (integral_as_decimal(a), integral_as_decimal(b)) {
        (left @ DataType::Decimal(..), right @ DataType::Decimal(..)) => {
            Some((decimal_op, left, right))
        }
        _ => None,
    }
}

/// Whether an operator divides: Spark declares `/`, `div` and `%` nullable
/// whatever their operands (a zero divisor), with ANSI mode on or off.
/// `dividend / divisor` in doubles, each quotient correctly rounded as
/// Java's `/` rounds it. Polars divides by a single value by multiplying
/// with its reciprocal, which is off by one in the last digit for many
/// quotients (`9 / 7` gave 1.2857142857142856 where Spark prints
/// 1.2857142857142858).
impl LowerContext<'_> {
    /// `interval * number` and `interval / number` (Spark's
    /// `MultiplyDTInterval`, `DivideYMInterval`, ...): the microseconds or
    /// months scaled and rounded half away from zero, in the default fields
    /// of the interval's kind.
    fn scaled_interval(&self, op: BinaryOp, interval: Typed, number: Typed) -> Result<Typed> {
        let nullable = interval.nullable || number.nullable;
        let (result, physical) = match interval.data_type {
            DataType::DayTimeInterval(_) => (
                DataType::DayTimeInterval(IntervalFields::DAY_TO_SECOND),
                PlType::Int64,
            ),
            _ => (
                DataType::YearMonthInterval(IntervalFields::YEAR_TO_MONTH),
                PlType::Int32,
            ),
        };
        let number = self.coerce_to(number, &DataType::Double)?.expr;
        let value = interval.expr.cast(physical.clone()).cast(PlType::Float64);
        let scaled = match op {
            BinaryOp::Multiply => value * number.clone(),
            _ => divided(value, number.clone()),
        }
        .round(0, pl::RoundMode::HalfAwayFromZero)
        .cast(physical)
        .cast(result.to_polars());
        let expr = match op {
            BinaryOp::Divide => raise_where(
                number.eq(pl_lit(0.0)),
                "INTERVAL_DIVIDED_BY_ZERO",
                "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
                scaled,
            ),
            _ => scaled,
        };
        Ok(Typed::new(expr, result, nullable))
    }
}

fn divided(dividend: pl::Expr, divisor: pl::Expr) -> pl::Expr {
    use polars::prelude::{ChunkApply, ChunkFullNull};
    dividend.map_many(
        |columns: &mut [pl::Column]| {
            let dividend = columns[0].as_materialized_series().f64()?.clone();
            let divisor = columns[1].as_materialized_series().f64()?.clone();
            let quotient = if divisor.len() == 1 && dividend.len() != 1 {
                match divisor.get(0) {
                    Some(d) => dividend.apply_values(|x| x / d),
                    None => pl::Float64Chunked::full_null(dividend.name().clone(), dividend.len()),
                }
            } else {
                (&dividend / &divisor).with_name(dividend.name().clone())
            };
            Ok(quotient.into_column())
        },
        &[divisor],
        |_, fields| Ok(pl::Field::new(fields[0].name().clone(), PlType::Float64)),
    )
}

fn divides(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Divide | BinaryOp::IntDivide | BinaryOp::Modulo
    )
}

/// Whether a cast from `from` to `to` is nullable even for a non-null input
/// (Spark's `Cast.forceNullable` for decimals, ANSI mode or not): a decimal
/// that cannot hold every value of the source type.
fn cast_forces_null(from: &DataType, to: &DataType) -> bool {
    let DataType::Decimal(precision, scale) = to else {
        return false;
    };
    match integral_as_decimal(from) {
        DataType::Decimal(from_precision, from_scale) => {
            *precision - *scale < from_precision - from_scale || *scale < from_scale
        }
        DataType::Float | DataType::Double => true,
        _ => false,
    }
}

/// (result type, type the operands are cast to) for an arithmetic operator.
fn arithmetic_types(op: BinaryOp, a: &DataType, b: &DataType) -> (DataType, DataType) {
    let is_decimal = |t: &DataType| matches!(t, DataType::Decimal(..));
    let fractional = |t: &DataType| matches!(t, DataType::Float | DataType::Double);
    if op == BinaryOp::IntDivide {
        return (DataType::Long, DataType::Long);
    }
    if (is_decimal(a) || is_decimal(b)) && !(fractional(a) || fractional(b)) {
        let (DataType::Decimal(p1, s1), DataType::Decimal(p2, s2)) =
            (integral_as_decimal(a), integral_as_decimal(b))
        else {
            return (DataType::Double, DataType::Double);
        };
        let (p1, s1, p2, s2) = (p1 as i32, s1 as i32, p2 as i32, s2 as i32);
        let result = match op {
            BinaryOp::Plus | BinaryOp::Minus => {
                let scale = s1.max(s2);
                bounded_decimal(scale + (p1 - s1).max(p2 - s2) + 1, scale)
            }
            BinaryOp::Multiply => bounded_decimal(p1 + p2 + 1, s1 + s2),
            BinaryOp::Divide => {
                let scale = 6.max(s1 + p2 + 1);
                bounded_decimal(p1 - s1 + s2 + scale, scale)
            }
            _ => {
                let scale = s1.max(s2);
                bounded_decimal((p1 - s1).min(p2 - s2) + scale, scale)
            }
        };
        // Division goes through doubles; +, - and * never get here for
        // operands (`decimal::arithmetic` computes them), only for the type.
        let operand = match op {
            BinaryOp::Divide => DataType::Double,
            _ => result.clone(),
        };
        return (result, operand);
    }
    if op == BinaryOp::Divide {
        return (DataType::Double, DataType::Double);
    }
    let common = common_type(a, b).unwrap_or(DataType::Double);
    (common.clone(), common)
}

/// Replaces the value with an error when any row matches `bad`.
pub fn raise_where(
    bad: pl::Expr,
    class: &'static str,
    message: &'static str,
    value: pl::Expr,
) -> pl::Expr {
    value.map_many(
        move |columns: &mut [Column]| {
            let bad = columns[1].bool()?;
            if bad.any() {
                Err(polars::error::PolarsError::ComputeError(
                    format!("[{class}] {message}").into(),
                ))
            } else {
                Ok(std::mem::take(&mut columns[0]))
            }
        },
        &[bad],
        |_, fields| Ok(fields[0].clone()),
    )
}

/// ANSI overflow detection for integral +, - and *: computed again in a
/// wider type and compared with the result type's range.
fn overflow_checked(expr: pl::Expr, op: BinaryOp, result: &DataType) -> pl::Expr {
    let (min, max) = match result {
        DataType::Byte => (i8::MIN as f64, i8::MAX as f64),
        DataType::Short => (i16::MIN as f64, i16::MAX as f64),
        DataType::Integer => (i32::MIN as f64, i32::MAX as f64),
        _ => (i64::MIN as f64, i64::MAX as f64),
    };
    let type_name = result.simple_string().to_uppercase();
    let message: &'static str = Box::leak(
        format!(
            "{type_name} overflow. Use 'try_{}' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.",
            match op {
                BinaryOp::Plus => "add",
                BinaryOp::Minus => "subtract",
                _ => "multiply",
            }
        )
        .into_boxed_str(),
    );
    // The wide (float) recomputation is only an overflow detector; the exact
    // integer result is kept.
    let wide = match &expr {
        pl::Expr::BinaryExpr { left, op, right } => pl::Expr::BinaryExpr {
            left: std::sync::Arc::new(left.as_ref().clone().cast(PlType::Float64)),
            op: *op,
            right: std::sync::Arc::new(right.as_ref().clone().cast(PlType::Float64)),
        },
        other => other.clone().cast(PlType::Float64),
    };
    let bad = wide.clone().lt(pl_lit(min)).or(wide.gt(pl_lit(max)));
    raise_where(
        bad,
        "ARITHMETIC_OVERFLOW",
        message,
        expr.cast(result.to_polars()),
    )
}

fn strptime(format: &str) -> StrptimeOptions {
    StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    }
}

/// Parses Spark's accepted timestamp spellings (`yyyy-MM-dd[ HH:mm:ss[.SSSSSS]]`, `T` separator).
fn parse_timestamp(input: pl::Expr, tz: &Tz) -> pl::Expr {
    let formats = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    let trimmed = input.str().strip_chars(pl_lit(pl::Null {}));
    let mut parsed: Vec<pl::Expr> = formats
        .iter()
        .map(|f| {
            trimmed.clone().str().to_datetime(
                Some(pl::TimeUnit::Microseconds),
                None,
                strptime(f),
                pl_lit("raise"),
            )
        })
        .collect();
    parsed.push(
        trimmed
            .str()
            .to_date(strptime("%Y-%m-%d"))
            .cast(PlType::Datetime(pl::TimeUnit::Microseconds, None)),
    );
    local_to_utc(pl::coalesce(&parsed), tz)
}

/// Wall-clock times in the session zone to UTC instants (both naive in polars).
pub fn local_to_utc(naive: pl::Expr, tz: &Tz) -> pl::Expr {
    if is_utc(tz) {
        return naive;
    }
    naive
        .dt()
        .replace_time_zone(
            Some(PlTimeZone::from_chrono(tz)),
            pl_lit("earliest"),
            pl::NonExistent::Null,
        )
        .dt()
        .convert_time_zone(PlTimeZone::UTC)
        .dt()
        .replace_time_zone(None, pl_lit("raise"), pl::NonExistent::Raise)
}

/// UTC instants to wall-clock times in the session zone.
pub fn utc_to_local(instant: pl::Expr, tz: &Tz) -> pl::Expr {
    if is_utc(tz) {
        return instant;
    }
    instant
        .dt()
        .replace_time_zone(
            Some(PlTimeZone::UTC),
            pl_lit("raise"),
            pl::NonExistent::Raise,
        )
        .dt()
        .convert_time_zone(PlTimeZone::from_chrono(tz))
        .dt()
        .replace_time_zone(None, pl_lit("raise"), pl::NonExistent::Raise)
}

/// Each value of `expr`, read as an `i64` (microseconds, months), written
/// by `f`; nulls stay null.
fn written_as_i64(expr: pl::Expr, f: impl Fn(i64) -> String + Send + Sync + 'static) -> pl::Expr {
    expr.cast(PlType::Int64).map(
        move |c: Column| {
            let out: pl::StringChunked = c.i64()?.iter().map(|v| v.map(&f)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(pl::Field::new(field.name().clone(), PlType::String)),
    )
}

/// Formats values as Spark's `cast(x as string)` does.
fn to_spark_string(input: Typed, tz: &Tz) -> pl::Expr {
    match &input.data_type {
        DataType::Float | DataType::Double => {
            let single = input.data_type == DataType::Float;
            input.expr.cast(PlType::Float64).map(
                move |c: Column| {
                    let values = c.f64()?;
                    let out: pl::StringChunked = values
                        .iter()
                        .map(|v| v.map(|v| crate::value::java_float_string(v, single)))
                        .collect();
                    Ok(out.with_name(c.name().clone()).into_column())
                },
                |_, f| Ok(pl::Field::new(f.name().clone(), PlType::String)),
            )
        }
        DataType::Timestamp | DataType::TimestampNtz => {
            let local = if input.data_type == DataType::Timestamp {
                utc_to_local(input.expr, tz)
            } else {
                input.expr
            };
            written_as_i64(local, |us| crate::value::timestamp_string(us, None))
        }
        DataType::Decimal(..) | DataType::Date | DataType::Boolean => {
            input.expr.cast(PlType::String)
        }
        DataType::DayTimeInterval(fields) => {
            let fields = *fields;
            written_as_i64(input.expr, move |us| {
                crate::value::interval_string(us, fields)
            })
        }
        DataType::YearMonthInterval(fields) => {
            let fields = *fields;
            written_as_i64(input.expr, move |months| {
                crate::value::year_month_string(months as i32, fields)
            })
        }
        _ => input.expr.cast(PlType::String),
    }
}

/// `CAST(x AS type)` with Spark's rules; under ANSI a value that cannot be
/// converted raises `CAST_INVALID_INPUT` instead of becoming null.
pub fn cast(input: Typed, to: &DataType, ansi: bool, tz: &Tz) -> Result<Typed> {
    let from = input.data_type.clone();
    let nullable = input.nullable;
    if &from == to {
        return Ok(input);
    }
    let unsupported = || {
        EngineError::analysis(
            "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
            format!(
                "Cannot resolve \"CAST\" due to data type mismatch: cannot cast \"{}\" to \"{}\".",
                from.simple_string().to_uppercase(),
                to.simple_string().to_uppercase()
            ),
        )
    };
    let original = input.expr.clone();
    let source = input.expr.clone();
    let (expr, may_fail) = match (&from, to) {
        (_, DataType::String) => (to_spark_string(input, tz), false),
        (DataType::Null, _) => (source.cast(to.to_polars()), false),
        (DataType::String, t) if t.is_numeric() => {
            let trimmed = source.str().strip_chars(pl_lit(pl::Null {}));
            (
                trimmed.cast_with_options(t.to_polars(), CastOptions::NonStrict),
                true,
            )
        }
        (DataType::String, DataType::Boolean) => {
            let lower = source
                .str()
                .strip_chars(pl_lit(pl::Null {}))
                .str()
                .to_lowercase();
            let truthy = lower.clone().is_in(
                pl_lit(pl::Series::new("t".into(), ["t", "true", "y", "yes", "1"])).implode(false),
                false,
            );
            let falsy = lower.is_in(
                pl_lit(pl::Series::new("f".into(), ["f", "false", "n", "no", "0"])).implode(false),
                false,
            );
            (
                pl_when(truthy)
                    .then(pl_lit(true))
                    .when(falsy)
                    .then(pl_lit(false))
                    .otherwise(pl_lit(pl::Null {}).cast(PlType::Boolean)),
                true,
            )
        }
        (DataType::String, DataType::Date) => {
            let trimmed = source.str().strip_chars(pl_lit(pl::Null {}));
            // `yyyy-MM-dd` optionally followed by a time, which is dropped.
            let head = trimmed.str().slice(pl_lit(0), pl_lit(10));
            (head.str().to_date(strptime("%Y-%m-%d")), true)
        }
        (DataType::String, DataType::Timestamp) => (parse_timestamp(source, tz), true),
        (DataType::String, DataType::TimestampNtz) => (parse_timestamp(source, &Tz::UTC), true),
        (DataType::Timestamp, DataType::Date) => {
            (utc_to_local(source, tz).cast(PlType::Date), false)
        }
        (DataType::TimestampNtz, DataType::Date) => (source.cast(PlType::Date), false),
        (DataType::Date, DataType::Timestamp) => (
            local_to_utc(
                source.cast(PlType::Datetime(pl::TimeUnit::Microseconds, None)),
                tz,
            ),
            false,
        ),
        (DataType::Date, DataType::TimestampNtz) => (
            source.cast(PlType::Datetime(pl::TimeUnit::Microseconds, None)),
            false,
        ),
        (DataType::Timestamp, DataType::TimestampNtz) => (utc_to_local(source, tz), false),
        (DataType::TimestampNtz, DataType::Timestamp) => (local_to_utc(source, tz), false),
        (DataType::Timestamp, t) if t.is_numeric() => {
            let micros = source.cast(PlType::Int64);
            let expr = if t.is_integral() {
                micros
                    .floor_div(pl_lit(MICROS_PER_SECOND))
                    .cast(t.to_polars())
            } else {
                (micros.cast(PlType::Float64) / pl_lit(MICROS_PER_SECOND as f64))
                    .cast(t.to_polars())
            };
            (expr, false)
        }
        (f, DataType::Timestamp) if f.is_numeric() => (
            (source.cast(PlType::Float64) * pl_lit(MICROS_PER_SECOND as f64))
                .cast(PlType::Int64)
                .cast(PlType::Datetime(pl::TimeUnit::Microseconds, None)),
            false,
        ),
        (DataType::Boolean, t) if t.is_numeric() => (source.cast(t.to_polars()), false),
        (f, DataType::Boolean) if f.is_numeric() => (source.neq(pl_lit(0)), false),
        (f, t) if f.is_numeric() && t.is_numeric() => {
            (crate::numeric_cast::numeric_cast(source, f, t, ansi), false)
        }
        (DataType::String, DataType::Binary) => (source.cast(PlType::Binary), false),
        // Only whether elements may be null differs: the values stay as they are.
        (DataType::Array(x, _), DataType::Array(y, _)) if x == y => (source, false),
        (DataType::Map(xk, xv, _), DataType::Map(yk, yv, _)) if xk == yk && xv == yv => {
            (source, false)
        }
        (DataType::Struct(x), DataType::Struct(y))
            if x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(f, g)| f.name == g.name && f.data_type == g.data_type) =>
        {
            (source, false)
        }
        (DataType::Array(x, _), DataType::Array(y, _))
            if x.is_numeric() && y.is_numeric()
                || y.as_ref() == &DataType::String
                || x.as_ref() == &DataType::Null =>
        {
            (source.cast(to.to_polars()), false)
        }
        // `map()`: no entries, so any key and value type.
        (DataType::Map(xk, xv, _), DataType::Map(..))
            if xk.as_ref() == &DataType::Null && xv.as_ref() == &DataType::Null =>
        {
            (source.cast(to.to_polars()), false)
        }
        // Spark keeps the fields the target holds, dropping smaller ones.
        (DataType::DayTimeInterval(_), DataType::DayTimeInterval(fields)) => {
            let unit = match fields.end {
                IntervalField::Day => MICROS_PER_DAY,
                IntervalField::Hour => 3_600 * MICROS_PER_SECOND,
                IntervalField::Minute => 60 * MICROS_PER_SECOND,
                _ => 1,
            };
            let micros = source.cast(PlType::Int64);
            let kept = micros.clone() - micros % pl_lit(unit);
            (kept.cast(to.to_polars()), false)
        }
        (DataType::YearMonthInterval(_), DataType::YearMonthInterval(fields)) => {
            let months = match fields.end {
                IntervalField::Year => source.clone() - source % pl_lit(12i32),
                _ => source,
            };
            (months, false)
        }
        (DataType::DayTimeInterval(_), DataType::Long) => (
            source
                .cast(PlType::Int64)
                .floor_div(pl_lit(MICROS_PER_SECOND)),
            false,
        ),
        _ => return Err(unsupported()),
    };
    let expr = if may_fail && ansi {
        cast_checked(original, expr, &from, to)
    } else {
        expr
    };
    Ok(Typed::new(
        expr,
        to.clone(),
        nullable || (may_fail && !ansi) || cast_forces_null(&from, to),
    ))
}

/// Raises `CAST_INVALID_INPUT` naming the first value that did not convert.
fn cast_checked(source: pl::Expr, converted: pl::Expr, from: &DataType, to: &DataType) -> pl::Expr {
    let from_name = from.simple_string().to_uppercase();
    let to_name = to.simple_string().to_uppercase();
    let bad = source
        .clone()
        .is_not_null()
        .and(converted.clone().is_null());
    converted.map_many(
        move |columns: &mut [Column]| {
            let bad = columns[2].bool()?;
            if !bad.any() {
                return Ok(std::mem::take(&mut columns[0]));
            }
            let index = bad.iter().position(|b| b == Some(true)).unwrap_or(0);
            let value = columns[1].get(index)?;
            let text = match value {
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            };
            Err(polars::error::PolarsError::ComputeError(
                format!(
                    "[CAST_INVALID_INPUT] The value '{text}' of the type \"{from_name}\" cannot be cast to \"{to_name}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead."
                )
                .into(),
            ))
        },
        &[source, bad],
        |_, fields| Ok(fields[0].clone()),
    )
}
