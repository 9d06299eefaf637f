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

use super::csv::{parse_date, parse_double, parse_timestamp_local, TimestampReader};
use crate::types::{DataType, StructField};

/// Smallest chunk worth a task of its own.
const MIN_CHUNK_BYTES: usize = 1 << 20;

/// Lines a chunk reads column by column at a time, about: small enough for
/// their text and field starts to stay in a core's cache.
const TILE_BYTES: usize = 8 << 10;

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
        if fields.iter().any(|(_, t)| ColumnBuilder::new(t).is_none()) {
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

    /// Every record of `text` (whole lines), or `None` when some line needs
    /// the exact parser. Timestamps come back as wall-clock microseconds.
    pub(super) fn parse(&self, text: &str, skip_header: bool) -> Option<DataFrame> {
        let text = if skip_header {
            match memchr::memchr(b'\n', text.as_bytes()) {
                Some(end) => &text[end + 1..],
                None => "",
            }
        } else {
            text
        };
        // Small chunks, several per thread: the pool's threads share the
        // cores with decompression, and work stealing evens out the chunks
        // a busy core takes longer over.
        let parts = 4 * polars_core::runtime::THREAD_POOL.current_num_threads();
        let chunks = line_pieces(text, (text.len() / parts).max(MIN_CHUNK_BYTES));
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
        let mut builders = self
            .fields
            .iter()
            .map(|(_, data_type)| ColumnBuilder::new(data_type))
            .collect::<Option<Vec<_>>>()?;
        // One field per line would make a blank line a null record; Spark
        // skips blank lines, and the line-by-line reader does.
        let plain = self.fields.len() > 1
            && self.comment.is_none()
            && memchr::memchr2(self.quote, b'\r', text.as_bytes()).is_none();
        if plain {
            self.parse_tiles(text, &mut builders)?;
        } else {
            self.parse_lines(text, &mut builders)?;
        }
        Some(
            builders
                .into_iter()
                .zip(&self.fields)
                .map(|(builder, (name, _))| builder.finish(name))
                .collect(),
        )
    }

    /// Lines without quotes or carriage returns, read column by column a
    /// tile at a time: a tile's text and field starts stay in the core's
    /// cache while every column reads them, and each column's values are
    /// read by one loop for their type.
    fn parse_tiles(&self, text: &str, builders: &mut [ColumnBuilder]) -> Option<()> {
        let fields = self.fields.len();
        let mut starts = Vec::new();
        let mut reserved = false;
        for tile in line_pieces(text, TILE_BYTES) {
            let Some(lines) = field_starts(tile.as_bytes(), self.separator, fields, &mut starts)
            else {
                self.parse_lines(tile, builders)?;
                continue;
            };
            if lines == 0 {
                continue;
            }
            if !std::mem::replace(&mut reserved, true) {
                // Room for the whole text's lines, estimated from the first
                // tile: growing the columns tile by tile copies them over
                // and over.
                let estimate = text.len() / (tile.len() / lines).max(1) + lines;
                builders.iter_mut().for_each(|b| b.reserve(estimate));
            }
            for (column, builder) in builders.iter_mut().enumerate() {
                let begins = starts.get(column..)?.iter().step_by(fields);
                let ends = starts.get(column + 1..)?.iter().step_by(fields);
                let values = begins
                    .zip(ends)
                    .map(|(&begin, &end)| Field::within(tile, begin as usize, end as usize - 1));
                builder.extend(lines, values, self.null_value)?;
            }
        }
        Some(())
    }

    /// Records line by line: quoted fields, CRLF, comments and ragged lines.
    fn parse_lines(&self, text: &str, builders: &mut [ColumnBuilder]) -> Option<()> {
        let mut rest = text;
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
            let line = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() || self.comment.is_some_and(|c| line.as_bytes()[0] == c) {
                continue;
            }
            self.parse_line(line, builders)?;
        }
        Some(())
    }

    /// One record: missing fields are null, extra fields are dropped (as
    /// Spark's PERMISSIVE mode reads a ragged line).
    fn parse_line(&self, line: &str, builders: &mut [ColumnBuilder]) -> Option<()> {
        let mut index = 0usize;
        let mut value = |index: usize, text: &str| match builders.get_mut(index) {
            Some(builder) => {
                builder.extend(1, std::iter::once(Some(Field::new(text))), self.null_value)
            }
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

/// `text` cut after newlines into pieces of about `size` bytes (a piece
/// ends at the first newline after `size` bytes). A cut may fall inside a
/// quoted field only when that field holds a newline, which the parser
/// rejects, so such a block goes to the exact parser whatever the cut.
fn line_pieces(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > size {
        match memchr::memchr(b'\n', &rest.as_bytes()[size..]) {
            Some(offset) => {
                let (piece, tail) = rest.split_at(size + offset + 1);
                pieces.push(piece);
                rest = tail;
            }
            None => break,
        }
    }
    pieces.push(rest);
    pieces
}

/// Bytes `0x01` repeated: multiplied by a byte, that byte in every lane.
const LANES: u64 = 0x0101_0101_0101_0101;
const LOW_SEVEN_BITS: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit set in each byte of `word` that equals `byte`, no other bit
/// (exact, unlike the borrow-propagating zero-byte test).
fn lanes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (LANES * u64::from(byte));
    !(((x & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | x | LOW_SEVEN_BITS)
}

/// The fields of lines without quotes or carriage returns: `starts` gets
/// where each field starts, then where the text ends plus one, so field `c`
/// of line `l` is `starts[l * fields + c]..starts[l * fields + c + 1] - 1`.
/// Returns the number of lines; `None` when a line is blank (with two
/// fields or more, which the caller makes sure of) or has another number of
/// fields (the line-by-line parser reads those) or the text is too
/// long for 32-bit offsets.
///
/// Separators and newlines are found 64 bytes at a time, as bit masks: most
/// fields are a few bytes long, too short for a search per field to pay off.
/// A line with the right number of fields is then one whose last field ends
/// at a newline, and there are as many newlines as lines.
fn field_starts(
    bytes: &[u8],
    separator: u8,
    fields: usize,
    starts: &mut Vec<u32>,
) -> Option<usize> {
    let len = u32::try_from(bytes.len()).ok().filter(|&l| l < u32::MAX)?;
    starts.clear();
    starts.push(0);
    let mut newlines = 0usize;
    let blocks = bytes.chunks_exact(64);
    let tail = blocks.remainder();
    for (index, block) in blocks.enumerate() {
        let (mut found, lines) = block_delimiters(block, separator);
        newlines += lines.count_ones() as usize;
        found |= lines;
        let base = index as u32 * 64 + 1;
        while found != 0 {
            starts.push(base + found.trailing_zeros());
            found &= found - 1;
        }
    }
    let tail_start = bytes.len() - tail.len();
    for (offset, &byte) in tail.iter().enumerate() {
        if byte == separator || byte == b'\n' {
            starts.push((tail_start + offset) as u32 + 1);
            newlines += usize::from(byte == b'\n');
        }
    }
    if bytes.last().is_some_and(|&b| b != b'\n') {
        starts.push(len + 1);
        newlines += 1;
    }
    if starts.len() != newlines * fields + 1 {
        return None;
    }
    let mut line_ends = starts.iter().skip(fields).step_by(fields);
    line_ends
        .all(|&end| bytes.get(end as usize - 1).is_none_or(|&b| b == b'\n'))
        .then_some(newlines)
}

/// Bit masks of a 64-byte block's separators and newlines (bit `i` for byte `i`).
fn block_delimiters(block: &[u8], separator: u8) -> (u64, u64) {
    let mut separators = 0u64;
    let mut newlines = 0u64;
    for (index, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        separators |= lane_bits(lanes_equal(word, separator)) << (8 * index);
        newlines |= lane_bits(lanes_equal(word, b'\n')) << (8 * index);
    }
    (separators, newlines)
}

/// The high bits of a word's eight lanes gathered into the low byte (lane
/// `i` to bit `i`).
fn lane_bits(high_bits: u64) -> u64 {
    ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The low `bytes` bytes of a word set, the rest clear.
fn low_bytes(bytes: usize) -> u64 {
    ((1u128 << (8 * bytes.min(8))) - 1) as u64
}

/// A field's text with its first eight bytes as a little-endian word, zero
/// past the field's end: short numbers are read from the word at once,
/// since a loop over digits whose count varies from row to row costs more
/// in mispredicted branches than reading the digits does.
#[derive(Clone, Copy)]
struct Field<'t> {
    text: &'t str,
    head: u64,
}

impl<'t> Field<'t> {
    fn new(text: &'t str) -> Field<'t> {
        let mut head = [0u8; 8];
        let len = text.len().min(8);
        head[..len].copy_from_slice(&text.as_bytes()[..len]);
        Field {
            text,
            head: u64::from_le_bytes(head),
        }
    }

    /// Bytes `begin..end` of `tile`, the word read from the tile itself
    /// when eight bytes follow `begin`.
    #[inline]
    fn within(tile: &'t str, begin: usize, end: usize) -> Option<Field<'t>> {
        let text = tile.get(begin..end)?;
        Some(match tile.as_bytes().get(begin..begin + 8) {
            Some(word) => Field {
                text,
                head: u64::from_le_bytes(word.try_into().ok()?) & low_bytes(text.len()),
            },
            None => Field::new(text),
        })
    }
}

/// The value of one to eight ASCII digits whose bytes are `head`'s low
/// `len` bytes (the rest zero); `None` if another byte is among them.
fn eight_digits(head: u64, len: usize) -> Option<u64> {
    if !(1..=8).contains(&len) {
        return None;
    }
    let lanes = (head ^ (LANES * u64::from(b'0'))) & low_bytes(len);
    // A lane is a digit when it is below 10: no high nibble, and adding 6
    // does not carry into one.
    if lanes & (LANES * 0xf0) != 0 || (lanes + LANES * 6) & (LANES * 0xf0) != 0 {
        return None;
    }
    // Leading zero lanes in front of the digits, then pairs, fours and
    // eights of digits combined (the first digit is the lowest lane).
    let digits = lanes << (8 * (8 - len));
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    let fours = (pairs & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32));
    let rest = ((pairs >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32));
    Some(fours.wrapping_add(rest) >> 32)
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
fn double(field: Field) -> Option<f64> {
    let text = field.text;
    let bytes = text.as_bytes();
    let (negative, head, len) = match bytes.first() {
        Some(b'-') => (true, field.head >> 8, bytes.len() - 1),
        _ => (false, field.head, bytes.len()),
    };
    if len <= 8 {
        // Up to eight bytes of digits with at most one point, read at once.
        let points = lanes_equal(head, b'.') & low_bytes(len);
        let mantissa = if points == 0 {
            eight_digits(head, len).map(|m| (m, 0))
        } else if points & (points - 1) == 0 {
            let at = (points.trailing_zeros() / 8) as usize;
            let after = head.checked_shr(8 * (at as u32 + 1)).unwrap_or(0);
            let digits = (head & low_bytes(at)) | (after << (8 * at));
            eight_digits(digits, len - 1).map(|m| (m, len - 1 - at))
        } else {
            None
        };
        if let Some((mantissa, scale)) = mantissa {
            let value = mantissa as f64 / EXACT_POWERS_OF_TEN[scale];
            return Some(if negative { -value } else { value });
        }
    }
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

/// An integer as Rust's `parse` reads it (which is what the exact parser
/// uses): plain digits, the common case, are summed without its checks per
/// digit, since 18 digits cannot overflow an `i64`.
fn integer<T: TryFrom<i64> + std::str::FromStr>(field: Field) -> Option<T> {
    if let Some(value) = eight_digits(field.head, field.text.len()) {
        return T::try_from(value as i64).ok();
    }
    let text = field.text;
    let bytes = text.as_bytes();
    if (1..=18).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit) {
        let value = bytes
            .iter()
            .fold(0i64, |value, &b| value * 10 + i64::from(b - b'0'));
        return T::try_from(value).ok();
    }
    text.parse().ok()
}

impl ColumnBuilder {
    /// A builder for a column of `data_type`; `None` for a type only the
    /// exact parser reads. Timestamps are held as wall-clock microseconds.
    fn new(data_type: &DataType) -> Option<ColumnBuilder> {
        Some(match data_type {
            DataType::String => ColumnBuilder::String(MutableBinaryViewArray::new()),
            DataType::Byte => ColumnBuilder::Byte(Vec::new(), Nulls::default()),
            DataType::Short => ColumnBuilder::Short(Vec::new(), Nulls::default()),
            DataType::Integer => ColumnBuilder::Integer(Vec::new(), Nulls::default()),
            DataType::Long => ColumnBuilder::Long(Vec::new(), Nulls::default()),
            DataType::Float => ColumnBuilder::Float(Vec::new(), Nulls::default()),
            DataType::Double => ColumnBuilder::Double(Vec::new(), Nulls::default()),
            DataType::Boolean => ColumnBuilder::Boolean(Vec::new()),
            DataType::Date => ColumnBuilder::Date(Vec::new(), Nulls::default()),
            DataType::Timestamp | DataType::TimestampNtz => {
                ColumnBuilder::Timestamp(Vec::new(), Nulls::default())
            }
            _ => return None,
        })
    }

    fn reserve(&mut self, rows: usize) {
        match self {
            ColumnBuilder::String(v) => v.reserve(rows),
            ColumnBuilder::Byte(v, _) => v.reserve(rows),
            ColumnBuilder::Short(v, _) => v.reserve(rows),
            ColumnBuilder::Integer(v, _) | ColumnBuilder::Date(v, _) => v.reserve(rows),
            ColumnBuilder::Long(v, _) | ColumnBuilder::Timestamp(v, _) => v.reserve(rows),
            ColumnBuilder::Float(v, _) => v.reserve(rows),
            ColumnBuilder::Double(v, _) => v.reserve(rows),
            ColumnBuilder::Boolean(v) => v.reserve(rows),
        }
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

    /// `count` values in a row (`null_value` is null); `None` when a value
    /// is missing or its type does not accept it. One loop per type: the
    /// columnar reading calls this once per column of a tile.
    fn extend<'t>(
        &mut self,
        count: usize,
        fields: impl Iterator<Item = Option<Field<'t>>>,
        null_value: &str,
    ) -> Option<()> {
        fn each<'t, T: Default>(
            values: &mut Vec<T>,
            nulls: &mut Nulls,
            count: usize,
            fields: impl Iterator<Item = Option<Field<'t>>>,
            null_value: &str,
            mut parse: impl FnMut(Field<'t>) -> Option<T>,
        ) -> Option<()> {
            values.reserve(count);
            for field in fields {
                let field = field?;
                if field.text == null_value {
                    nulls.0.push(values.len());
                    values.push(T::default());
                } else {
                    values.push(parse(field)?);
                }
            }
            Some(())
        }
        match self {
            ColumnBuilder::String(v) => {
                v.reserve(count);
                for field in fields {
                    let text = field?.text;
                    if text == null_value {
                        v.push_null();
                    } else {
                        v.push_value(text);
                    }
                }
                Some(())
            }
            ColumnBuilder::Byte(v, n) => each(v, n, count, fields, null_value, integer),
            ColumnBuilder::Short(v, n) => each(v, n, count, fields, null_value, integer),
            ColumnBuilder::Integer(v, n) => each(v, n, count, fields, null_value, integer),
            ColumnBuilder::Long(v, n) => each(v, n, count, fields, null_value, integer),
            ColumnBuilder::Float(v, n) => each(v, n, count, fields, null_value, |f| {
                double(f).map(|d| d as f32)
            }),
            ColumnBuilder::Double(v, n) => each(v, n, count, fields, null_value, double),
            ColumnBuilder::Boolean(v) => {
                v.reserve(count);
                for field in fields {
                    let text = field?.text;
                    v.push(if text == null_value {
                        None
                    } else if text.eq_ignore_ascii_case("true") {
                        Some(true)
                    } else if text.eq_ignore_ascii_case("false") {
                        Some(false)
                    } else {
                        return None;
                    });
                }
                Some(())
            }
            ColumnBuilder::Date(v, n) => each(v, n, count, fields, null_value, |f| {
                parse_date(f.text, None)
            }),
            ColumnBuilder::Timestamp(v, n) => {
                let mut reader = TimestampReader::default();
                each(v, n, count, fields, null_value, |f| {
                    reader
                        .read(f.text.as_bytes())
                        .or_else(|| parse_timestamp_local(f.text, None))
                })
            }
        }
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
        FastCsvParser::new(&refs, b',', b'"', None, "")?.parse(text, header)
    }

    #[test]
    fn blank_lines_are_skipped_with_one_field_or_many() {
        let one = [field("id", DataType::Integer)];
        let refs: Vec<&StructField> = one.iter().collect();
        let parser = FastCsvParser::new(&refs, b',', b'"', None, "").expect("a parser");
        assert_eq!(parser.parse("1\n\n2\n", false).expect("read").height(), 2);
        let frame = parse("1,a,2.5,2020-01-01\n\n2,b,1,2020-01-02\n", false).expect("read");
        assert_eq!(frame.height(), 2);
        assert_eq!(parse("", false).expect("read").height(), 0);
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
            "11.77",
            "0.97",
            "-12.5",
            "1234.567",
            "12345678",
            "1234567.8",
            "-1234567.8",
            ".12345678",
            "12345678.",
            "123456789.5",
            "1..2",
            "-.",
            "--1",
            "1-2",
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
            let full = parse_double(text).map(f64::to_bits);
            assert_eq!(double(Field::new(text)).map(f64::to_bits), full, "{text}");
            // Read from inside a longer text, as the columnar path reads it.
            let tile = format!("{text},99999999");
            let field = Field::within(&tile, 0, text.len()).expect("a field");
            assert_eq!(double(field).map(f64::to_bits), full, "{text} in a tile");
        }
    }

    #[test]
    fn field_starts_cover_plain_lines_and_refuse_ragged_ones() {
        let text = b"1,ab,,x\n22,c,d,\n3,,,";
        let mut starts = Vec::new();
        assert_eq!(field_starts(text, b',', 4, &mut starts), Some(3));
        assert_eq!(starts, vec![0, 2, 5, 6, 8, 11, 13, 15, 16, 18, 19, 20, 21]);
        let field = |line: usize, c: usize| {
            &text[starts[line * 4 + c] as usize..starts[line * 4 + c + 1] as usize - 1]
        };
        assert_eq!(field(0, 1), b"ab");
        assert_eq!(field(1, 3), b"");
        assert_eq!(field(2, 0), b"3");
        for ragged in [
            &b"1,2\n3\n"[..],
            b"1,2\n3,4,5\n",
            b"1,2\n\n3,4\n",
            b"1,2,3,4\n",
        ] {
            assert_eq!(field_starts(ragged, b',', 2, &mut starts), None);
        }
        assert_eq!(field_starts(b"", b',', 2, &mut starts), Some(0));
        // Longer than a block: every field where a plain split puts it.
        let long: String = (0..300)
            .map(|i| format!("{i},{},x{}\n", i * 7, "y".repeat(i % 11)))
            .collect();
        let lines = field_starts(long.as_bytes(), b',', 3, &mut starts).expect("plain lines");
        assert_eq!(lines, 300);
        let split: Vec<&str> = long.lines().flat_map(|l| l.split(',')).collect();
        let found: Vec<&str> = (0..split.len())
            .map(|i| &long[starts[i] as usize..starts[i + 1] as usize - 1])
            .collect();
        assert_eq!(found, split);
    }

    #[test]
    fn lane_bits_gather_one_bit_per_byte() {
        for pattern in [0u8, 1, 0x80, 0xa5, 0xff, 0x3c] {
            let word = (0..8).fold(0u64, |w, i| {
                w | (u64::from(pattern >> i & 1) * 0x80) << (8 * i)
            });
            assert_eq!(lane_bits(word), u64::from(pattern));
        }
        assert_eq!(
            lanes_equal(u64::from_le_bytes(*b"a,b,,\n,c"), b','),
            0x0080_0080_8000_8000
        );
    }

    #[test]
    fn eight_digits_read_every_length() {
        for value in [
            0u64, 7, 42, 100, 999, 12_345, 1_000_000, 99_999_999, 10_203_040,
        ] {
            for text in [value.to_string(), format!("{value:08}")] {
                let field = Field::new(&text);
                assert_eq!(eight_digits(field.head, text.len()), Some(value), "{text}");
            }
        }
        for text in ["", "123456789", "1a", "-1", "1.5", " 1", "9:", "/0"] {
            assert_eq!(
                eight_digits(Field::new(text).head, text.len()),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn plain_and_line_by_line_reading_agree() {
        let lines: String = (0..2000)
            .map(|i| {
                format!(
                    "{i},n{},{}.{},2020-01-{:02} 0{}:00:00\n",
                    i % 7,
                    i % 13,
                    i % 100,
                    1 + i % 28,
                    i % 10
                )
            })
            .collect();
        let plain = parse(&lines, false).expect("plain lines");
        let crlf = parse(&lines.replace('\n', "\r\n"), false).expect("CRLF lines");
        assert!(plain.equals_missing(&crlf));
        assert_eq!(plain.height(), 2000);
    }

    #[test]
    fn integers_read_as_rust_parses_them() {
        for text in [
            "0",
            "007",
            "42",
            "-5",
            "+5",
            "127",
            "128",
            "2147483648",
            "99999999999999999999",
            "",
            "1a",
            " 1",
        ] {
            assert_eq!(
                integer::<i8>(Field::new(text)),
                text.parse::<i8>().ok(),
                "{text}"
            );
            assert_eq!(
                integer::<i32>(Field::new(text)),
                text.parse::<i32>().ok(),
                "{text}"
            );
            assert_eq!(
                integer::<i64>(Field::new(text)),
                text.parse::<i64>().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn chunks_end_after_newlines() {
        let line = "1,a,2.0,2020-01-01 00:00:00\n";
        let text = line.repeat(3 * MIN_CHUNK_BYTES / line.len());
        let chunks = line_pieces(&text, text.len() / 4);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.ends_with('\n')));
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), text.len());
        assert_eq!(
            parse(&text, false).expect("fast path").height(),
            text.len() / line.len()
        );
    }
}
