//! CSV sources with Spark's options and semantics: header, schema inference
//! or an explicit schema applied by position, null and empty values, parse
//! modes (PERMISSIVE / DROPMALFORMED / FAILFAST with a corrupt-record
//! column), gzip, CRLF, and splits that start after the next newline.
//!
//! Each split is parsed by `FastCsvParser` when it can be (the fast path);
//! anything it rejects, and the modes that need to see each bad record, go
//! through an exact record-by-record parser that can say which file, line
//! and column were wrong.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono_tz::Tz;
use polars::prelude::{AnyValue, Column, DataFrame, IntoColumn, NamedFrom, Series};

use crate::error::{EngineError, Location, Result};
use crate::exec::{from_polars, Batches, ExecutionPlan, TaskContext};
use crate::io::csv_fast::FastCsvParser;
use crate::io::files::{partition_splits, partition_value, FileSplit, InputFile};
use crate::plan::PlanSchema;
use crate::types::{DataType, Schema, StructField};
use crate::value::epoch;
use crate::zone::{is_utc, local_micros_to_utc, LocalToUtc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    Permissive,
    DropMalformed,
    FailFast,
}

/// The reader options Spark's CSV source takes.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub header: bool,
    pub infer_schema: bool,
    pub separator: u8,
    pub quote: u8,
    pub escape: u8,
    pub null_value: String,
    pub empty_value: String,
    pub timestamp_format: Option<String>,
    pub date_format: Option<String>,
    pub mode: ParseMode,
    pub corrupt_record_column: String,
    pub comment: Option<u8>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: false,
            infer_schema: false,
            separator: b',',
            quote: b'"',
            escape: b'\\',
            null_value: String::new(),
            empty_value: String::new(),
            timestamp_format: None,
            date_format: None,
            mode: ParseMode::Permissive,
            corrupt_record_column: "_corrupt_record".into(),
            comment: None,
        }
    }
}

fn single_byte(key: &str, value: &str) -> Result<u8> {
    let unescaped = match value {
        "\\t" => "\t",
        other => other,
    };
    match unescaped.as_bytes() {
        [b] => Ok(*b),
        _ => Err(EngineError::spark(
            "INVALID_OPTION_VALUE",
            format!("The CSV option {key} must be a single character, got \"{value}\"."),
        )),
    }
}

fn flag(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(EngineError::spark(
            "INVALID_OPTION_VALUE",
            format!("The CSV option {key} must be true or false, got \"{value}\"."),
        )),
    }
}

