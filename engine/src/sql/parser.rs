//! Spark SQL text → statements. `sqlparser` (with Kiln's Spark dialect) reads
//! queries and expressions; the statements Spark words its own way (`SET`
//! with raw values, `EXPLAIN` modes, `DESCRIBE`, `SHOW`, `CACHE TABLE`, temp
//! views) are read here. Failures become Spark's `PARSE_SYNTAX_ERROR` text,
//! with the position and the query excerpt under a caret.

use sqlparser::ast::{self, ObjectName};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

use super::dialect::SparkDialect;
use crate::error::{EngineError, Result};

/// One statement of a SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Query(Box<ast::Query>),
    CreateView {
        name: String,
        /// `CREATE VIEW v (a, b) AS ...`: the query's columns renamed.
        columns: Vec<String>,
        replace: bool,
        if_not_exists: bool,
        query: Box<ast::Query>,
    },
    DropView {
        name: String,
        if_exists: bool,
    },
    ShowTables,
    ShowColumns {
        table: String,
    },
    Describe {
        table: String,
    },
    /// `DESCRIBE [QUERY] SELECT ...`: the query's columns.
    DescribeQuery(Box<ast::Query>),
    Explain {
        mode: ExplainMode,
        statement: Box<Statement>,
    },
    /// `SET` (list), `SET key` (show one), `SET key=value`.
    Set {
        key: Option<String>,
        value: Option<String>,
    },
    Reset {
        key: Option<String>,
    },
    CacheTable {
        name: String,
        query: Option<Box<ast::Query>>,
    },
    UncacheTable {
        name: String,
        if_exists: bool,
    },
    ClearCache,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainMode {
    Simple,
    Extended,
    Formatted,
    Codegen,
    Cost,
}

/// Every statement of `text`, separated by `;`.
pub fn parse_statements(text: &str) -> Result<Vec<Statement>> {
    parse_shown(text, text, true)
}

/// The statements of `text`, errors quoting `shown` (the text as the user
/// wrote it, when `text` is a copy with a word blanked out).
fn parse_shown(text: &str, shown: &str, star_aliases: bool) -> Result<Vec<Statement>> {
    let dialect = SparkDialect;
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| syntax_error(shown, &e))?;
    let mut statements = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token_ref().token == Token::EOF {
            break;
        }
        let statement = parse_statement(&mut parser, text).map_err(|e| {
            let from = match &e {
                ParserError::ParserError(m) if m.to_ascii_uppercase().contains("FOUND: FROM") => {
                    from_after_comma(text, offset(text, found_token(m).1))
                }
                _ => None,
            };
            match from {
                Some(from) => trailing_comma(text, shown, from, star_aliases),
                None => syntax_error(shown, &e),
            }
        })?;
        statements.push(statement);
        let next = parser.peek_token();
        if next.token != Token::SemiColon && next.token != Token::EOF {
            let start = offset(text, next.span.start);
            if let Token::Word(word) = &next.token {
                if star_aliases && text[..start].trim_end().ends_with('*') {
                    return Err(star_alias(text, shown, start, word.value.len()));
                }
            }
            // ANTLR (Spark) calls a lone token after a complete statement
            // extra input: dropping it would make the statement parse.
            let token = next.token.to_string();
            let after = parser.peek_nth_token(1).token;
            let extra = if matches!(after, Token::EOF | Token::SemiColon) {
                format!(": extra input '{token}'")
            } else {
                String::new()
            };
            return Err(syntax_error_at(
                shown,
                Some(&token),
                next.span.start,
                &extra,
            ));
        }
    }
    Ok(statements)
}

/// A word right after a `*` in a select list, which Spark's grammar reads
/// as the star's alias (`SELECT * x FROM t`): the statement is read again
/// without it (a second word is extra input, as in Spark), and if that
/// parses, Spark's analysis refuses the alias.
fn star_alias(text: &str, shown: &str, start: usize, len: usize) -> EngineError {
    let mut blanked = text.to_string();
    blanked.replace_range(start..start + len, &" ".repeat(len));
    match parse_shown(&blanked, shown, false) {
        Ok(_) => EngineError::analysis(
            "INVALID_USAGE_OF_STAR_OR_REGEX",
            "Invalid usage of '*' in expression `alias`.",
        ),
        Err(e) => e,
    }
}

