//! JSON Lines, as Spark's `json` source reads and writes it: one object per
//! line; an inferred schema has its fields sorted by name, integers as
//! bigint, other numbers as double, and a type that holds every value seen
//! (string when nothing narrower does); a line that does not parse becomes a
//! row of nulls with its text in `_corrupt_record` (PERMISSIVE) or an error
//! naming the file and line (FAILFAST). The writer puts one object per row,
//! leaving out null fields.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use chrono_tz::Tz;
use serde_json::{Map, Value as Json};

use super::csv::{parse_date, parse_timestamp_local};
use super::files::InputFile;
use crate::error::{EngineError, Location, Result};
use crate::rows::Row;
use crate::types::{DataType, Schema, StructField};
use crate::value::{date_string, decimal_string, java_float_string, wall_clock, Value};
use crate::zone::local_micros_to_utc;

pub const CORRUPT_RECORD: &str = "_corrupt_record";

/// How malformed lines are handled (`mode` option).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParseMode {
    Permissive,
    DropMalformed,
    FailFast,
}

impl ParseMode {
    pub fn from_options(options: &[(String, String)]) -> Result<ParseMode> {
        let mode = options
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("mode"))
            .map(|(_, v)| v.to_ascii_uppercase());
        match mode.as_deref() {
            None | Some("PERMISSIVE") => Ok(ParseMode::Permissive),
            Some("DROPMALFORMED") => Ok(ParseMode::DropMalformed),
            Some("FAILFAST") => Ok(ParseMode::FailFast),
            Some(other) => Err(EngineError::spark(
                "INVALID_OPTION",
                format!(
                    "The mode option must be PERMISSIVE, DROPMALFORMED or FAILFAST, got {other}."
                ),
            )),
        }
    }
}

/// A line's object, or its text when it is not a JSON object.
type Record = std::result::Result<Map<String, Json>, String>;

/// One file's lines, each with its 1-based line number.
struct JsonFile {
    path: String,
    records: Vec<(u64, Record)>,
}

fn read_file(file: &InputFile) -> Result<JsonFile> {
    let path = file.path.display().to_string();
    let opened = File::open(&file.path).map_err(|e| EngineError::io(path.clone(), e))?;
    let reader: Box<dyn Read> = if path.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(opened))
    } else {
        Box::new(opened)
    };
    let mut records = Vec::new();
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| EngineError::io(path.clone(), e))?;
        let text = line.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let parsed = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(map)) => Ok(map),
            _ => Err(text.to_string()),
        };
        records.push((index as u64 + 1, parsed));
    }
    Ok(JsonFile { path, records })
}

/// The type Spark infers for one JSON value (`Null` for null).
fn infer(value: &Json) -> DataType {
    match value {
        Json::Null => DataType::Null,
        Json::Bool(_) => DataType::Boolean,
        Json::Number(n) if n.is_i64() => DataType::Long,
        // Integers beyond a long are decimal(20,0) in Spark; double is the
        // nearest type the engine reads them as.
        Json::Number(_) => DataType::Double,
        Json::String(_) => DataType::String,
        Json::Array(items) => DataType::Array(
            Box::new(items.iter().map(infer).fold(DataType::Null, merge)),
            true,
        ),
        Json::Object(map) => DataType::Struct(infer_fields(map)),
    }
}

fn infer_fields(map: &Map<String, Json>) -> Vec<StructField> {
    let mut fields: Vec<StructField> = map
        .iter()
        .map(|(k, v)| StructField::new(k.clone(), infer(v), true))
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    fields
}

/// The narrowest type holding values of both types.
fn merge(a: DataType, b: DataType) -> DataType {
    match (a, b) {
        (DataType::Null, t) | (t, DataType::Null) => t,
        (a, b) if a == b => a,
        (DataType::Long, DataType::Double) | (DataType::Double, DataType::Long) => DataType::Double,
        (DataType::Array(a, _), DataType::Array(b, _)) => {
            DataType::Array(Box::new(merge(*a, *b)), true)
        }
        (DataType::Struct(a), DataType::Struct(b)) => {
            let mut fields = a;
            for field in b {
                match fields.iter().position(|f| f.name == field.name) {
                    Some(i) => {
                        let merged = merge(fields[i].data_type.clone(), field.data_type);
                        fields[i].data_type = merged;
                    }
                    None => fields.push(field),
                }
            }
            fields.sort_by(|x, y| x.name.cmp(&y.name));
            DataType::Struct(fields)
        }
        _ => DataType::String,
    }
}

/// Replaces a type that saw only nulls with string, as Spark does.
fn settle(data_type: DataType) -> DataType {
    match data_type {
        DataType::Null => DataType::String,
        DataType::Array(e, n) => DataType::Array(Box::new(settle(*e)), n),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .into_iter()
                .map(|f| StructField::new(f.name, settle(f.data_type), true))
                .collect(),
        ),
        other => other,
    }
}

