//! The fast CSV path: whole lines of well-formed records parsed straight
//! into typed columns, in parallel chunks of a block.
//!
//! It reads the records every dataset of the course holds (unquoted or
//! simply quoted fields, CRLF or LF, ragged lines, comments) and gives up
//! on anything else (an escape, a quote inside a field, a newline inside
//! quotes, a value its type does not accept): the caller then runs the
//! exact record-by-record parser, which is the reference for what a value
//! means and which reports bad records. Values are read by the same
//! functions the exact parser uses, so both paths agree on every value this
//! one accepts.

use polars::prelude::{
    BooleanChunked, ChunkedArray, Column, DataFrame, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, IntoColumn, IntoSeries, NamedFrom, PlSmallStr,
    PolarsNumericType, StringChunked, TimeUnit,
};
use polars_arrow::array::MutableBinaryViewArray;
use polars_arrow::bitmap::MutableBitmap;
use rayon::prelude::*;

use super::csv::{parse_date, parse_double, parse_timestamp_fast, parse_timestamp_local};
use crate::types::{DataType, StructField};

/// Smallest chunk worth a task of its own.
const MIN_CHUNK_BYTES: usize = 1 << 20;

/// A reader of well-formed lines into a schema's columns.
pub(super) struct FastCsvParser<'a> {
    fields: Vec<(&'a str, &'a DataType)>,
    separator: u8,
    quote: u8,
    comment: Option<u8>,
    null_value: &'a str,
}

impl<'a> FastCsvParser<'a> {
    /// `None` when a field's type is one only the exact parser reads.
    pub(super) fn new(
        fields: &[&'a StructField],
        separator: u8,
        quote: u8,
        comment: Option<u8>,
        null_value: &'a str,
    ) -> Option<FastCsvParser<'a>> {
        let fields: Vec<_> = fields
            .iter()
            .map(|f| (f.name.as_str(), &f.data_type))
            .collect();
        if fields
            .iter()
            .any(|(_, t)| ColumnBuilder::new(t, 0).is_none())
        {
            return None;
        }
        Some(FastCsvParser {
            fields,
            separator,
            quote,
            comment,
            null_value,
        })
    }

    /// Every record of `bytes` (whole lines), or `None` when some line needs
    /// the exact parser. Timestamps come back as wall-clock microseconds.
    pub(super) fn parse(&self, bytes: &[u8], skip_header: bool) -> Option<DataFrame> {
        let bytes = if skip_header {
            match memchr::memchr(b'\n', bytes) {
                Some(end) => &bytes[end + 1..],
                None => &[],
            }
        } else {
            bytes
        };
        // Checked once here, each field is then a slice of text at ASCII
        // delimiters; a file that is not UTF-8 goes to the exact parser.
        let text = std::str::from_utf8(bytes).ok()?;
        let chunks = line_chunks(
            text,
            polars_core::runtime::THREAD_POOL.current_num_threads(),
        );
        let parsed: Vec<Vec<Column>> = polars_core::runtime::THREAD_POOL.install(|| {
            chunks
                .par_iter()
                .map(|chunk| self.parse_chunk(chunk))
                .collect::<Option<Vec<_>>>()
        })?;
        let mut parsed = parsed.into_iter();
        let mut columns = parsed.next()?;
        for more in parsed {
            for (column, piece) in columns.iter_mut().zip(more) {
                column.append(&piece).ok()?;
            }
        }
        let height = columns.first().map_or(0, |c| c.len());
        DataFrame::new(height, columns).ok()
    }

