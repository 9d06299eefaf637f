//! Spark's data types and schemas: their names as Spark prints them, DDL
//! type strings, and the mapping to polars (which holds partition data).

use std::fmt;

use polars::prelude::{DataType as PlType, Field as PlField, TimeUnit};

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    Null,
    String,
    Byte,
    Short,
    Integer,
    Long,
    Float,
    Double,
    Decimal(u8, u8),
    Boolean,
    Date,
    /// An instant, held as UTC microseconds and shown in the session time zone.
    Timestamp,
    /// A wall-clock date and time without a zone.
    TimestampNtz,
    Binary,
    /// A day-time interval held as microseconds (`interval day to second`
    /// is `ts - ts`; `interval day` is `date - date`); the fields only
    /// decide how values are shown.
    DayTimeInterval(IntervalFields),
    /// A year-month interval held as months (`INTERVAL '3' MONTH`).
    YearMonthInterval(IntervalFields),
    Array(Box<DataType>, bool),
    Map(Box<DataType>, Box<DataType>, bool),
    Struct(Vec<StructField>),
}

/// A field of an interval type, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntervalField {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl IntervalField {
    pub fn name(self) -> &'static str {
        match self {
            IntervalField::Year => "year",
            IntervalField::Month => "month",
            IntervalField::Day => "day",
            IntervalField::Hour => "hour",
            IntervalField::Minute => "minute",
            IntervalField::Second => "second",
        }
    }
}

/// The fields an interval type spans, as Spark's
/// `DayTimeIntervalType(startField, endField)` and
/// `YearMonthIntervalType(startField, endField)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntervalFields {
    pub start: IntervalField,
    pub end: IntervalField,
}

impl IntervalFields {
    pub const DAY_TO_SECOND: IntervalFields = IntervalFields {
        start: IntervalField::Day,
        end: IntervalField::Second,
    };
    pub const YEAR_TO_MONTH: IntervalFields = IntervalFields {
        start: IntervalField::Year,
        end: IntervalField::Month,
    };
    pub const DAY: IntervalFields = IntervalFields {
        start: IntervalField::Day,
        end: IntervalField::Day,
    };

    pub fn new(start: IntervalField, end: IntervalField) -> IntervalFields {
        IntervalFields { start, end }
    }