/// Reads every file: the schema (given or inferred) and one partition of
/// rows per file.
pub fn read(
    files: &[InputFile],
    schema: Option<Schema>,
    mode: ParseMode,
    tz: &Tz,
) -> Result<(Schema, Vec<Vec<Row>>)> {
    let parsed = files.iter().map(read_file).collect::<Result<Vec<_>>>()?;
    let schema = match schema {
        Some(schema) => schema,
        None => {
            let mut fields: Vec<StructField> = Vec::new();
            let mut corrupt = false;
            for file in &parsed {
                for (_, record) in &file.records {
                    match record {
                        Ok(map) => {
                            let merged = merge(
                                DataType::Struct(fields),
                                DataType::Struct(infer_fields(map)),
                            );
                            fields = match merged {
                                DataType::Struct(f) => f,
                                _ => Vec::new(),
                            };
                        }
                        Err(_) => corrupt = true,
                    }
                }
            }
            let mut fields: Vec<StructField> = fields
                .into_iter()
                .map(|f| StructField::new(f.name, settle(f.data_type), true))
                .collect();
            if corrupt && mode == ParseMode::Permissive {
                fields.push(StructField::new(CORRUPT_RECORD, DataType::String, true));
                fields.sort_by(|a, b| a.name.cmp(&b.name));
            }
            if fields.is_empty() {
                return Err(EngineError::spark(
                    "UNABLE_TO_INFER_SCHEMA",
                    "Unable to infer schema for JSON. It must be specified manually.",
                ));
            }
            Schema::new(fields)
        }
    };
    let corrupt_at = schema.fields.iter().position(|f| f.name == CORRUPT_RECORD);
    let mut partitions = Vec::with_capacity(parsed.len());
    for file in &parsed {
        let mut rows = Vec::with_capacity(file.records.len());
        for (line, record) in &file.records {
            let location = || Location {
                file: Some(file.path.clone()),
                line: Some(*line),
                column: None,
            };
            match record {
                Ok(map) => {
                    let mut row = Vec::with_capacity(schema.fields.len());
                    let mut bad = false;
                    for field in &schema.fields {
                        let value = match map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&field.name)) {
                            Some((_, v)) => convert(v, &field.data_type, tz),
                            None => Some(Value::Null),
                        };
                        match value {
                            Some(v) => row.push(v),
                            None => {
                                bad = true;
                                if mode == ParseMode::FailFast {
                                    return Err(malformed(&field.name, &field.data_type).at(Location {
                                        column: Some(field.name.clone()),
                                        ..location()
                                    }));
                                }
                                row.push(Value::Null);
                            }
                        }
                    }
                    if bad && mode == ParseMode::DropMalformed {
                        continue;
                    }
                    rows.push(row);
                }
                Err(text) => match mode {
                    ParseMode::FailFast => {
                        return Err(EngineError::spark(
                            "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
                            format!("Malformed records are detected in record parsing: {text}. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'."),
                        )
                        .at(location()))
                    }
                    ParseMode::DropMalformed => {}
                    ParseMode::Permissive => {
                        let mut row = vec![Value::Null; schema.fields.len()];
                        if let Some(i) = corrupt_at {
                            row[i] = Value::String(text.clone());
                        }
                        rows.push(row);
                    }
                },
            }
        }
        partitions.push(rows);
    }
    Ok((schema, partitions))
}

fn malformed(field: &str, data_type: &DataType) -> EngineError {
    EngineError::spark(
        "MALFORMED_RECORD_IN_PARSING.CANNOT_PARSE_JSON_FIELD",
        format!(
            "Malformed records are detected in record parsing: the value of field `{field}` cannot be read as {}. Parse Mode: FAILFAST.",
            data_type.simple_string().to_uppercase()
        ),
    )
}

