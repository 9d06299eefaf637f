//! Spark SQL on the engine: `session.sql(text)` parses one statement, lowers
//! queries to the same DataFrame plans the API builds, and runs commands
//! (views, `SET`, `SHOW`, `DESCRIBE`, `EXPLAIN`, `CACHE`) eagerly, returning
//! their result as a DataFrame as Spark does.

mod dialect;
mod expr;
mod interval;
mod joins;
mod parser;
mod query;
mod subquery;

pub use expr::SqlArgs;
pub use parser::{parse_statements, ExplainMode, Statement};

use crate::dataframe::DataFrame;
use crate::error::{EngineError, Result};
use crate::session::{view_not_found, Session};
use crate::types::{DataType, Schema, StructField};
use crate::value::Value;
use expr::ExprLowering;
use query::QueryLowering;

/// Runs one statement; `text` holding several is a syntax error, as in Spark.
pub fn sql(session: &Session, text: &str, args: &SqlArgs) -> Result<DataFrame> {
    let mut statements = parse_statements(text)?;
    match statements.len() {
        0 => Err(EngineError::spark(
            "PARSE_EMPTY_STATEMENT",
            "Syntax error, unexpected empty statement. SQLSTATE: 42617",
        )),
        1 => run_statement(session, &statements.remove(0), args)
            .map_err(|e| with_sql_origin(text, e)),
        _ => Err(EngineError::spark(
            "PARSE_SYNTAX_ERROR",
            "Syntax error at or near ';': spark.sql runs one statement; split the text or use a %%sql cell. SQLSTATE: 42601",
        )),
    }
}

/// An analysis error about a name (an unresolved column, function or view)
/// placed where `text` first writes that name, as Spark's `line 1 pos 7`.
pub fn with_sql_origin(text: &str, error: EngineError) -> EngineError {
    let EngineError::Analysis {
        class,
        message,
        origin: None,
        ..
    } = &error
    else {
        return error;
    };
    let named = [
        "UNRESOLVED_COLUMN",
        "UNRESOLVED_ROUTINE",
        "TABLE_OR_VIEW_NOT_FOUND",
    ];
    if !named.iter().any(|n| class.starts_with(n)) {
        return error;
    }
    match quoted_name(message).and_then(|name| parser::name_position(text, &name)) {
        Some((line, pos)) => error.with_origin(line, pos),
        None => error,
    }
}

/// The first back-quoted name of a message, by parts: `` `t`.`x` `` is
/// `["t", "x"]`.
fn quoted_name(message: &str) -> Option<Vec<String>> {
    let start = message.find('`')?;
    let mut parts = Vec::new();
    let mut rest = &message[start..];
    while let Some(body) = rest.strip_prefix('`') {
        let mut part = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '`')) if body[i + 1..].starts_with('`') => {
                    part.push('`');
                    chars.next();
                }
                Some((i, '`')) => break i + 1,
                Some((_, c)) => part.push(c),
                None => return None,
            }
        };
        parts.push(part);
        rest = &body[end..];
        match rest.strip_prefix('.') {
            Some(next) if next.starts_with('`') => rest = next,
            _ => break,
        }
    }
    Some(parts)
}

/// One SQL expression (`F.expr`, `selectExpr`, `filter("...")`) as an engine expression.
pub fn expression(session: &Session, text: &str) -> Result<crate::expr::Expr> {
    let (ast, alias) = parser::parse_expression(text)?;
    let args = SqlArgs::None;
    let lowering = ExprLowering::new(&args, session);
    let (expr, subqueries) = lowering.lower_with_subqueries(&ast);
    let expr = expr?;
    if !subqueries.is_empty() {
        return Err(EngineError::analysis(
            "UNSUPPORTED_SUBQUERY_EXPRESSION_CATEGORY",
            "A subquery cannot be used in a column expression; run it with spark.sql instead.",
        ));
    }
    Ok(match alias {
        Some(alias) => expr.alias(&alias),
        None => expr,
    })
}