/// One SQL expression with an optional alias (`a + 1 AS b`), as `F.expr`
/// and `selectExpr` take it.
pub fn parse_expression(text: &str) -> Result<(ast::Expr, Option<String>)> {
    let dialect = SparkDialect;
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| syntax_error(text, &e))?;
    let expr = parser.parse_expr().map_err(|e| syntax_error(text, &e))?;
    let alias = if parser.parse_keyword(Keyword::AS)
        || matches!(parser.peek_token().token, Token::Word(ref w) if w.keyword == Keyword::NoKeyword)
    {
        Some(
            parser
                .parse_identifier()
                .map_err(|e| syntax_error(text, &e))?
                .value,
        )
    } else {
        None
    };
    let expr = (expr, alias);
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(syntax_error_at(
            text,
            Some(&next.token.to_string()),
            next.span.start,
            "",
        ));
    }
    Ok(expr)
}

fn parse_statement(parser: &mut Parser, text: &str) -> Result<Statement, ParserError> {
    let first = parser.peek_token();
    let Token::Word(word) = &first.token else {
        return Ok(Statement::Query(parser.parse_query()?));
    };
    match word.keyword {
        Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::FROM | Keyword::TABLE => {
            Ok(Statement::Query(parser.parse_query()?))
        }
        Keyword::SET => {
            parser.next_token();
            Ok(parse_set(parser, text))
        }
        Keyword::RESET => {
            parser.next_token();
            let raw = rest_of_statement(parser, text);
            Ok(Statement::Reset {
                key: (!raw.is_empty()).then_some(raw),
            })
        }
        Keyword::EXPLAIN => {
            parser.next_token();
            let mode = if parse_word(parser, "EXTENDED") {
                ExplainMode::Extended
            } else if parse_word(parser, "FORMATTED") {
                ExplainMode::Formatted
            } else if parse_word(parser, "CODEGEN") {
                ExplainMode::Codegen
            } else if parse_word(parser, "COST") {
                ExplainMode::Cost
            } else {
                ExplainMode::Simple
            };
            let statement = Box::new(parse_statement(parser, text)?);
            Ok(Statement::Explain { mode, statement })
        }
        Keyword::DESCRIBE | Keyword::DESC => {
            parser.next_token();
            let query_follows = parse_word(parser, "QUERY")
                || matches!(
                    &parser.peek_token_ref().token,
                    Token::Word(w) if matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES)
                )
                || parser.peek_token_ref().token == Token::LParen;
            if query_follows {
                return Ok(Statement::DescribeQuery(parser.parse_query()?));
            }
            let _ = parser.parse_keyword(Keyword::TABLE);
            let _ = parser.parse_one_of_keywords(&[Keyword::EXTENDED, Keyword::FORMATTED]);
            let table = object_name(&parser.parse_object_name(false)?);
            Ok(Statement::Describe { table })
        }
        Keyword::SHOW => {
            parser.next_token();
            if parser.parse_keyword(Keyword::TABLES) || parser.parse_keyword(Keyword::VIEWS) {
                if parser
                    .parse_one_of_keywords(&[Keyword::IN, Keyword::FROM])
                    .is_some()
                {
                    parser.parse_object_name(false)?;
                }
                Ok(Statement::ShowTables)
            } else if parser.parse_keyword(Keyword::COLUMNS) {
                if parser
                    .parse_one_of_keywords(&[Keyword::IN, Keyword::FROM])
                    .is_none()
                {
                    return parser.expected("IN or FROM", parser.peek_token());
                }
                let table = object_name(&parser.parse_object_name(false)?);
                Ok(Statement::ShowColumns { table })
            } else {
                parser.expected("TABLES, VIEWS or COLUMNS", parser.peek_token())
            }
        }
        Keyword::CACHE => {
            parser.next_token();
            parse_word(parser, "LAZY");
            parser.expect_keyword(Keyword::TABLE)?;
            let name = object_name(&parser.parse_object_name(false)?);
            let query = if parser.parse_keyword(Keyword::AS)
                || matches!(&parser.peek_token_ref().token, Token::Word(w) if matches!(w.keyword, Keyword::SELECT | Keyword::WITH))
                || parser.peek_token_ref().token == Token::LParen
            {
                Some(parser.parse_query()?)
            } else {
                None
            };
            Ok(Statement::CacheTable { name, query })
        }
        Keyword::UNCACHE => {
            parser.next_token();
            parser.expect_keyword(Keyword::TABLE)?;
            let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = object_name(&parser.parse_object_name(false)?);
            Ok(Statement::UncacheTable { name, if_exists })
        }
        Keyword::CLEAR => {
            parser.next_token();
            parser.expect_keyword(Keyword::CACHE)?;
            Ok(Statement::ClearCache)
        }
        Keyword::CREATE => {
            parser.next_token();
            let replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
            let _ = parser.parse_keyword(Keyword::GLOBAL);
            if parser
                .parse_one_of_keywords(&[Keyword::TEMP, Keyword::TEMPORARY])
                .is_none()
            {
                return Err(ParserError::ParserError(format!(
                    "{UNSUPPORTED_PREFIX}Only temporary views can be created in Kiln (CREATE [OR REPLACE] TEMP VIEW name AS query): it keeps no persistent catalog."
                )));
            }
            parser.expect_keyword(Keyword::VIEW)?;
            let if_not_exists =
                parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
            let name = object_name(&parser.parse_object_name(false)?);
            let columns = if parser.consume_token(&Token::LParen) {
                let columns = parser.parse_comma_separated(|p| p.parse_identifier())?;
                parser.expect_token(&Token::RParen)?;
                columns.into_iter().map(|c| c.value).collect()
            } else {
                Vec::new()
            };
            parser.expect_keyword(Keyword::AS)?;
            let query = parser.parse_query()?;
            Ok(Statement::CreateView {
                name,
                columns,
                replace,
                if_not_exists,
                query,
            })
        }
        Keyword::DROP => {
            parser.next_token();
            if !parser.parse_keyword(Keyword::VIEW) {
                return Err(ParserError::ParserError(format!(
                    "{UNSUPPORTED_PREFIX}Only views can be dropped in Kiln (DROP VIEW [IF EXISTS] name)."
                )));
            }
            let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = object_name(&parser.parse_object_name(false)?);
            Ok(Statement::DropView { name, if_exists })
        }
        _ if first.token == Token::LParen => Ok(Statement::Query(parser.parse_query()?)),
        _ => Err(ParserError::ParserError(format!(
            "Expected: a statement, found: {} at Line: {}, Column: {}",
            first.token, first.span.start.line, first.span.start.column
        ))),
    }
}

