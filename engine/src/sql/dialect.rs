//! The Spark SQL dialect for `sqlparser`: its own Spark dialect, plus the
//! pieces Spark has and that dialect lacks (`/*+ hints */`, backslash escapes,
//! `DIV` binding like `*`, typed numeric literals such as `2S` or `1.5BD`).

use std::any::TypeId;

use sqlparser::ast::{
    BinaryOperator, DataType as AstType, Expr, Ident, Interval, ObjectName, Value,
};
use sqlparser::dialect::{Dialect, Precedence, SparkSqlDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Marks a typed numeric literal (`1.5BD`) in the AST: `TypedString` over this
/// custom type name, whose single argument is the suffix.
pub const TYPED_NUMBER: &str = "__kiln_typed_number";

#[derive(Debug, Default)]
pub struct SparkDialect;

impl Dialect for SparkDialect {
    /// The parser's Spark-specific branches test for Spark's dialect type.
    fn dialect(&self) -> TypeId {
        TypeId::of::<SparkSqlDialect>()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        SparkSqlDialect.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        SparkSqlDialect.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        SparkSqlDialect.is_identifier_part(ch)
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }

    fn supports_comment_optimizer_hint(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    fn supports_group_by_expr(&self) -> bool {
        true
    }

    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    fn supports_struct_literal(&self) -> bool {
        true
    }

    fn supports_nested_comments(&self) -> bool {
        true
    }

    fn supports_long_type_as_bigint(&self) -> bool {
        true
    }

    fn supports_values_as_table_factor(&self) -> bool {
        true
    }

    fn require_interval_qualifier(&self) -> bool {
        true
    }

    fn supports_bang_not_operator(&self) -> bool {
        true
    }

    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }

    fn supports_cte_without_as(&self) -> bool {
        true
    }

    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let starts_interval = matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::INTERVAL)
            && matches!(
                parser.peek_nth_token_ref(1).token,
                Token::Number(..)
                    | Token::SingleQuotedString(_)
                    | Token::DoubleQuotedString(_)
                    | Token::Minus
                    | Token::Plus
            );
        if starts_interval {
            parser.next_token();
            return Some(interval(parser));
        }
        typed_number(parser).map(Ok)
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if !parser.parse_keyword(Keyword::DIV) {
            return None;
        }
        Some(
            parser
                .parse_subexpr(precedence)
                .map(|right| Expr::BinaryOp {
                    left: Box::new(expr.clone()),
                    op: BinaryOperator::MyIntegerDivide,
                    right: Box::new(right),
                }),
        )
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match &parser.peek_token_ref().token {
            Token::Word(w) if w.keyword == Keyword::DIV => {
                Some(Ok(self.prec_value(Precedence::MulDivModOp)))
            }
            _ => None,
        }
    }
}

/// `2L`, `3S`, `4Y`, `1.0D`, `1.5BD`, `2.5F`: a number immediately followed
/// by a type suffix. `2L` is already one token; the rest arrive as a number
/// and a word that touch.
fn typed_number(parser: &mut Parser) -> Option<Expr> {
    let number = parser.peek_token();
    let Token::Number(digits, long) = &number.token else {
        return None;
    };
    if *long {
        return None;
    }
    let next = parser.peek_nth_token_ref(1);
    let Token::Word(word) = &next.token else {
        return None;
    };
    let touching = next.span.start.line == number.span.end.line
        && next.span.start.column == number.span.end.column;
    let suffix = word.value.to_ascii_uppercase();
    if !touching
        || word.quote_style.is_some()
        || !matches!(suffix.as_str(), "S" | "Y" | "D" | "F" | "BD")
    {
        return None;
    }
    let digits = digits.clone();
    parser.next_token();
    parser.next_token();
    Some(Expr::TypedString(sqlparser::ast::TypedString {
        data_type: AstType::Custom(
            ObjectName::from(vec![Ident::new(TYPED_NUMBER)]),
            vec![suffix],
        ),
        value: Value::SingleQuotedString(digits).into(),
        uses_odbc_syntax: false,
    }))
}