/// Runs a parsed statement.
pub fn run_statement(
    session: &Session,
    statement: &Statement,
    args: &SqlArgs,
) -> Result<DataFrame> {
    let lowering = || QueryLowering::new(session, ExprLowering::new(args, session));
    match statement {
        Statement::Query(query) => lowering().query(query),
        Statement::CreateView {
            name,
            columns,
            replace,
            if_not_exists,
            query,
        } => {
            if *if_not_exists && session.temp_view(name).is_some() {
                return empty(session);
            }
            let df = lowering().query(query)?;
            let df = if columns.is_empty() {
                df
            } else if columns.len() != df.columns().len() {
                let (class, reason) = if columns.len() < df.columns().len() {
                    (
                        "CREATE_VIEW_COLUMN_ARITY_MISMATCH.TOO_MANY_DATA_COLUMNS",
                        "too many",
                    )
                } else {
                    (
                        "CREATE_VIEW_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS",
                        "not enough",
                    )
                };
                let quoted = |names: &[String]| {
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(EngineError::analysis(
                    class,
                    format!(
                        "Cannot create view `{name}`, the reason is {reason} data columns:\nView columns: {}.\nData columns: {}.",
                        quoted(columns),
                        quoted(&df.columns())
                    ),
                ));
            } else {
                let renamed = columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        df.column_at(i)
                            .map(|e| e.alias(column))
                            .ok_or_else(|| EngineError::Internal("view column missing".into()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                df.select(renamed)?
            };
            session.create_temp_view(name, &df, *replace)?;
            empty(session)
        }
        Statement::DropView { name, if_exists } => {
            if !session.drop_temp_view(name) && !if_exists {
                return Err(view_not_found(name));
            }
            empty(session)
        }
        Statement::ShowTables => {
            let rows = session
                .view_names()
                .into_iter()
                .map(|n| {
                    vec![
                        Value::String(String::new()),
                        Value::String(n),
                        Value::Boolean(true),
                    ]
                })
                .collect();
            table(
                session,
                rows,
                &[
                    ("namespace", DataType::String),
                    ("tableName", DataType::String),
                    ("isTemporary", DataType::Boolean),
                ],
            )
        }
        Statement::ShowColumns { table: name } => {
            let df = session.table(name)?;
            let rows = df
                .schema()
                .fields
                .iter()
                .map(|f| vec![Value::String(f.name.clone())])
                .collect();
            table(session, rows, &[("col_name", DataType::String)])
        }
        Statement::Describe { table } => describe_columns(session, &session.table(table)?),
        Statement::DescribeQuery(query) => describe_columns(session, &lowering().query(query)?),
        Statement::Explain { statement, mode } => {
            let plan = match statement.as_ref() {
                Statement::Query(query) => lowering().query(query)?.explain_mode_string(*mode),
                other => format!(
                    "== Physical Plan ==\nExecutedCommand\n   +- {}\n\n",
                    command_name(other)
                ),
            };
            table(
                session,
                vec![vec![Value::String(plan)]],
                &[("plan", DataType::String)],
            )
        }
        Statement::Set { key, value } => set(session, key.as_deref(), value.as_deref()),
        Statement::Reset { key } => {
            match key {
                Some(k) => session.unset_conf(k),
                None => {
                    let keys: Vec<String> =
                        session.config().all().map(|(k, _)| k.to_string()).collect();
                    for k in keys {
                        session.unset_conf(&k);
                    }
                }
            }
            empty(session)
        }
        Statement::CacheTable { name, query } => {
            if let Some(query) = query {
                let df = lowering().query(query)?;
                session.create_temp_view(name, &df, false)?;
            }
            let df = session
                .temp_view(name)
                .ok_or_else(|| view_not_found(name))?;
            df.persist().count()?;
            empty(session)
        }
        Statement::UncacheTable { name, if_exists } => {
            match session.temp_view(name) {
                Some(df) => {
                    df.unpersist();
                }
                None if *if_exists => {}
                None => return Err(view_not_found(name)),
            }
            empty(session)
        }
        Statement::ClearCache => {
            session.clear_cache();
            empty(session)
        }
    }
}

fn command_name(statement: &Statement) -> &'static str {
    match statement {
        Statement::Query(_) => "Query",
        Statement::CreateView { .. } => "CreateViewCommand",
        Statement::DropView { .. } => "DropTempViewCommand",
        Statement::ShowTables => "ShowTablesCommand",
        Statement::ShowColumns { .. } => "ShowColumnsCommand",
        Statement::Describe { .. } => "DescribeTableCommand",
        Statement::DescribeQuery(_) => "DescribeQueryCommand",
        Statement::Explain { .. } => "ExplainCommand",
        Statement::Set { .. } => "SetCommand",
        Statement::Reset { .. } => "ResetCommand",
        Statement::CacheTable { .. } => "CacheTableCommand",
        Statement::UncacheTable { .. } => "UncacheTableCommand",
        Statement::ClearCache => "ClearCacheCommand",
    }
}

fn set(session: &Session, key: Option<&str>, value: Option<&str>) -> Result<DataFrame> {
    let columns = [("key", DataType::String), ("value", DataType::String)];
    let rows = match (key, value) {
        (Some(key), Some(value)) => {
            session.set_conf(key, value)?;
            vec![vec![
                Value::String(key.to_string()),
                Value::String(value.to_string()),
            ]]
        }
        (Some(key), None) => {
            let config = session.config();
            let value = config
                .get(key)
                .map(str::to_string)
                .unwrap_or_else(|| "<undefined>".to_string());
            vec![vec![Value::String(key.to_string()), Value::String(value)]]
        }
        _ => {
            let config = session.config();
            let mut pairs: Vec<(String, String)> = config
                .all()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            pairs.sort();
            pairs
                .into_iter()
                .map(|(k, v)| vec![Value::String(k), Value::String(v)])
                .collect()
        }
    };
    table(session, rows, &columns)
}

/// `DESCRIBE`'s table: each column of `df` with its type and no comment.
fn describe_columns(session: &Session, df: &DataFrame) -> Result<DataFrame> {
    let rows = df
        .schema()
        .fields
        .iter()
        .map(|f| {
            vec![
                Value::String(f.name.clone()),
                Value::String(f.data_type.simple_string()),
                Value::Null,
            ]
        })
        .collect();
    let schema = Schema::new(vec![
        StructField::new("col_name", DataType::String, false),
        StructField::new("data_type", DataType::String, false),
        StructField::new("comment", DataType::String, true),
    ]);
    session.create_dataframe(rows, schema)
}

fn table(
    session: &Session,
    rows: Vec<Vec<Value>>,
    columns: &[(&str, DataType)],
) -> Result<DataFrame> {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, t)| StructField::new(*name, t.clone(), false))
            .collect(),
    );
    session.create_dataframe(rows, schema)
}

/// The empty result of a command.
fn empty(session: &Session) -> Result<DataFrame> {
    session.create_dataframe(Vec::new(), Schema::new(Vec::new()))
}