/// Consumes the next token when it is the (unquoted) word `word`.
fn parse_word(parser: &mut Parser, word: &str) -> bool {
    let matches = matches!(
        &parser.peek_token_ref().token,
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word)
    );
    if matches {
        parser.next_token();
    }
    matches
}

/// Marks a parser failure that is really an unsupported statement.
const UNSUPPORTED_PREFIX: &str = "\u{1}unsupported:";

/// `SET` takes the rest of the statement raw, as Spark does:
/// `SET spark.sql.session.timeZone=America/New_York`.
fn parse_set(parser: &mut Parser, text: &str) -> Statement {
    let raw = rest_of_statement(parser, text);
    if raw.is_empty() {
        return Statement::Set {
            key: None,
            value: None,
        };
    }
    match raw.split_once('=') {
        Some((key, value)) => Statement::Set {
            key: Some(key.trim().to_string()),
            value: Some(value.trim().to_string()),
        },
        None => Statement::Set {
            key: Some(raw),
            value: None,
        },
    }
}

/// The raw text from the next token to the end of the statement.
fn rest_of_statement(parser: &mut Parser, text: &str) -> String {
    let mut start = None;
    let mut end = None;
    loop {
        let token = parser.peek_token();
        if token.token == Token::SemiColon || token.token == Token::EOF {
            break;
        }
        parser.next_token();
        start.get_or_insert(token.span.start);
        end = Some(token.span.end);
    }
    match (start, end) {
        (Some(start), Some(end)) => {
            let (from, to) = (offset(text, start), offset(text, end));
            text.get(from..to).unwrap_or_default().trim().to_string()
        }
        _ => String::new(),
    }
}

