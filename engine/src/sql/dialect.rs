//! The Spark SQL dialect for `sqlparser`: its own Spark dialect, plus the
//! pieces Spark has and that dialect lacks (`/*+ hints */`, backslash escapes,
//! `DIV` binding like `*`, typed numeric literals such as `2S` or `1.5BD`).

use std::any::TypeId;

use sqlparser::ast::{BinaryOperator, DataType as AstType, Expr, Ident, ObjectName, Value};
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