/// A JSON value as a value of `data_type`; `None` when it cannot be one.
fn convert(value: &Json, data_type: &DataType, tz: &Tz) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    Some(match (data_type, value) {
        (DataType::String, Json::String(s)) => Value::String(s.clone()),
        // Spark keeps the JSON text of a non-string value in a string column.
        (DataType::String, other) => Value::String(other.to_string()),
        (DataType::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (DataType::Long, Json::Number(n)) => Value::Long(n.as_i64()?),
        (DataType::Integer, Json::Number(n)) => Value::Integer(i32::try_from(n.as_i64()?).ok()?),
        (DataType::Short, Json::Number(n)) => Value::Short(i16::try_from(n.as_i64()?).ok()?),
        (DataType::Byte, Json::Number(n)) => Value::Byte(i8::try_from(n.as_i64()?).ok()?),
        (DataType::Double, Json::Number(n)) => Value::Double(n.as_f64()?),
        (DataType::Float, Json::Number(n)) => Value::Float(n.as_f64()? as f32),
        (DataType::Double, Json::String(s))
            if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") =>
        {
            Value::Double(s.parse().ok()?)
        }
        (DataType::Date, Json::String(s)) => Value::Date(parse_date(s, None)?),
        (DataType::Timestamp, Json::String(s)) => {
            Value::Timestamp(local_micros_to_utc(parse_timestamp_local(s, None)?, tz))
        }
        (DataType::TimestampNtz, Json::String(s)) => {
            Value::TimestampNtz(parse_timestamp_local(s, None)?)
        }
        (DataType::Array(element, _), Json::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| convert(item, element, tz))
                .collect::<Option<Vec<_>>>()?,
        ),
        (DataType::Struct(fields), Json::Object(map)) => Value::Struct(
            fields
                .iter()
                .map(|f| {
                    let v = map
                        .get(&f.name)
                        .map_or(Some(Value::Null), |v| convert(v, &f.data_type, tz))?;
                    Some((f.name.clone(), v))
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}

/// One row as a JSON object line, null fields left out (Spark's
/// `ignoreNullFields`); timestamps as `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in
/// the session time zone.
pub fn row_line(names: &[String], row: &[Value], tz: &Tz) -> String {
    let mut map = Map::new();
    for (name, value) in names.iter().zip(row) {
        if !value.is_null() {
            map.insert(name.clone(), to_json(value, tz));
        }
    }
    Json::Object(map).to_string()
}

fn to_json(value: &Value, tz: &Tz) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Byte(v) => Json::from(*v),
        Value::Short(v) => Json::from(*v),
        Value::Integer(v) => Json::from(*v),
        Value::Long(v) => Json::from(*v),
        Value::Float(v) => number_or_text(java_float_string(f64::from(*v), true)),
        Value::Double(v) => number_or_text(java_float_string(*v, false)),
        Value::Decimal(unscaled, _, scale) => number_or_text(decimal_string(*unscaled, *scale)),
        Value::String(s) => Json::String(s.clone()),
        Value::Date(days) => Json::String(date_string(*days)),
        Value::Timestamp(micros) => {
            use chrono::{Offset, TimeZone};
            let local = wall_clock(*micros, Some(tz));
            let offset = tz
                .offset_from_utc_datetime(
                    &chrono::DateTime::from_timestamp_micros(*micros)
                        .unwrap_or_default()
                        .naive_utc(),
                )
                .fix();
            let zone = if offset.local_minus_utc() == 0 {
                "Z".to_string()
            } else {
                offset.to_string()
            };
            Json::String(format!("{}{zone}", local.format("%Y-%m-%dT%H:%M:%S%.3f")))
        }
        Value::TimestampNtz(micros) => Json::String(
            wall_clock(*micros, None)
                .format("%Y-%m-%dT%H:%M:%S%.3f")
                .to_string(),
        ),
        Value::Array(items) => Json::Array(items.iter().map(|v| to_json(v, tz)).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_spark_string(tz), to_json(v, tz)))
                .collect(),
        ),
        Value::Struct(entries) => Json::Object(
            entries
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), to_json(v, tz)))
                .collect(),
        ),
        other => Json::String(other.to_spark_string(tz)),
    }
}

/// A number written as Java prints it (`1.0E10`), which JSON parsers read.
fn number_or_text(text: String) -> Json {
    serde_json::from_str::<Json>(&text)
        .ok()
        .filter(Json::is_number)
        .unwrap_or(Json::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::files::list_files;

    /// A JSON file in a directory of its own, removed with it.
    struct TempJson {
        dir: std::path::PathBuf,
        files: Vec<InputFile>,
    }

    impl Drop for TempJson {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn file_with(name: &str, text: &str) -> Result<TempJson> {
        let dir = std::env::temp_dir().join(format!("kiln-json-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("temp dir", e))?;
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| EngineError::io("temp file", e))?;
        let files = list_files(&[path.display().to_string()])?;
        Ok(TempJson { dir, files })
    }

    #[test]
    fn failfast_names_the_file_and_line_of_a_malformed_record() -> Result<()> {
        let json = file_with("bad.json", "{\"a\": 1}\n{\"a\": \n")?;
        let error = read(&json.files, None, ParseMode::FailFast, &Tz::UTC)
            .err()
            .ok_or_else(|| EngineError::Internal("a malformed record was read".into()))?;
        let text = error.to_string();
        assert!(text.starts_with("[MALFORMED_RECORD_IN_PARSING"), "{text}");
        assert!(
            text.contains("bad.json") && text.contains("line 2"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn inference_widens_and_sorts_as_spark_does() -> Result<()> {
        let json = file_with(
            "mixed.json",
            "{\"b\": 1, \"a\": null}\n{\"b\": 2.5, \"a\": [1]}\n{\"b\": \"x\"}\n",
        )?;
        let (schema, partitions) = read(&json.files, None, ParseMode::Permissive, &Tz::UTC)?;
        assert_eq!(schema.names(), vec!["a", "b"]);
        assert_eq!(
            schema.fields[0].data_type,
            DataType::Array(Box::new(DataType::Long), true)
        );
        assert_eq!(schema.fields[1].data_type, DataType::String);
        assert_eq!(partitions[0][1][1], Value::String("2.5".into()));
        Ok(())
    }
}