/// Byte offset of a 1-based line and column (columns count characters).
fn offset(text: &str, location: Location) -> usize {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in text.char_indices() {
        if line == location.line && column == location.column {
            return i;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    text.len()
}

/// Where `text` first writes the dotted name `parts` (case-insensitively):
/// the 1-based line and the 0-based position of its first part.
pub fn name_position(text: &str, parts: &[String]) -> Option<(usize, usize)> {
    let dialect = SparkDialect;
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .ok()?;
    let words: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let matches_at = |at: usize| {
        parts.iter().enumerate().all(|(i, part)| {
            let word = words.get(at + 2 * i).map(|t| &t.token);
            let dot = i == 0 || words.get(at + 2 * i - 1).map(|t| &t.token) == Some(&Token::Period);
            dot && matches!(word, Some(Token::Word(w)) if w.value.eq_ignore_ascii_case(part))
        })
    };
    let at = (0..words.len()).find(|&at| matches_at(at))?;
    let start = words[at].span.start;
    Some((start.line as usize, start.column.saturating_sub(1) as usize))
}

/// A dotted name as written, back quotes removed from each part.
pub fn object_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Spark's rendering of a parse failure.
fn syntax_error(text: &str, error: &ParserError) -> EngineError {
    let message = match error {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => {
            return EngineError::spark(
                "PARSE_SYNTAX_ERROR",
                "Syntax error: the statement is nested too deeply. SQLSTATE: 42601",
            )
        }
    };
    if let Some(reason) = message.strip_prefix(UNSUPPORTED_PREFIX) {
        return EngineError::spark("UNSUPPORTED_FEATURE", reason.to_string());
    }
    let (found, location) = found_token(&message);
    let extra = if message.starts_with("Unterminated") || message.contains("unterminated") {
        format!(": {}", message.split(" at Line").next().unwrap_or(&message))
    } else {
        String::new()
    };
    syntax_error_at(text, found.as_deref(), location, &extra)
}

/// The byte offset of a `FROM` that follows a comma, where a parse failed
/// at or just before byte `at` (sqlparser may report the token after it).
fn from_after_comma(text: &str, at: usize) -> Option<usize> {
    let end = (at + 4).min(text.len());
    let from = text.get(..end)?.to_ascii_lowercase().rfind("from")?;
    text[..from].trim_end().ends_with(',').then_some(from)
}

/// `SELECT a, FROM t WHERE ...`: Spark's grammar reads `FROM t` as a column
/// `FROM` aliased `t`, so the statement is read again that way (`f AS t`,
/// the same length, so positions hold). If it parses, Spark's analysis
/// reports the trailing comma; if not, the error is the one Spark's parser
/// gives (`SELECT a, FROM t x` fails at `x`).
fn trailing_comma(text: &str, shown: &str, from: usize, star_aliases: bool) -> EngineError {
    let mut column = text.to_string();
    column.replace_range(from..from + 4, "f AS");
    if let Err(e) = parse_shown(&column, shown, star_aliases) {
        return e;
    }
    let line = text[..from].matches('\n').count() + 1;
    let pos = text[..from]
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.chars().count());
    EngineError::analysis(
        "TRAILING_COMMA_IN_SELECT",
        "Trailing comma detected in SELECT clause. Remove the trailing comma before the FROM clause.",
    )
    .with_origin(line, pos)
}

/// The token sqlparser stopped at and where: `... found: FORM at Line: 3, Column: 5`.
fn found_token(message: &str) -> (Option<String>, Location) {
    let location = message
        .rsplit_once(" at Line: ")
        .and_then(|(_, rest)| {
            let (line, column) = rest.split_once(", Column: ")?;
            let column: String = column.chars().take_while(|c| c.is_ascii_digit()).collect();
            Some(Location::new(
                line.trim().parse().ok()?,
                column.parse().ok()?,
            ))
        })
        .unwrap_or(Location::new(0, 0));
    let found = message.split_once("found: ").map(|(_, rest)| {
        rest.rsplit_once(" at Line: ")
            .map(|(token, _)| token)
            .unwrap_or(rest)
            .to_string()
    });
    (found.filter(|t| t != "EOF"), location)
}

fn syntax_error_at(
    text: &str,
    found: Option<&str>,
    location: Location,
    extra: &str,
) -> EngineError {
    let (line, pos) = if location.line == 0 {
        let lines: Vec<&str> = text.lines().collect();
        (
            lines.len().max(1) as u64,
            lines.last().map(|l| l.chars().count()).unwrap_or(0) as u64,
        )
    } else {
        (location.line, location.column.saturating_sub(1))
    };
    let near = match found {
        Some(token) => format!("at or near '{token}'"),
        None => "at or near end of input".to_string(),
    };
    let mut excerpt = String::new();
    let mut lines = text.lines().peekable();
    if lines.peek().is_none() {
        excerpt.push_str(&format!("\n{}^^^\n", "-".repeat(pos as usize)));
    }
    for (number, l) in (1..).zip(lines) {
        excerpt.push_str(l);
        excerpt.push('\n');
        if number == line {
            excerpt.push_str(&"-".repeat(pos as usize));
            excerpt.push_str("^^^\n");
        }
    }
    EngineError::spark(
        "PARSE_SYNTAX_ERROR",
        format!(
            "Syntax error {near}{extra}. SQLSTATE: 42601 (line {line}, pos {pos})\n\n== SQL ==\n{excerpt}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(sql: &str) -> Vec<Statement> {
        match parse_statements(sql) {
            Ok(s) => s,
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// Every construct issue #4 lists, parsed through the Spark dialect.
    #[test]
    fn the_spark_sql_surface_parses() {
        for sql in [
            "SELECT a, b AS c, t.*, * FROM v t",
            "SELECT * FROM (SELECT 1 AS x) s",
            "SELECT * FROM parquet.`data/pq/green/*/*`",
            "SELECT * FROM csv.`/tmp/a.csv`",
            "SELECT * FROM range(10)",
            "SELECT a, b, count(1) FROM t GROUP BY 1, 2",
            "SELECT a, b, sum(c) FROM t GROUP BY ROLLUP(a, b)",
            "SELECT a, b, sum(c) FROM t GROUP BY CUBE(a, b)",
            "SELECT a, b, sum(c) FROM t GROUP BY GROUPING SETS ((a, b), (a), ())",
            "SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1",
            "SELECT a FROM t ORDER BY 1 DESC NULLS LAST, b ASC NULLS FIRST",
            "SELECT a FROM t SORT BY a",
            "SELECT a FROM t LIMIT 10 OFFSET 5",
            "SELECT DISTINCT a FROM t",
            "SELECT * FROM a LEFT JOIN b ON a.x = b.y RIGHT OUTER JOIN c USING (k) FULL JOIN d ON true CROSS JOIN e LEFT SEMI JOIN f ON a.x=f.x LEFT ANTI JOIN g ON a.x=g.x",
            "SELECT pz.Zone, dz.Zone FROM trips t LEFT JOIN zones pz ON t.PULocationID = pz.LocationID LEFT JOIN zones dz ON t.DOLocationID = dz.LocationID",
            "SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4 EXCEPT SELECT 5",
            "WITH x AS (SELECT 1 AS a), y AS (SELECT * FROM x) SELECT * FROM y",
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, CASE a WHEN 1 THEN 2 END FROM t",
            "SELECT CAST(a AS LONG), CAST(b AS DECIMAL(10,2)), a::int FROM t",
            "SELECT * FROM t WHERE a IN (1, 2) AND b IN (SELECT x FROM u) AND EXISTS (SELECT 1 FROM u WHERE u.x = t.a)",
            "SELECT (SELECT max(x) FROM u) AS m FROM t WHERE a BETWEEN 1 AND 2",
            "SELECT * FROM t WHERE a LIKE 'x%' AND b RLIKE '^a' AND c ILIKE 'A%' AND d IS NOT NULL",
            "SELECT row_number() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), lag(c, 1) OVER (ORDER BY b) FROM t",
            "SELECT /*+ BROADCAST(z) */ * FROM t JOIN z ON t.a = z.a",
            "SELECT /*+ REPARTITION(4) */ * FROM t",
            "SELECT ts + INTERVAL 1 DAY, INTERVAL '2' HOUR, extract(hour FROM ts) FROM t",
            "SELECT round(x / 3600.0, 2), 1.5BD, 2L, 3S, 4Y, 1.0D, \"abc\", `weird col` FROM t",
            "-- header\nSELECT 1 /* inline */ AS x;",
            "SELECT * FROM t WHERE a > :minv AND 7 div 2 = 3",
            "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
            "DROP VIEW IF EXISTS v",
            "SHOW TABLES",
            "SHOW COLUMNS IN v",
            "DESCRIBE TABLE EXTENDED v",
            "EXPLAIN FORMATTED SELECT 1",
            "SET spark.sql.session.timeZone=America/New_York",
            "SET",
            "CACHE TABLE v",
            "UNCACHE TABLE IF EXISTS v",
        ] {
            assert_eq!(parses(sql).len(), 1, "{sql}");
        }
    }

    #[test]
    fn set_takes_raw_values() {
        assert_eq!(
            parses("SET spark.sql.session.timeZone = America/New_York;"),
            vec![Statement::Set {
                key: Some("spark.sql.session.timeZone".into()),
                value: Some("America/New_York".into())
            }]
        );
        assert_eq!(
            parses("SET"),
            vec![Statement::Set {
                key: None,
                value: None
            }]
        );
    }

    #[test]
    fn statements_split_on_semicolons() {
        let statements = parses("CREATE TEMP VIEW a AS SELECT 1;\n\nSELECT * FROM a;\n");
        assert_eq!(statements.len(), 2);
    }

    #[test]
    fn syntax_errors_read_like_spark() {
        let error = parse_statements("SELEC 1").unwrap_err().to_string();
        assert_eq!(
            error,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)\n\n== SQL ==\nSELEC 1\n^^^\n"
        );
        let error = parse_statements("SELECT 1 +").unwrap_err().to_string();
        assert_eq!(
            error,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near end of input. SQLSTATE: 42601 (line 1, pos 10)\n\n== SQL ==\nSELECT 1 +\n----------^^^\n"
        );
        let error = parse_statements("SELECT Zone\nFORM zones")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'zones': extra input 'zones'. SQLSTATE: 42601 (line 2, pos 5)\n\n== SQL ==\nSELECT Zone\nFORM zones\n-----^^^\n"
        );
        let error = parse_statements("SELECT a\nFROM t\nWHERE a > 1 FORM x")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("[PARSE_SYNTAX_ERROR] Syntax error at or near 'FORM'"),
            "{error}"
        );
        assert!(error.ends_with("(line 3, pos 12)\n\n== SQL ==\nSELECT a\nFROM t\nWHERE a > 1 FORM x\n------------^^^\n"), "{error}");
    }

    #[test]
    fn a_word_after_a_star_is_its_alias_as_in_spark() {
        let error = parse_statements("SELECT * FORM trips")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'trips': extra input 'trips'. SQLSTATE: 42601 (line 1, pos 14)\n\n== SQL ==\nSELECT * FORM trips\n--------------^^^\n"
        );
        let error = parse_statements("SELECT t.* x FROM trips t")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "[INVALID_USAGE_OF_STAR_OR_REGEX] Invalid usage of '*' in expression `alias`. SQLSTATE: 42000"
        );
    }

    #[test]
    fn a_comma_before_from_is_a_trailing_comma() {
        let error = parse_statements("SELECT PULocationID, FROM trips WHERE zone = 1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "[TRAILING_COMMA_IN_SELECT] Trailing comma detected in SELECT clause. Remove the trailing comma before the FROM clause. SQLSTATE: 42601; line 1 pos 21;"
        );
        let error = parse_statements("SELECT id,\nfrom t;")
            .unwrap_err()
            .to_string();
        assert!(error.ends_with("SQLSTATE: 42601; line 2 pos 0;"), "{error}");
        // Spark read `FROM t` as an aliased column, so what follows decides.
        let error = parse_statements("SELECT id, FROM t x WHERE id > 1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'x'. SQLSTATE: 42601 (line 1, pos 18)\n\n== SQL ==\nSELECT id, FROM t x WHERE id > 1\n------------------^^^\n"
        );
        let error = parse_statements("SELECT id, FROM range(3)")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("[PARSE_SYNTAX_ERROR] Syntax error at or near '('. SQLSTATE: 42601 (line 1, pos 21)"),
            "{error}"
        );
    }
}