impl CsvOptions {
    /// Applies Spark's option names (case-insensitive); unknown ones are ignored as Spark does.
    pub fn from_options(options: &[(String, String)]) -> Result<CsvOptions> {
        let mut out = CsvOptions::default();
        for (key, value) in options {
            match key.to_ascii_lowercase().as_str() {
                "header" => out.header = flag(key, value)?,
                "inferschema" => out.infer_schema = flag(key, value)?,
                "sep" | "delimiter" => out.separator = single_byte(key, value)?,
                "quote" => out.quote = if value.is_empty() { 0 } else { single_byte(key, value)? },
                "escape" => out.escape = single_byte(key, value)?,
                "nullvalue" => out.null_value = value.clone(),
                "emptyvalue" => out.empty_value = value.clone(),
                "timestampformat" => out.timestamp_format = Some(value.clone()),
                "dateformat" => out.date_format = Some(value.clone()),
                "comment" => out.comment = Some(single_byte(key, value)?),
                "columnnameofcorruptrecord" => out.corrupt_record_column = value.clone(),
                "mode" => {
                    out.mode = match value.to_ascii_uppercase().as_str() {
                        "PERMISSIVE" => ParseMode::Permissive,
                        "DROPMALFORMED" => ParseMode::DropMalformed,
                        "FAILFAST" => ParseMode::FailFast,
                        _ => {
                            return Err(EngineError::spark(
                                "INVALID_OPTION_VALUE",
                                format!("The CSV option mode must be PERMISSIVE, DROPMALFORMED or FAILFAST, got \"{value}\"."),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn record_reader<R: Read>(&self, input: R) -> csv::Reader<R> {
        let mut builder = csv::ReaderBuilder::new();
        builder
            .has_headers(false)
            .flexible(true)
            .delimiter(self.separator)
            .comment(self.comment);
        if self.quote == 0 {
            builder.quoting(false);
        } else {
            builder.quote(self.quote);
            if self.escape != self.quote {
                builder.escape(Some(self.escape)).double_quote(true);
            }
        }
        builder.from_reader(input)
    }
}

fn is_gzip(file: &InputFile) -> bool {
    file.path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz") || e.eq_ignore_ascii_case("gzip"))
}

pub fn splittable(file: &InputFile) -> bool {
    !is_gzip(file)
}

/// The bytes of a plain (uncompressed) split, cut to whole lines, and the
/// file offset they start at: a split that does not start at 0 begins after
/// the next newline; every split ends with the line holding its last byte.
fn read_split(file: &InputFile, split: &FileSplit) -> Result<(u64, Vec<u8>)> {
    let io = |e| EngineError::io(file.path.display().to_string(), e);
    let mut handle = std::fs::File::open(&file.path).map_err(io)?;
    let begin = if split.start == 0 {
        0
    } else {
        // Skip the partial line the previous split owns.
        handle.seek(SeekFrom::Start(split.start - 1)).map_err(io)?;
        let mut skipped = 0u64;
        let mut byte = [0u8; 1];
        loop {
            if handle.read(&mut byte).map_err(io)? == 0 {
                return Ok((split.start, Vec::new()));
            }
            if byte[0] == b'\n' {
                break;
            }
            skipped += 1;
        }
        split.start + skipped
    };
    let end = split.start + split.length;
    if begin >= end {
        return Ok((begin, Vec::new()));
    }
    handle.seek(SeekFrom::Start(begin)).map_err(io)?;
    let mut out = vec![0u8; (end - begin) as usize];
    handle.read_exact(&mut out).map_err(io)?;
    if out.last() != Some(&b'\n') {
        // Finish the last line.
        let mut rest = Vec::new();
        let mut reader = std::io::BufReader::new(handle);
        std::io::BufRead::read_until(&mut reader, b'\n', &mut rest).map_err(io)?;
        out.extend_from_slice(&rest);
    }
    Ok((begin, out))
}

/// Decompressed bytes per block of a gzip file.
const GZIP_BLOCK_BYTES: usize = 8 << 20;

/// A gzip file as blocks of whole lines, decompressed ahead by a thread of
/// its own so decompression (one core, gzip cannot be split) overlaps
/// parsing and whatever consumes the rows. The file is never held whole.
/// Like Spark without `multiLine`, a record is a line: blocks are cut after
/// a newline.
struct GzipBlocks {
    blocks: std::sync::mpsc::Receiver<Result<GzipBlock>>,
    /// Compressed bytes the decoder has consumed.
    consumed: Arc<AtomicU64>,
}

/// A block of whole lines with the work that needs no schema done on the
/// decompression thread, which has spare time while the parser is busy.
struct GzipBlock {
    /// The lines, or their bytes when they are not UTF-8.
    text: std::result::Result<String, Vec<u8>>,
    /// Newlines in the block, for the line numbers of errors.
    lines: u64,
}

impl GzipBlock {
    fn new(bytes: Vec<u8>) -> GzipBlock {
        let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        let text = String::from_utf8(bytes).map_err(|e| e.into_bytes());
        GzipBlock { text, lines }
    }
}

/// A reader that counts the bytes read through it.
struct CountingRead<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A file's contents as stored or, for gzip, decompressed; `consumed`
/// counts the bytes read from storage.
fn decoded(file: &InputFile, consumed: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
    let handle = std::fs::File::open(&file.path)
        .map_err(|e| EngineError::io(file.path.display().to_string(), e))?;
    let counted = std::io::BufReader::with_capacity(
        1 << 20,
        CountingRead {
            inner: handle,
            count: consumed,
        },
    );
    Ok(if is_gzip(file) {
        Box::new(flate2::read::MultiGzDecoder::new(counted))
    } else {
        Box::new(counted)
    })
}

impl GzipBlocks {
    fn open(file: &InputFile) -> Result<GzipBlocks> {
        let consumed = Arc::new(AtomicU64::new(0));
        let mut decoder = decoded(file, consumed.clone())?;
        // Two blocks ahead at most: enough to keep the parser fed, little memory.
        let (sender, blocks) = std::sync::mpsc::sync_channel(2);
        let name = file.path.display().to_string();
        std::thread::Builder::new()
            .name("kiln-gunzip".into())
            .spawn(move || {
                let mut carry = Vec::new();
                loop {
                    match next_block(&mut decoder, &mut carry, GZIP_BLOCK_BYTES) {
                        Ok(Some(block)) => {
                            if sender.send(Ok(GzipBlock::new(block))).is_err() {
                                return; // The reader stopped early (a limit, a cancel).
                            }
                        }
                        Ok(None) => return,
                        Err(e) => {
                            let _ = sender
                                .send(Err(EngineError::io(format!("decompressing {name}"), e)));
                            return;
                        }
                    }
                }
            })
            .map_err(|e| EngineError::io("starting the gzip decompression thread", e))?;
        Ok(GzipBlocks { blocks, consumed })
    }
}

/// The next block of whole lines: about `size` bytes, ending after a
/// newline (or at the end of the data); the partial line after it stays in
/// `carry` for the next block.
fn next_block(
    decoder: &mut impl Read,
    carry: &mut Vec<u8>,
    size: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut block = std::mem::take(carry);
    let mut filled = block.len();
    // A line longer than a block makes the block grow until it holds the line.
    block.resize(filled + size, 0);
    loop {
        while filled < block.len() {
            match decoder.read(&mut block[filled..]) {
                Ok(0) => {
                    block.truncate(filled);
                    return Ok((!block.is_empty()).then_some(block));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(last) = memchr::memrchr(b'\n', &block) {
            *carry = block.split_off(last + 1);
            return Ok(Some(block));
        }
        block.resize(filled + size, 0);
    }
}

/// Reads a whole file (decompressed) block by block, handing each block of
/// whole lines to `each`.
fn for_each_block(file: &InputFile, mut each: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut decoder = decoded(file, Arc::default())?;
    let mut carry = Vec::new();
    let io = |e| EngineError::io(file.path.display().to_string(), e);
    while let Some(block) = next_block(&mut decoder, &mut carry, GZIP_BLOCK_BYTES).map_err(io)? {
        each(&block)?;
    }
    Ok(())
}

/// Newlines before `offset`: turns a line within a split into a line of the
/// file. Only computed for an error message, since it reads the file's prefix.
fn lines_before(file: &InputFile, offset: u64) -> Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    let mut prefix = vec![0u8; offset as usize];
    std::fs::File::open(&file.path)
        .and_then(|mut f| f.read_exact(&mut prefix))
        .map_err(|e| EngineError::io(file.path.display().to_string(), e))?;
    Ok(prefix.iter().filter(|b| **b == b'\n').count() as u64)
}

/// The first record of the first file (for header names or column count).
fn first_record(file: &InputFile, options: &CsvOptions) -> Result<Option<Vec<String>>> {
    let mut decoder = decoded(file, Arc::default())?;
    let bytes = next_block(&mut decoder, &mut Vec::new(), 64 << 10)
        .map_err(|e| EngineError::io(file.path.display().to_string(), e))?
        .unwrap_or_default();
    let mut reader = options.record_reader(bytes.as_slice());
    match reader.records().next() {
        Some(Ok(record)) => Ok(Some(record.iter().map(|s| s.to_string()).collect())),
        Some(Err(e)) => Err(EngineError::spark(
            "MALFORMED_CSV_RECORD",
            format!("Malformed CSV record: {e}."),
        )
        .at(Location {
            file: Some(file.path.display().to_string()),
            line: Some(1),
            column: None,
        })),
        None => Ok(None),
    }
}

/// Spark's CSV type inference for one value, widened with what was seen so far.
fn infer_value(current: Option<DataType>, text: &str, options: &CsvOptions) -> Option<DataType> {
    if text.is_empty() || text == options.null_value {
        return current;
    }
    let order = [
        DataType::Integer,
        DataType::Long,
        DataType::Double,
        DataType::Date,
        DataType::Timestamp,
        DataType::Boolean,
        DataType::String,
    ];
    let start = match &current {
        None => 0,
        Some(t) => order.iter().position(|o| o == t).unwrap_or(6),
    };
    let fits = |t: &DataType| match t {
        DataType::Integer => text.parse::<i32>().is_ok(),
        DataType::Long => text.parse::<i64>().is_ok(),
        DataType::Double => parse_double(text).is_some(),
        DataType::Date => {
            current.as_ref().is_none_or(|c| *c == DataType::Date)
                && (options.date_format.is_some() || text.len() == 10)
                && parse_date(text, options.date_format.as_deref()).is_some()
        }
        DataType::Timestamp => {
            parse_timestamp_local(text, options.timestamp_format.as_deref()).is_some()
        }
        DataType::Boolean => {
            matches!(current, None | Some(DataType::Boolean))
                && (text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false"))
        }
        _ => true,
    };
    let numeric_seen = matches!(
        current,
        Some(DataType::Integer | DataType::Long | DataType::Double)
    );
    for t in &order[start..] {
        // Numbers never widen into dates or booleans.
        if numeric_seen && matches!(t, DataType::Date | DataType::Timestamp | DataType::Boolean) {
            return Some(DataType::String);
        }
        if fits(t) {
            return Some(t.clone());
        }
    }
    Some(DataType::String)
}

pub(super) fn parse_double(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" | "Inf" => Some(f64::INFINITY),
        "-Infinity" | "-Inf" => Some(f64::NEG_INFINITY),
        _ => {
            let t = text.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(text);
            if t.chars()
                .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
            {
                return None;
            }
            t.parse::<f64>().ok()
        }
    }
}

pub(crate) fn parse_date(text: &str, format: Option<&str>) -> Option<i32> {
    let date = match format {
        Some(f) => {
            chrono::NaiveDate::parse_from_str(text, &crate::functions::java_to_strftime(f)).ok()?
        }
        None => chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d")
            .ok()
            .filter(|_| {
                text.len() == 10
                    || text
                        .as_bytes()
                        .get(10)
                        .is_some_and(|b| *b == b' ' || *b == b'T')
            })?,
    };
    Some((date - epoch()).num_days() as i32)
}

/// A wall-clock timestamp (microseconds, not yet shifted to UTC).
pub(crate) fn parse_timestamp_local(text: &str, format: Option<&str>) -> Option<i64> {
    let parsed = match format {
        Some(f) => {
            chrono::NaiveDateTime::parse_from_str(text, &crate::functions::java_to_strftime(f)).ok()
        }
        None => [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        }),
    }?;
    Some(parsed.and_utc().timestamp_micros())
}

/// Reads a column's timestamps in Spark's usual text,
/// `yyyy-MM-dd[ T]HH:mm[:ss[.fraction]]` or a bare `yyyy-MM-dd`, straight
/// from the bytes as wall-clock microseconds; anything else is left to
/// `parse_timestamp_local`. The day number of the last date read is kept:
/// trips come in time order, so most values share their date with the one
/// before and only their time of day is left to read.
#[derive(Default)]
pub(super) struct TimestampReader {
    last_date: Option<([u8; 10], i64)>,
}

impl TimestampReader {
    pub(super) fn read(&mut self, text: &[u8]) -> Option<i64> {
        let (date, time) = text.split_at_checked(10)?;
        let days = match self.last_date {
            Some((last, days)) if last == date => days,
            _ => {
                let days = civil_days(date)?;
                self.last_date = Some((date.try_into().ok()?, days));
                days
            }
        };
        Some(days * crate::value::MICROS_PER_DAY + time_of_day(time)?)
    }
}

/// The value of `len` ASCII digits at `at`.
fn digits(text: &[u8], at: usize, len: usize) -> Option<i64> {
    let mut value = 0i64;
    for b in text.get(at..at + len)? {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(value)
}

/// Days since 1970-01-01 of a `yyyy-MM-dd` date (proleptic Gregorian,
/// Howard Hinnant's method).
fn civil_days(date: &[u8]) -> Option<i64> {
    let year = digits(date, 0, 4)?;
    let month = digits(date, 5, 2)?;
    let day = digits(date, 8, 2)?;
    if date[4] != b'-' || date[7] != b'-' || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    const MONTH_DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let month_days = MONTH_DAYS[(month - 1) as usize] + i64::from(month == 2 && leap);
    if day < 1 || day > month_days {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Microseconds into the day of what follows a timestamp's date: nothing,
/// or `[ T]HH:mm[:ss[.fraction]]` (digits past microseconds are dropped).
fn time_of_day(text: &[u8]) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    if !matches!(text[0], b' ' | b'T') || text.get(3) != Some(&b':') {
        return None;
    }
    let hour = digits(text, 1, 2)?;
    let minute = digits(text, 4, 2)?;
    let (mut second, mut micros) = (0, 0);
    match text.len() {
        6 => {}
        _ if text.get(6) == Some(&b':') => {
            second = digits(text, 7, 2)?;
            match text.get(9) {
                None => {}
                Some(b'.') if (11..=19).contains(&text.len()) => {
                    let fraction = &text[10..];
                    let kept = fraction.len().min(6);
                    micros = digits(fraction, 0, kept)? * 10i64.pow((6 - kept) as u32);
                    digits(fraction, kept, fraction.len() - kept)?;
                }
                Some(_) => return None,
            }
        }
        _ => return None,
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(((hour * 60 + minute) * 60 + second) * 1_000_000 + micros)
}

/// A CSV scan: its files, packed splits and the schema it produces.
#[derive(Debug)]
pub struct CsvScanExec {
    pub files: Arc<Vec<InputFile>>,
    pub partitions: Vec<Vec<FileSplit>>,
    /// Data columns in file order (the schema applied by position).
    pub data_schema: Schema,
    /// Partition columns from `key=value` directories.
    pub partition_fields: Vec<StructField>,
    pub options: CsvOptions,
    pub schema: PlanSchema,
    pub time_zone: Tz,
}

/// Works out a CSV source's data schema: explicit, from the header, or inferred.
pub fn resolve_schema(
    files: &[InputFile],
    options: &CsvOptions,
    explicit: Option<Schema>,
) -> Result<Schema> {
    if let Some(schema) = explicit {
        return Ok(schema);
    }
    let Some(first) = files.first() else {
        return Err(EngineError::spark(
            "UNABLE_TO_INFER_SCHEMA",
            "Unable to infer schema for CSV. It must be specified manually.",
        ));
    };
    let first_line = first_record(first, options)?.unwrap_or_default();
    let names: Vec<String> = if options.header {
        dedupe_header(&first_line)
    } else {
        (0..first_line.len()).map(|i| format!("_c{i}")).collect()
    };
    let mut types: Vec<Option<DataType>> = vec![None; names.len()];
    if options.infer_schema {
        for file in files {
            let mut header = options.header;
            for_each_block(file, |block| {
                let mut reader = options.record_reader(block);
                for record in reader.records() {
                    if std::mem::take(&mut header) {
                        continue;
                    }
                    let Ok(record) = record else { continue };
                    for (t, field) in types.iter_mut().zip(record.iter()) {
                        *t = infer_value(t.take(), field, options);
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(Schema::new(
        names
            .into_iter()
            .zip(types)
            .map(|(n, t)| StructField::new(n, t.unwrap_or(DataType::String), true))
            .collect(),
    ))
}

/// Spark makes duplicate header names unique by appending their position; empty names become `_cN`.
fn dedupe_header(names: &[String]) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.is_empty() {
                return format!("_c{i}");
            }
            let duplicates = names.iter().filter(|o| o.eq_ignore_ascii_case(n)).count();
            if duplicates > 1 {
                format!("{n}{i}")
            } else {
                n.clone()
            }
        })
        .collect()
}

struct BadRecord {
    line: u64,
    column: Option<String>,
    reason: String,
}

impl CsvScanExec {
    /// The schema names a string column `columnNameOfCorruptRecord`: bad records go there.
    fn has_corrupt_column(&self) -> bool {
        self.data_schema.fields.iter().any(|f| {
            f.name == self.options.corrupt_record_column && f.data_type == DataType::String
        })
    }

    /// Data fields actually parsed (the corrupt-record column is filled, not parsed).
    fn parsed_fields(&self) -> Vec<&StructField> {
        self.data_schema
            .fields
            .iter()
            .filter(|f| {
                !(f.name == self.options.corrupt_record_column && f.data_type == DataType::String)
            })
            .collect()
    }

    fn fast_path(&self, text: &str, skip_header: bool) -> Option<DataFrame> {
        if self.options.mode != ParseMode::Permissive
            || self.has_corrupt_column()
            || self.options.quote == 0
            || self.options.escape != b'\\' && self.options.escape != self.options.quote
            || self.options.timestamp_format.is_some()
            || self.options.date_format.is_some()
            || !self.options.empty_value.is_empty()
        {
            return None;
        }
        let fields = self.parsed_fields();
        FastCsvParser::new(
            &fields,
            self.options.separator,
            self.options.quote,
            self.options.comment,
            &self.options.null_value,
        )?
        .parse(text, skip_header)
    }

    /// The exact parser: every record checked against the schema.
    /// `lines_before` counts the file's lines before `bytes`, for an error's line.
    fn exact_path(
        &self,
        bytes: &[u8],
        skip_header: bool,
        file: &InputFile,
        lines_before: &dyn Fn() -> Result<u64>,
    ) -> Result<DataFrame> {
        let fields = self.parsed_fields();
        let corrupt = self.has_corrupt_column();
        let mut columns: Vec<Vec<AnyValue<'static>>> = vec![Vec::new(); fields.len()];
        let mut corrupt_values: Vec<AnyValue<'static>> = Vec::new();
        let mut reader = self.options.record_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let mut index = 0u64;
        let mut counted_to = 0usize;
        let mut newlines_before = 0u64;
        loop {
            let more = reader.read_byte_record(&mut record).map_err(|e| {
                EngineError::spark(
                    "MALFORMED_CSV_RECORD",
                    format!("Malformed CSV record: {e}."),
                )
                .at(Location {
                    file: Some(file.path.display().to_string()),
                    line: None,
                    column: None,
                })
            })?;
            if !more {
                break;
            }
            index += 1;
            if index == 1 && skip_header {
                continue;
            }
            // Line of the record's first byte, counting newlines inside quoted fields too.
            let offset = record
                .position()
                .map(|p| p.byte() as usize)
                .unwrap_or(0)
                .min(bytes.len());
            // After a CRLF the reader reports the record as starting at the LF.
            let offset = if bytes.get(offset) == Some(&b'\n') {
                offset + 1
            } else {
                offset
            };
            newlines_before += bytes[counted_to..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = offset;
            let line = 1 + newlines_before;
            let mut values = Vec::with_capacity(fields.len());
            let mut bad: Option<BadRecord> = None;
            if record.len() != fields.len() {
                bad = Some(BadRecord {
                    line,
                    column: None,
                    reason: format!("expected {} fields, found {}", fields.len(), record.len()),
                });
            }
            for (i, field) in fields.iter().enumerate() {
                let raw = record.get(i).unwrap_or(b"");
                let text = String::from_utf8_lossy(raw);
                match self.parse_value(&text, &field.data_type) {
                    Ok(v) => values.push(v),
                    Err(expected) => {
                        values.push(AnyValue::Null);
                        if bad.is_none() {
                            bad = Some(BadRecord {
                                line,
                                column: Some(field.name.clone()),
                                reason: format!("expected {expected}, found \"{text}\""),
                            });
                        }
                    }
                }
            }
            match bad {
                None => {
                    for (c, v) in columns.iter_mut().zip(values) {
                        c.push(v);
                    }
                    if corrupt {
                        corrupt_values.push(AnyValue::Null);
                    }
                }
                Some(bad) => match self.options.mode {
                    ParseMode::DropMalformed => {}
                    ParseMode::FailFast => {
                        let record_text = record
                            .iter()
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .collect::<Vec<_>>()
                            .join(&(self.options.separator as char).to_string());
                        return Err(EngineError::spark(
                            "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
                            format!(
                                "Malformed records are detected in record parsing: [{record_text}] ({}). Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'.",
                                bad.reason
                            ),
                        )
                        .at(Location {
                            file: Some(file.path.display().to_string()),
                            line: Some(bad.line + lines_before()?),
                            column: bad.column,
                        }));
                    }
                    ParseMode::Permissive => {
                        for (c, v) in columns.iter_mut().zip(values) {
                            c.push(v);
                        }
                        if corrupt {
                            let text = record
                                .iter()
                                .map(|f| String::from_utf8_lossy(f).into_owned())
                                .collect::<Vec<_>>()
                                .join(&(self.options.separator as char).to_string());
                            corrupt_values.push(AnyValue::StringOwned(text.into()));
                        }
                    }
                },
            }
        }
        let height = columns
            .first()
            .map(|c| c.len())
            .unwrap_or(corrupt_values.len());
        let mut out: Vec<Column> = Vec::new();
        for (field, values) in fields.iter().zip(columns) {
            let dtype = field.data_type.to_polars();
            let series = Series::from_any_values_and_dtype(
                field.name.as_str().into(),
                &values,
                &dtype,
                true,
            )
            .map_err(from_polars)?;
            out.push(series.into_column());
        }
        if corrupt {
            let series = Series::from_any_values_and_dtype(
                self.options.corrupt_record_column.as_str().into(),
                &corrupt_values,
                &polars::prelude::DataType::String,
                true,
            )
            .map_err(from_polars)?;
            out.push(series.into_column());
        }
        DataFrame::new(height, out).map_err(from_polars)
    }

    /// One field as Spark's CSV parser reads it; `Err` names the expected type.
    fn parse_value(
        &self,
        text: &str,
        data_type: &DataType,
    ) -> std::result::Result<AnyValue<'static>, String> {
        // Quoted or not, an empty field is null under the default nullValue.
        if text == self.options.null_value {
            return Ok(AnyValue::Null);
        }
        let fail = || data_type.simple_string().to_uppercase();
        Ok(match data_type {
            DataType::String => {
                if text.is_empty() {
                    AnyValue::StringOwned(self.options.empty_value.as_str().into())
                } else {
                    AnyValue::StringOwned(text.into())
                }
            }
            DataType::Byte => AnyValue::Int8(text.parse().map_err(|_| fail())?),
            DataType::Short => AnyValue::Int16(text.parse().map_err(|_| fail())?),
            DataType::Integer => AnyValue::Int32(text.parse().map_err(|_| fail())?),
            DataType::Long => AnyValue::Int64(text.parse().map_err(|_| fail())?),
            DataType::Float => AnyValue::Float32(parse_double(text).ok_or_else(fail)? as f32),
            DataType::Double => AnyValue::Float64(parse_double(text).ok_or_else(fail)?),
            DataType::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" => AnyValue::Boolean(true),
                "false" => AnyValue::Boolean(false),
                _ => return Err(fail()),
            },
            DataType::Date => AnyValue::Date(
                parse_date(text, self.options.date_format.as_deref()).ok_or_else(fail)?,
            ),
            DataType::Timestamp => {
                let local = parse_timestamp_local(text, self.options.timestamp_format.as_deref())
                    .ok_or_else(fail)?;
                AnyValue::Datetime(
                    local_micros_to_utc(local, &self.time_zone),
                    polars::prelude::TimeUnit::Microseconds,
                    None,
                )
            }
            DataType::TimestampNtz => {
                let local = parse_timestamp_local(text, self.options.timestamp_format.as_deref())
                    .ok_or_else(fail)?;
                AnyValue::Datetime(local, polars::prelude::TimeUnit::Microseconds, None)
            }
            DataType::Decimal(p, s) => {
                let value: f64 = text.parse().map_err(|_| fail())?;
                let unscaled = (value * 10f64.powi(*s as i32)).round() as i128;
                if unscaled.unsigned_abs() >= 10u128.pow(*p as u32) {
                    return Err(fail());
                }
                AnyValue::Decimal(unscaled, *p as usize, *s as usize)
            }
            _ => return Err(fail()),
        })
    }

    /// One split's rows: a plain split in one frame, a gzip file block by block.
    fn split_batches<'a>(
        &'a self,
        split: &'a FileSplit,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        ctx.cancel.check()?;
        let file = &self.files[split.file];
        let header = self.options.header && split.start == 0;
        if !is_gzip(file) {
            let (begin, bytes) = read_split(file, split)?;
            ctx.record_bytes_read(split.length);
            let text = std::str::from_utf8(&bytes).ok();
            let frame = self.parse(&bytes, text, header, file, &|| lines_before(file, begin))?;
            ctx.record_rows_read(&frame);
            return Ok(Box::new(std::iter::once(Ok(frame))));
        }
        let GzipBlocks { blocks, consumed } = GzipBlocks::open(file)?;
        let mut lines = 0u64;
        let mut recorded = 0u64;
        let mut first = true;
        // Blocks are parsed one at a time with all of polars' threads:
        // parsing two at once, one thread each, measured slower.
        Ok(Box::new(blocks.into_iter().map(move |block| {
            ctx.cancel.check()?;
            let block = block?;
            let read = consumed.load(Ordering::Relaxed);
            ctx.record_bytes_read(read - recorded);
            recorded = read;
            let before = lines;
            lines += block.lines;
            let (bytes, text) = match &block.text {
                Ok(text) => (text.as_bytes(), Some(text.as_str())),
                Err(bytes) => (bytes.as_slice(), None),
            };
            let skip_header = header && std::mem::take(&mut first);
            let frame = self.parse(bytes, text, skip_header, file, &|| Ok(before))?;
            ctx.record_rows_read(&frame);
            Ok(frame)
        })))
    }

    /// Whole lines of a file into the scan's columns; `text` is `bytes`
    /// when they are UTF-8.
    fn parse(
        &self,
        bytes: &[u8],
        text: Option<&str>,
        skip_header: bool,
        file: &InputFile,
        lines_before: &dyn Fn() -> Result<u64>,
    ) -> Result<DataFrame> {
        let frame = match text.and_then(|text| self.fast_path(text, skip_header)) {
            Some(frame) => frame,
            None => self.exact_path(bytes, skip_header, file, lines_before)?,
        };
        self.finish_frame(frame, file)
    }

    /// Timestamps from the fast path are wall-clock; shift them to UTC instants.
    fn finish_frame(&self, mut frame: DataFrame, file: &InputFile) -> Result<DataFrame> {
        let tz = self.time_zone;
        let utc = is_utc(&tz);
        let mut columns: Vec<Column> = Vec::with_capacity(self.schema.len());
        for attr in &self.schema.attrs {
            if let Some(pf) = self
                .partition_fields
                .iter()
                .find(|f| f.name == attr.field.name)
            {
                let text = file
                    .partition_values
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&pf.name))
                    .map(|(_, v)| v.as_str());
                let value = partition_value(text, &pf.data_type);
                columns.push(crate::io::parquet::constant_column(
                    &attr.physical,
                    &value,
                    &pf.data_type,
                    frame.height(),
                )?);
                continue;
            }
            let mut column = frame.column(&attr.field.name).map_err(from_polars)?.clone();
            if attr.field.data_type == DataType::Timestamp && !utc {
                let mut to_utc = LocalToUtc::new(tz);
                let micros: Vec<Option<i64>> = column
                    .as_materialized_series()
                    .datetime()
                    .map_err(from_polars)?
                    .physical()
                    .iter()
                    .map(|v| v.map(|m| to_utc.convert(m)))
                    .collect();
                column = Series::new(attr.physical.as_str().into(), micros)
                    .cast(&attr.field.data_type.to_polars())
                    .map_err(from_polars)?
                    .into_column();
            }
            column.rename(attr.physical.as_str().into());
            columns.push(column);
        }
        frame = DataFrame::new(frame.height(), columns).map_err(from_polars)?;
        Ok(frame)
    }
}

impl ExecutionPlan for CsvScanExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.partitions.len().max(1)
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        crate::exec::concat_batches(self, partition, ctx)
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        let splits = partition_splits(&self.partitions, partition);
        Ok(Box::new(splits.iter().flat_map(move |split| {
            self.split_batches(split, ctx)
                .unwrap_or_else(|e| Box::new(std::iter::once(Err(e))))
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_spark_types() {
        let o = CsvOptions::default();
        let infer = |values: &[&str]| values.iter().fold(None, |t, v| infer_value(t, v, &o));
        assert_eq!(infer(&["1", "2"]), Some(DataType::Integer));
        assert_eq!(infer(&["1", "3000000000"]), Some(DataType::Long));
        assert_eq!(infer(&["1", "2.5"]), Some(DataType::Double));
        assert_eq!(
            infer(&["2021-01-01 00:33:44", ""]),
            Some(DataType::Timestamp)
        );
        assert_eq!(infer(&["true", "FALSE"]), Some(DataType::Boolean));
        assert_eq!(infer(&["1", "x"]), Some(DataType::String));
        assert_eq!(infer(&["", ""]), None);
    }

    #[test]
    fn fast_timestamps_agree_with_chrono() {
        for text in [
            "2021-01-01 00:23:13",
            "2020-02-29T23:59:59",
            "1969-12-31 23:59:59.5",
            "2021-07-04 12:30",
            "2021-07-04",
            "2000-01-01 00:00:00.123456789",
            "1900-03-01 01:02:03.000001",
        ] {
            assert_eq!(
                TimestampReader::default().read(text.as_bytes()),
                parse_timestamp_local(text, None),
                "{text}"
            );
        }
        for text in [
            "2021-02-29 00:00:00",
            "2021-13-01 00:00:00",
            "2021-01-01 24:00:00",
            "2021-01-01 00:00:00Z",
            "2021-1-1",
            "2021-01-01 00:00:00.",
            " 2021-01-01",
        ] {
            assert_eq!(
                TimestampReader::default().read(text.as_bytes()),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn a_reader_remembering_the_last_date_reads_as_a_fresh_one() {
        let texts = [
            "2021-01-01 00:23:13",
            "2021-01-01 23:59:59.999999",
            "2021-01-01 24:00:00",
            "2021-01-01",
            "2021-01-01T08:00",
            "2021-01-02 00:00:01",
            "2021-02-29 00:00:00",
            "2021-01-02 00:00:0x",
            "2021-01-02",
            "2021-01-0",
            "",
        ];
        let mut reader = TimestampReader::default();
        for text in texts {
            assert_eq!(
                reader.read(text.as_bytes()),
                parse_timestamp_local(text, None),
                "{text}"
            );
        }
    }

    #[test]
    fn header_names_are_made_unique() {
        let names = dedupe_header(&["a".into(), "".into(), "A".into()]);
        assert_eq!(names, vec!["a0", "_c1", "A2"]);
    }
}