    fn parse_chunk(&self, text: &str) -> Option<Vec<Column>> {
        let rows_guess = text.len() / (8 * self.fields.len()).max(1);
        let mut builders = self
            .fields
            .iter()
            .map(|(_, data_type)| ColumnBuilder::new(data_type, rows_guess))
            .collect::<Option<Vec<_>>>()?;
        let mut rest = text;
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
            let line = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() || self.comment.is_some_and(|c| line.as_bytes()[0] == c) {
                continue;
            }
            self.parse_line(line, &mut builders)?;
        }
        Some(
            builders
                .into_iter()
                .zip(&self.fields)
                .map(|(builder, (name, _))| builder.finish(name))
                .collect(),
        )
    }

    /// One record: missing fields are null, extra fields are dropped (as
    /// Spark's PERMISSIVE mode reads a ragged line).
    fn parse_line(&self, line: &str, builders: &mut [ColumnBuilder]) -> Option<()> {
        let mut index = 0usize;
        let mut value = |index: usize, text: &str| match builders.get_mut(index) {
            Some(builder) if text == self.null_value => {
                builder.push_null();
                Some(())
            }
            Some(builder) => builder.push(text),
            None => Some(()),
        };
        if memchr::memchr2(self.quote, b'\r', line.as_bytes()).is_none() {
            // Most lines: every separator ends a field.
            let mut start = 0usize;
            for end in memchr::memchr_iter(self.separator, line.as_bytes()) {
                value(index, line.get(start..end)?)?;
                index += 1;
                start = end + 1;
            }
            value(index, line.get(start..)?)?;
            index += 1;
        } else {
            let mut at = 0usize;
            loop {
                let (text, next) = self.field(line, at)?;
                value(index, text)?;
                index += 1;
                match next {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
        for builder in builders.iter_mut().skip(index) {
            builder.push_null();
        }
        Some(())
    }

    /// The field starting at `at`: its value (quotes removed) and where the
    /// next field starts, `None` after the line's last field.
    fn field<'l>(&self, line: &'l str, at: usize) -> Option<(&'l str, Option<usize>)> {
        let rest = line.as_bytes().get(at..)?;
        if rest.first() == Some(&self.quote) {
            let close = at + 1 + memchr::memchr(self.quote, &rest[1..])?;
            let value = line.get(at + 1..close)?;
            // An escape inside quotes (the exact parser's job) or a newline
            // cannot be told apart here; text after the closing quote is malformed.
            if value.contains(['\\', '\r']) {
                return None;
            }
            return match line.as_bytes().get(close + 1) {
                None => Some((value, None)),
                Some(&b) if b == self.separator => Some((value, Some(close + 2))),
                Some(_) => None,
            };
        }
        let end = at
            + rest
                .iter()
                .position(|&b| b == self.separator || b == self.quote || b == b'\r')
                .unwrap_or(rest.len());
        match line.as_bytes().get(end) {
            None => Some((line.get(at..)?, None)),
            Some(&b) if b == self.separator => Some((line.get(at..end)?, Some(end + 1))),
            Some(_) => None,
        }
    }
}

/// `bytes` cut after newlines into about `parts` pieces of at least
/// `MIN_CHUNK_BYTES`. A cut may fall inside a quoted field only when that
/// field holds a newline, which the parser rejects, so such a block goes to
/// the exact parser whatever the cut.
fn line_chunks(text: &str, parts: usize) -> Vec<&str> {
    let size = (text.len() / parts.max(1)).max(MIN_CHUNK_BYTES);
    let mut chunks = Vec::new();
    let mut rest = text;
    while rest.len() > size {
        match memchr::memchr(b'\n', &rest.as_bytes()[size..]) {
            Some(offset) => {
                let (chunk, tail) = rest.split_at(size + offset + 1);
                chunks.push(chunk);
                rest = tail;
            }
            None => break,
        }
    }
    chunks.push(rest);
    chunks
}

/// Values of one column of a chunk; nulls are remembered by row.
enum ColumnBuilder {
    String(MutableBinaryViewArray<str>),
    Byte(Vec<i8>, Nulls),
    Short(Vec<i16>, Nulls),
    Integer(Vec<i32>, Nulls),
    Long(Vec<i64>, Nulls),
    Float(Vec<f32>, Nulls),
    Double(Vec<f64>, Nulls),
    Boolean(Vec<Option<bool>>),
    Date(Vec<i32>, Nulls),
    Timestamp(Vec<i64>, Nulls),
}

/// Rows of a column that are null, kept as a list since most columns have
/// none; the validity bitmap is only built when there are some.
#[derive(Default)]
struct Nulls(Vec<usize>);

impl Nulls {
    fn bitmap(self, len: usize) -> Option<polars_arrow::bitmap::Bitmap> {
        if self.0.is_empty() {
            return None;
        }
        let mut valid = MutableBitmap::from_len_set(len);
        for row in self.0 {
            valid.set(row, false);
        }
        Some(valid.into())
    }
}

/// Powers of ten a double holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A double as `parse_double` reads it. A plain decimal of at most 15
/// digits (`-12.345`) is an integer below 2^53 divided by an exact power of
/// ten: one correctly rounded division (Clinger's fast path), so the same
/// double the full parser returns, at a fraction of its cost.
fn double(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut mantissa = 0u64;
    let mut count = 0usize;
    let mut scale = 0usize;
    let mut point = false;
    for &b in digits {
        match b {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
                scale += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return parse_double(text),
        }
    }
    if count == 0 {
        return parse_double(text);
    }
    let value = mantissa as f64 / EXACT_POWERS_OF_TEN[scale];
    Some(if negative { -value } else { value })
}

impl ColumnBuilder {
    /// A builder for a column of `data_type`; `None` for a type only the
    /// exact parser reads. Timestamps are held as wall-clock microseconds.
    fn new(data_type: &DataType, rows: usize) -> Option<ColumnBuilder> {
        Some(match data_type {
            DataType::String => ColumnBuilder::String(MutableBinaryViewArray::with_capacity(rows)),
            DataType::Byte => ColumnBuilder::Byte(Vec::with_capacity(rows), Nulls::default()),
            DataType::Short => ColumnBuilder::Short(Vec::with_capacity(rows), Nulls::default()),
            DataType::Integer => ColumnBuilder::Integer(Vec::with_capacity(rows), Nulls::default()),
            DataType::Long => ColumnBuilder::Long(Vec::with_capacity(rows), Nulls::default()),
            DataType::Float => ColumnBuilder::Float(Vec::with_capacity(rows), Nulls::default()),
            DataType::Double => ColumnBuilder::Double(Vec::with_capacity(rows), Nulls::default()),
            DataType::Boolean => ColumnBuilder::Boolean(Vec::with_capacity(rows)),
            DataType::Date => ColumnBuilder::Date(Vec::with_capacity(rows), Nulls::default()),
            DataType::Timestamp | DataType::TimestampNtz => {
                ColumnBuilder::Timestamp(Vec::with_capacity(rows), Nulls::default())
            }
            _ => return None,
        })
    }

    fn push_null(&mut self) {
        fn null<T: Default>(values: &mut Vec<T>, nulls: &mut Nulls) {
            nulls.0.push(values.len());
            values.push(T::default());
        }
        match self {
            ColumnBuilder::String(v) => v.push_null(),
            ColumnBuilder::Byte(v, n) => null(v, n),
            ColumnBuilder::Short(v, n) => null(v, n),
            ColumnBuilder::Integer(v, n) => null(v, n),
            ColumnBuilder::Long(v, n) => null(v, n),
            ColumnBuilder::Float(v, n) => null(v, n),
            ColumnBuilder::Double(v, n) => null(v, n),
            ColumnBuilder::Boolean(v) => v.push(None),
            ColumnBuilder::Date(v, n) => null(v, n),
            ColumnBuilder::Timestamp(v, n) => null(v, n),
        }
    }

    /// A non-null value; `None` when its type does not accept it.
    fn push(&mut self, value: &str) -> Option<()> {
        match self {
            ColumnBuilder::String(v) => v.push_value(value),
            ColumnBuilder::Byte(v, _) => v.push(value.parse().ok()?),
            ColumnBuilder::Short(v, _) => v.push(value.parse().ok()?),
            ColumnBuilder::Integer(v, _) => v.push(value.parse().ok()?),
            ColumnBuilder::Long(v, _) => v.push(value.parse().ok()?),
            ColumnBuilder::Float(v, _) => v.push(double(value)? as f32),
            ColumnBuilder::Double(v, _) => v.push(double(value)?),
            ColumnBuilder::Boolean(v) => v.push(Some(if value.eq_ignore_ascii_case("true") {
                true
            } else if value.eq_ignore_ascii_case("false") {
                false
            } else {
                return None;
            })),
            ColumnBuilder::Date(v, _) => v.push(parse_date(value, None)?),
            ColumnBuilder::Timestamp(v, _) => v.push(
                parse_timestamp_fast(value.as_bytes())
                    .or_else(|| parse_timestamp_local(value, None))?,
            ),
        }
        Some(())
    }

    fn finish(self, name: &str) -> Column {
        let name: PlSmallStr = name.into();
        match self {
            ColumnBuilder::String(v) => StringChunked::with_chunk(name, v.freeze()).into_column(),
            ColumnBuilder::Byte(v, n) => primitive::<Int8Type>(name, v, n).into_column(),
            ColumnBuilder::Short(v, n) => primitive::<Int16Type>(name, v, n).into_column(),
            ColumnBuilder::Integer(v, n) => primitive::<Int32Type>(name, v, n).into_column(),
            ColumnBuilder::Long(v, n) => primitive::<Int64Type>(name, v, n).into_column(),
            ColumnBuilder::Float(v, n) => primitive::<Float32Type>(name, v, n).into_column(),
            ColumnBuilder::Double(v, n) => primitive::<Float64Type>(name, v, n).into_column(),
            ColumnBuilder::Boolean(v) => BooleanChunked::new(name, &v).into_column(),
            ColumnBuilder::Date(v, n) => primitive::<Int32Type>(name, v, n)
                .into_date()
                .into_series()
                .into_column(),
            ColumnBuilder::Timestamp(v, n) => primitive::<Int64Type>(name, v, n)
                .into_datetime(TimeUnit::Microseconds, None)
                .into_series()
                .into_column(),
        }
    }
}

fn primitive<T: PolarsNumericType>(
    name: PlSmallStr,
    values: Vec<T::Native>,
    nulls: Nulls,
) -> ChunkedArray<T> {
    let valid = nulls.bitmap(values.len());
    ChunkedArray::from_vec_validity(name, values, valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;

    fn field(name: &str, data_type: DataType) -> StructField {
        StructField::new(name, data_type, true)
    }

    fn parser_fields() -> Vec<StructField> {
        vec![
            field("id", DataType::Integer),
            field("name", DataType::String),
            field("amount", DataType::Double),
            field("at", DataType::Timestamp),
        ]
    }

    fn parse(text: &str, header: bool) -> Option<DataFrame> {
        let fields = parser_fields();
        let refs: Vec<&StructField> = fields.iter().collect();
        FastCsvParser::new(&refs, b',', b'"', None, "")?.parse(text.as_bytes(), header)
    }

    #[test]
    fn reads_typed_columns_ragged_lines_and_crlf() {
        let frame = parse(
            "id,name,amount,at\r\n1,\"a, b\",2.5,2020-01-01 00:00:01\r\n\r\n2,,1e3\n3,x,,2020-01-02,9\n",
            true,
        )
        .expect("fast path");
        assert_eq!(frame.height(), 3);
        let ids: Vec<Option<i32>> = frame.column("id").unwrap().i32().unwrap().iter().collect();
        assert_eq!(ids, vec![Some(1), Some(2), Some(3)]);
        let names: Vec<Option<&str>> = frame
            .column("name")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(names, vec![Some("a, b"), None, Some("x")]);
        let amounts: Vec<Option<f64>> = frame
            .column("amount")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(amounts, vec![Some(2.5), Some(1000.0), None]);
        let at = frame.column("at").unwrap();
        assert_eq!(at.null_count(), 1);
    }

    #[test]
    fn leaves_what_it_cannot_read_to_the_exact_parser() {
        for text in [
            "x,a,1,2020-01-01\n",
            "1,\"a\\\"b\",1,2020-01-01\n",
            "1,\"a\nb\",1,2020-01-01\n",
            "1,a\"b,1,2020-01-01\n",
            "1,\"a\"b,1,2020-01-01\n",
            "1,a,1,not a time\n",
            "1,a\rb,1,2020-01-01\n",
        ] {
            assert!(parse(text, false).is_none(), "{text:?}");
        }
    }

    #[test]
    fn plain_decimals_read_as_the_full_parser_reads_them() {
        for text in [
            "0",
            "-0",
            "2.5",
            "-12.345",
            "+1.",
            ".5",
            "0.1",
            "123456789012345",
            "0.30000000000000004",
            "1234567890123456789",
            "1e3",
            "NaN",
            "-Infinity",
            "1.5d",
            "",
            ".",
            "-",
            "1.2.3",
            "abc",
        ] {
            let fast = double(text);
            let full = parse_double(text);
            assert_eq!(fast.map(f64::to_bits), full.map(f64::to_bits), "{text}");
        }
    }

    #[test]
    fn chunks_end_after_newlines() {
        let line = "1,a,2.0,2020-01-01 00:00:00\n";
        let text = line.repeat(3 * MIN_CHUNK_BYTES / line.len());
        let chunks = line_chunks(&text, 4);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.ends_with('\n')));
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), text.len());
        assert_eq!(
            parse(&text, false).expect("fast path").height(),
            text.len() / line.len()
        );
    }
}