/// The units an interval literal may name, singular or plural.
const INTERVAL_UNITS: &[&str] = &[
    "year",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "microsecond",
];

fn is_interval_unit(token: &Token) -> bool {
    let Token::Word(word) = token else {
        return false;
    };
    let unit = word.value.to_ascii_lowercase();
    INTERVAL_UNITS.contains(&unit.strip_suffix('s').unwrap_or(&unit))
}

/// The rest of an interval literal after `INTERVAL`, in Spark's grammar:
/// `'1-2' YEAR TO MONTH` and the like (a value and its unit range), one or
/// more `value unit` pairs (`1 DAY 2 HOURS`, `'3' MINUTE`), or a string
/// that names its units (`'1 day 2 hours'`). Pairs and unit strings become
/// one text with no fields, which the lowering reads unit by unit.
fn interval(parser: &mut Parser) -> Result<Expr, ParserError> {
    let mut text = Vec::new();
    while text.is_empty() || another_pair(parser) {
        let Some(value) = interval_value(parser)? else {
            break;
        };
        if !is_interval_unit(&parser.peek_token_ref().token) {
            // Only a string may stand alone, and only as the whole literal.
            if text.is_empty() && !value.number {
                return Ok(unit_string(value.text));
            }
            return parser.expected("an interval unit", parser.peek_token());
        }
        let range = matches!(&parser.peek_nth_token_ref(1).token, Token::Word(w) if w.keyword == Keyword::TO);
        if range && value.number {
            return parser.expected("a string as the value of a unit range", parser.peek_token());
        }
        if range && text.is_empty() {
            let leading_field = parser.parse_date_time_field()?;
            parser.expect_keyword_is(Keyword::TO)?;
            let last_field = parser.parse_date_time_field()?;
            return Ok(Expr::Interval(Interval {
                value: Box::new(Expr::Value(Value::SingleQuotedString(value.text).into())),
                leading_field: Some(leading_field),
                leading_precision: None,
                last_field: Some(last_field),
                fractional_seconds_precision: None,
            }));
        }
        let written = parser.next_token().token.to_string();
        text.push(format!("{} {written}", value.text));
    }
    if text.is_empty() {
        return parser.expected("an interval value", parser.peek_token());
    }
    Ok(unit_string(text.join(" ")))
}

/// True when a `value unit` pair follows, which continues the literal (as
/// in Spark, `INTERVAL 1 DAY - 2 HOURS` is one literal of 22 hours).
fn another_pair(parser: &Parser) -> bool {
    let signed = matches!(parser.peek_token_ref().token, Token::Minus | Token::Plus);
    let at = usize::from(signed);
    matches!(
        &parser.peek_nth_token_ref(at).token,
        Token::Number(..) | Token::SingleQuotedString(_)
    ) && is_interval_unit(&parser.peek_nth_token_ref(at + 1).token)
}

/// An interval literal whose text names its own units.
fn unit_string(text: String) -> Expr {
    Expr::Interval(Interval {
        value: Box::new(Expr::Value(Value::SingleQuotedString(text).into())),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// One value of an interval literal, with its sign.
struct IntervalValue {
    text: String,
    /// A number rather than a string: only a string may stand alone or
    /// give a unit range.
    number: bool,
}

/// The interval value that comes next, or nothing when the literal ends.
fn interval_value(parser: &mut Parser) -> Result<Option<IntervalValue>, ParserError> {
    let sign = match &parser.peek_token_ref().token {
        Token::Minus => "-",
        Token::Plus => "+",
        _ => "",
    };
    let at = usize::from(!sign.is_empty());
    let value = match &parser.peek_nth_token_ref(at).token {
        Token::Number(digits, _) => IntervalValue {
            text: format!("{sign}{digits}"),
            number: true,
        },
        Token::SingleQuotedString(text) | Token::DoubleQuotedString(text) => IntervalValue {
            text: format!("{sign}{text}"),
            number: false,
        },
        _ if sign.is_empty() => return Ok(None),
        _ => return parser.expected("an interval value", parser.peek_nth_token(at)),
    };
    for _ in 0..=at {
        parser.next_token();
    }
    Ok(Some(value))
}