    /// The fields of both (Spark's type of `a + b`).
    pub fn widen(self, other: IntervalFields) -> IntervalFields {
        IntervalFields {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// `day`, `hour to second`: how Spark names the fields in type names.
    pub fn sql(self) -> String {
        if self.start == self.end {
            self.start.name().into()
        } else {
            format!("{} to {}", self.start.name(), self.end.name())
        }
    }

    /// Spark's numbering of the fields (`DayTimeIntervalType(0, 3)`): DAY 0
    /// to SECOND 3, YEAR 0 and MONTH 1.
    pub fn ordinals(self) -> (u8, u8) {
        let ordinal = |f: IntervalField| match f {
            IntervalField::Year | IntervalField::Day => 0,
            IntervalField::Month | IntervalField::Hour => 1,
            IntervalField::Minute => 2,
            IntervalField::Second => 3,
        };
        (ordinal(self.start), ordinal(self.end))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructField {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
}

impl StructField {
    pub fn new(name: impl Into<String>, data_type: DataType, nullable: bool) -> Self {
        StructField {
            name: name.into(),
            data_type,
            nullable,
        }
    }
}

/// A row type: Spark's `StructType` at the top of a DataFrame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Schema {
    pub fields: Vec<StructField>,
}

impl DataType {
    /// The short name Spark uses in `DataFrame[...]` reprs, casts and DDL: `bigint`, `decimal(10,2)`.
    pub fn simple_string(&self) -> String {
        match self {
            DataType::Null => "void".into(),
            DataType::String => "string".into(),
            DataType::Byte => "tinyint".into(),
            DataType::Short => "smallint".into(),
            DataType::Integer => "int".into(),
            DataType::Long => "bigint".into(),
            DataType::Float => "float".into(),
            DataType::Double => "double".into(),
            DataType::Decimal(p, s) => format!("decimal({p},{s})"),
            DataType::Boolean => "boolean".into(),
            DataType::Date => "date".into(),
            DataType::Timestamp => "timestamp".into(),
            DataType::TimestampNtz => "timestamp_ntz".into(),
            DataType::Binary => "binary".into(),
            DataType::DayTimeInterval(fields) | DataType::YearMonthInterval(fields) => {
                format!("interval {}", fields.sql())
            }
            DataType::Array(e, _) => format!("array<{}>", e.simple_string()),
            DataType::Map(k, v, _) => format!("map<{},{}>", k.simple_string(), v.simple_string()),
            DataType::Struct(fields) => format!(
                "struct<{}>",
                fields
                    .iter()
                    .map(|f| format!("{}:{}", f.name, f.data_type.simple_string()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The name `printSchema()` shows: `integer`, `long`, `decimal(10,2)`, `array`.
    pub fn tree_name(&self) -> String {
        match self {
            DataType::Byte => "byte".into(),
            DataType::Short => "short".into(),
            DataType::Integer => "integer".into(),
            DataType::Long => "long".into(),
            DataType::Array(..) => "array".into(),
            DataType::Map(..) => "map".into(),
            DataType::Struct(_) => "struct".into(),
            other => other.simple_string(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Byte
                | DataType::Short
                | DataType::Integer
                | DataType::Long
                | DataType::Float
                | DataType::Double
                | DataType::Decimal(..)
        )
    }

    pub fn is_integral(&self) -> bool {
        matches!(
            self,
            DataType::Byte | DataType::Short | DataType::Integer | DataType::Long
        )
    }

    /// Parses a DDL type name as Spark accepts it in `cast('long')` or a schema string.
    pub fn parse(text: &str) -> Result<DataType> {
        let mut parser = DdlParser::new(text);
        let data_type = parser.data_type()?;
        parser.expect_end()?;
        Ok(data_type)
    }

    pub fn to_polars(&self) -> PlType {
        match self {
            DataType::Null => PlType::Null,
            DataType::String => PlType::String,
            DataType::Byte => PlType::Int8,
            DataType::Short => PlType::Int16,
            DataType::Integer => PlType::Int32,
            DataType::Long => PlType::Int64,
            DataType::Float => PlType::Float32,
            DataType::Double => PlType::Float64,
            DataType::Decimal(p, s) => PlType::Decimal(*p as usize, *s as usize),
            DataType::Boolean => PlType::Boolean,
            DataType::Date => PlType::Date,
            DataType::Timestamp | DataType::TimestampNtz => {
                PlType::Datetime(TimeUnit::Microseconds, None)
            }
            DataType::Binary => PlType::Binary,
            DataType::DayTimeInterval(_) => PlType::Duration(TimeUnit::Microseconds),
            DataType::YearMonthInterval(_) => PlType::Int32,
            DataType::Array(e, _) => PlType::List(Box::new(e.to_polars())),
            DataType::Map(k, v, _) => PlType::List(Box::new(PlType::Struct(vec![
                PlField::new("key".into(), k.to_polars()),
                PlField::new("value".into(), v.to_polars()),
            ]))),
            DataType::Struct(fields) => PlType::Struct(
                fields
                    .iter()
                    .map(|f| PlField::new(f.name.as_str().into(), f.data_type.to_polars()))
                    .collect(),
            ),
        }
    }

    /// The Spark type for polars data (timestamps are read as instants).
    pub fn from_polars(dtype: &PlType) -> Result<DataType> {
        Ok(match dtype {
            PlType::Null => DataType::Null,
            PlType::String => DataType::String,
            PlType::Int8 => DataType::Byte,
            PlType::Int16 | PlType::UInt8 => DataType::Short,
            PlType::Int32 | PlType::UInt16 => DataType::Integer,
            PlType::Int64 | PlType::UInt32 => DataType::Long,
            PlType::UInt64 => DataType::Decimal(20, 0),
            PlType::Float32 => DataType::Float,
            PlType::Float64 => DataType::Double,
            PlType::Decimal(p, s) => DataType::Decimal(*p as u8, *s as u8),
            PlType::Boolean => DataType::Boolean,
            PlType::Date => DataType::Date,
            PlType::Datetime(_, _) => DataType::Timestamp,
            PlType::Duration(_) => DataType::DayTimeInterval(IntervalFields::DAY_TO_SECOND),
            PlType::Binary => DataType::Binary,
            PlType::List(inner) => DataType::Array(Box::new(DataType::from_polars(inner)?), true),
            PlType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| {
                        Ok(StructField::new(
                            f.name().as_str(),
                            DataType::from_polars(f.dtype())?,
                            true,
                        ))
                    })
                    .collect::<Result<_>>()?,
            ),
            other => {
                return Err(EngineError::spark(
                    "UNSUPPORTED_DATATYPE",
                    format!("Unsupported data type {other}."),
                ))
            }
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.simple_string())
    }
}

impl Schema {
    pub fn new(fields: Vec<StructField>) -> Self {
        Schema { fields }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Index of a column by case-insensitive name (Spark's default resolution).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name).or_else(|| {
            self.fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    pub fn field(&self, name: &str) -> Option<&StructField> {
        self.index_of(name).map(|i| &self.fields[i])
    }

    /// `struct<a:int,b:string>`; a DataFrame's repr shows it as `DataFrame[a: int, b: string]`.
    pub fn simple_string(&self) -> String {
        DataType::Struct(self.fields.clone()).simple_string()
    }

    /// `printSchema()` text, byte for byte.
    pub fn tree_string(&self) -> String {
        let mut out = String::from("root\n");
        for field in &self.fields {
            let suffix = Some(("nullable", field.nullable));
            tree_field(&mut out, " |", &field.name, &field.data_type, suffix);
        }
        out
    }

    /// Parses `a INT, b STRING NOT NULL` or `a: int, b: string` (DDL schema strings).
    pub fn parse_ddl(text: &str) -> Result<Schema> {
        let mut parser = DdlParser::new(text);
        let fields = parser.fields(None)?;
        parser.expect_end()?;
        Ok(Schema { fields })
    }

    pub fn to_polars(&self) -> polars::prelude::Schema {
        self.fields
            .iter()
            .map(|f| PlField::new(f.name.as_str().into(), f.data_type.to_polars()))
            .collect()
    }
}

fn tree_field(
    out: &mut String,
    prefix: &str,
    name: &str,
    data_type: &DataType,
    suffix: Option<(&str, bool)>,
) {
    let suffix = suffix
        .map(|(word, value)| format!(" ({word} = {value})"))
        .unwrap_or_default();
    out.push_str(&format!(
        "{prefix}-- {name}: {}{suffix}\n",
        data_type.tree_name()
    ));
    let nested = format!("{prefix}    |");
    match data_type {
        DataType::Array(element, contains_null) => tree_field(
            out,
            &nested,
            "element",
            element,
            Some(("containsNull", *contains_null)),
        ),
        DataType::Map(key, value, value_contains_null) => {
            tree_field(out, &nested, "key", key, None);
            let suffix = Some(("valueContainsNull", *value_contains_null));
            tree_field(out, &nested, "value", value, suffix);
        }
        DataType::Struct(fields) => {
            for f in fields {
                tree_field(
                    out,
                    &nested,
                    &f.name,
                    &f.data_type,
                    Some(("nullable", f.nullable)),
                );
            }
        }
        _ => {}
    }
}

/// A small recursive-descent parser for Spark DDL type strings.
struct DdlParser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> DdlParser<'a> {
    fn new(text: &'a str) -> Self {
        DdlParser { text, pos: 0 }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.text[self.pos..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn error(&self, expected: &str) -> EngineError {
        let near = self.text[self.pos..].chars().take(20).collect::<String>();
        let near = if near.is_empty() {
            "end of input".to_string()
        } else {
            format!("'{near}'")
        };
        EngineError::spark(
            "PARSE_SYNTAX_ERROR",
            format!(
                "Syntax error at or near {near}: expected {expected} in data type \"{}\" (pos {}).",
                self.text, self.pos
            ),
        )
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("'{c}'")))
        }
    }

    fn word(&mut self) -> Option<String> {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        if let Some(quoted) = rest.strip_prefix('`') {
            let end = quoted.find('`')?;
            self.pos += end + 2;
            return Some(quoted[..end].to_string());
        }
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        (len > 0).then(|| {
            self.pos += len;
            rest[..len].to_string()
        })
    }

    fn number(&mut self) -> Result<u8> {
        let word = self.word().ok_or_else(|| self.error("a number"))?;
        word.parse().map_err(|_| self.error("a number"))
    }

    fn expect_end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("end of input")),
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        match self.word() {
            Some(w) if w.eq_ignore_ascii_case(kw) => true,
            _ => {
                self.pos = save;
                false
            }
        }
    }

    /// An interval field's name (`day`, `hour`, ...), if one comes next.
    fn interval_field(&mut self) -> Option<IntervalField> {
        [
            IntervalField::Year,
            IntervalField::Month,
            IntervalField::Day,
            IntervalField::Hour,
            IntervalField::Minute,
            IntervalField::Second,
        ]
        .into_iter()
        .find(|f| self.keyword(f.name()))
    }

    /// `name type [NOT NULL] [COMMENT '...'], ...` until `close` (or the end).
    fn fields(&mut self, close: Option<char>) -> Result<Vec<StructField>> {
        let mut fields = Vec::new();
        loop {
            if close.is_some() && self.peek() == close {
                break;
            }
            let name = self.word().ok_or_else(|| self.error("a field name"))?;
            self.eat(':');
            let data_type = self.data_type()?;
            let nullable = !(self.keyword("NOT") && self.keyword("NULL"));
            fields.push(StructField::new(name, data_type, nullable));
            if !self.eat(',') {
                break;
            }
        }
        Ok(fields)
    }

    fn data_type(&mut self) -> Result<DataType> {
        let name = self.word().ok_or_else(|| self.error("a data type"))?;
        Ok(match name.to_ascii_lowercase().as_str() {
            "string" | "varchar" | "char" | "text" => {
                if self.eat('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::String
            }
            "byte" | "tinyint" => DataType::Byte,
            "short" | "smallint" => DataType::Short,
            "int" | "integer" => DataType::Integer,
            "long" | "bigint" => DataType::Long,
            "float" | "real" => DataType::Float,
            "double" => DataType::Double,
            "boolean" | "bool" => DataType::Boolean,
            "date" => DataType::Date,
            "timestamp" | "timestamp_ltz" => DataType::Timestamp,
            "timestamp_ntz" => DataType::TimestampNtz,
            "binary" => DataType::Binary,
            "void" => DataType::Null,
            "decimal" | "dec" | "numeric" => {
                if self.eat('(') {
                    let p = self.number()?;
                    let s = if self.eat(',') { self.number()? } else { 0 };
                    self.expect(')')?;
                    if p == 0 || p > 38 || s > p {
                        return Err(EngineError::spark(
                            "DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION",
                            format!("Decimal precision {p} exceeds max precision 38 (or scale {s} is larger)."),
                        ));
                    }
                    DataType::Decimal(p, s)
                } else {
                    DataType::Decimal(10, 0)
                }
            }
            "array" => {
                self.expect('<')?;
                let element = self.data_type()?;
                self.expect('>')?;
                DataType::Array(Box::new(element), true)
            }
            "map" => {
                self.expect('<')?;
                let key = self.data_type()?;
                self.expect(',')?;
                let value = self.data_type()?;
                self.expect('>')?;
                DataType::Map(Box::new(key), Box::new(value), true)
            }
            "struct" => {
                self.expect('<')?;
                let fields = self.fields(Some('>'))?;
                self.expect('>')?;
                DataType::Struct(fields)
            }
            "interval" => {
                let start = self.interval_field().ok_or_else(|| self.error("day"))?;
                let end = match self.keyword("to") {
                    true => self.interval_field().ok_or_else(|| self.error("second"))?,
                    false => start,
                };
                let year_month = |f: IntervalField| f <= IntervalField::Month;
                if end < start || year_month(start) != year_month(end) {
                    return Err(self.error("an interval's fields"));
                }
                let fields = IntervalFields::new(start, end);
                match year_month(start) {
                    true => DataType::YearMonthInterval(fields),
                    false => DataType::DayTimeInterval(fields),
                }
            }
            other => {
                return Err(EngineError::spark(
                    "UNSUPPORTED_DATATYPE",
                    format!("Unsupported data type \"{}\".", other.to_ascii_uppercase()),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_schema_matches_spark() {
        let schema = Schema::new(vec![
            StructField::new("id", DataType::Long, false),
            StructField::new("amount", DataType::Decimal(10, 2), true),
            StructField::new(
                "tags",
                DataType::Array(Box::new(DataType::String), true),
                true,
            ),
            StructField::new(
                "m",
                DataType::Map(
                    Box::new(DataType::String),
                    Box::new(DataType::Integer),
                    true,
                ),
                true,
            ),
            StructField::new(
                "s",
                DataType::Struct(vec![StructField::new("x", DataType::Integer, true)]),
                true,
            ),
        ]);
        assert_eq!(
            schema.tree_string(),
            "root\n |-- id: long (nullable = false)\n |-- amount: decimal(10,2) (nullable = true)\n \
             |-- tags: array (nullable = true)\n |    |-- element: string (containsNull = true)\n \
             |-- m: map (nullable = true)\n |    |-- key: string\n |    |-- value: integer (valueContainsNull = true)\n \
             |-- s: struct (nullable = true)\n |    |-- x: integer (nullable = true)\n"
        );
        assert_eq!(
            schema.simple_string(),
            "struct<id:bigint,amount:decimal(10,2),tags:array<string>,m:map<string,int>,s:struct<x:int>>"
        );
    }

    #[test]
    fn parses_ddl_type_strings() {
        assert_eq!(DataType::parse("long").unwrap(), DataType::Long);
        assert_eq!(
            DataType::parse(" DECIMAL(10, 2) ").unwrap(),
            DataType::Decimal(10, 2)
        );
        assert_eq!(
            DataType::parse("array<struct<a:int,b:string>>")
                .unwrap()
                .simple_string(),
            "array<struct<a:int,b:string>>"
        );
        let schema = Schema::parse_ddl("a INT, `b c` STRING NOT NULL").unwrap();
        assert_eq!(schema.fields[1].name, "b c");
        assert!(!schema.fields[1].nullable);
        assert!(DataType::parse("lng").is_err());
    }

    #[test]
    fn resolves_names_case_insensitively_preferring_exact() {
        let schema = Schema::new(vec![
            StructField::new("Zone", DataType::String, true),
            StructField::new("zone", DataType::String, true),
        ]);
        assert_eq!(schema.index_of("zone"), Some(1));
        assert_eq!(schema.index_of("ZONE"), Some(0));
    }
}
