//! Input files: resolving paths (files, directories, globs, lists), hive
//! `key=value` partition directories, and Spark's packing of file splits into
//! scan partitions.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::types::{DataType, StructField};
use crate::value::Value;

/// One data file and the partition values its directories spell.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    pub path: PathBuf,
    pub len: u64,
    /// `key=value` directory pairs between the base path and the file.
    pub partition_values: Vec<(String, String)>,
}

/// A byte range of one file, read by one task.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSplit {
    pub file: usize,
    pub start: u64,
    pub length: u64,
}

/// The splits a scan packed into partition `i` (none past the last).
pub fn partition_splits(partitions: &[Vec<FileSplit>], i: usize) -> &[FileSplit] {
    partitions.get(i).map(Vec::as_slice).unwrap_or(&[])
}

/// `file:/abs/path` as Spark prints paths in messages.
pub fn qualified(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}", absolute.display())
}

/// Object stores and cluster file systems Kiln does not reach: a path on
/// one fails at once, saying what to do instead.
pub fn check_local(path: &str) -> Result<()> {
    const REMOTE: &[(&str, &str)] = &[
        ("gs://", "Google Cloud Storage"),
        ("s3://", "Amazon S3"),
        ("s3a://", "Amazon S3"),
        ("s3n://", "Amazon S3"),
        ("abfs://", "Azure Data Lake Storage"),
        ("abfss://", "Azure Data Lake Storage"),
        ("wasbs://", "Azure Blob Storage"),
        ("hdfs://", "HDFS"),
        ("dbfs:/", "the Databricks file system"),
    ];
    let lower = path.to_ascii_lowercase();
    match REMOTE.iter().find(|(scheme, _)| lower.starts_with(scheme)) {
        None => Ok(()),
        Some((scheme, store)) => Err(EngineError::spark(
            "UNSUPPORTED_FILE_SCHEME",
            format!(
                "{path} is on {store}, which Kiln does not read or write: Kiln works on local files. \
                 Copy the data to this machine (for Google Cloud Storage: `gsutil -m cp -r {path} data/`) \
                 and use the local path, or run this cell on a Spark cluster, where the `{}` scheme is configured.",
                scheme.trim_end_matches([':', '/'])
            ),
        )),
    }
}

fn strip_scheme(path: &str) -> &str {
    path.strip_prefix("file://")
        .or_else(|| path.strip_prefix("file:"))
        .unwrap_or(path)
}

fn is_hidden(name: &str) -> bool {
    // Spark skips these: _SUCCESS, _temporary, .crc files, hidden files.
    (name.starts_with('_') && !name.contains('=')) || name.starts_with('.')
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<InputFile>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| EngineError::io(qualified(dir), e))?;
    let mut entries: Vec<_> = entries
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| EngineError::io(qualified(dir), e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| EngineError::io(qualified(&path), e))?;
        if meta.is_dir() {
            walk(base, &path, out)?;
        } else {
            out.push(InputFile {
                partition_values: partition_values(base, &path),
                path,
                len: meta.len(),
            });
        }
    }
    Ok(())
}

fn partition_values(base: &Path, file: &Path) -> Vec<(String, String)> {
    let relative = file.strip_prefix(base).unwrap_or(file);
    let mut values = Vec::new();
    if let Some(parent) = relative.parent() {
        for component in parent.components() {
            let text = component.as_os_str().to_string_lossy();
            if let Some((key, value)) = text.split_once('=') {
                if !key.is_empty() {
                    values.push((key.to_string(), unescape_path_name(value)));
                }
            }
        }
    }
    values
}

/// Spark escapes special characters in partition directory names as `%XX`.
fn unescape_path_name(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn has_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// Expands `{a,b}` alternatives (Hadoop glob syntax), which the glob crate lacks.
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let Some(close) = pattern[open..].find('}').map(|c| open + c) else {
        return vec![pattern.to_string()];
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    pattern[open + 1..close]
        .split(',')
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
        .collect()
}

/// Resolves user paths to data files, in a stable order.
pub fn list_files(paths: &[String]) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for raw in paths {
        check_local(raw)?;
        let path = strip_scheme(raw);
        if has_glob(path) {
            let mut matched = Vec::new();
            for pattern in expand_braces(path) {
                let entries = glob::glob(&pattern).map_err(|e| {
                    EngineError::spark("INVALID_PATH", format!("Invalid glob pattern {raw}: {e}."))
                })?;
                for entry in entries.flatten() {
                    let name = entry
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if !is_hidden(&name) {
                        matched.push(entry);
                    }
                }
            }
            if matched.is_empty() {
                return Err(path_not_found(Path::new(path)));
            }
            matched.sort();
            for entry in matched {
                add_path(&entry, &mut out)?;
            }
        } else {
            let p = Path::new(path);
            if !p.exists() {
                return Err(path_not_found(p));
            }
            add_path(p, &mut out)?;
        }
    }
    Ok(out)
}

fn add_path(path: &Path, out: &mut Vec<InputFile>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| EngineError::io(qualified(path), e))?;
    if meta.is_dir() {
        walk(path, path, out)
    } else {
        out.push(InputFile {
            path: path.to_path_buf(),
            len: meta.len(),
            partition_values: Vec::new(),
        });
        Ok(())
    }
}

pub fn path_not_found(path: &Path) -> EngineError {
    EngineError::spark(
        "PATH_NOT_FOUND",
        format!("Path does not exist: {}.", qualified(path)),
    )
}

/// Partition columns and their inferred types (Spark's partition type inference).
pub fn partition_schema(files: &[InputFile]) -> Vec<StructField> {
    let mut names: Vec<String> = Vec::new();
    for file in files {
        for (key, _) in &file.partition_values {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(key)) {
                names.push(key.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let values: Vec<&str> = files
                .iter()
                .filter_map(|f| {
                    f.partition_values
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                        .map(|(_, v)| v.as_str())
                })
                .filter(|v| *v != NULL_PARTITION)
                .collect();
            StructField::new(name, infer_partition_type(&values), true)
        })
        .collect()
}

pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

fn infer_partition_type(values: &[&str]) -> DataType {
    let all = |f: &dyn Fn(&str) -> bool| values.iter().all(|v| f(v));
    if values.is_empty() {
        DataType::String
    } else if all(&|v| v.parse::<i32>().is_ok()) {
        DataType::Integer
    } else if all(&|v| v.parse::<i64>().is_ok()) {
        DataType::Long
    } else if all(&|v| v.parse::<f64>().is_ok() && !v.contains(['e', 'E', 'n', 'N', 'i', 'I'])) {
        DataType::Double
    } else if all(&|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()) {
        DataType::Date
    } else {
        DataType::String
    }
}

/// A partition value as a typed value.
pub fn partition_value(text: Option<&str>, data_type: &DataType) -> Value {
    let Some(text) = text.filter(|t| *t != NULL_PARTITION) else {
        return Value::Null;
    };
    match data_type {
        DataType::Integer => text.parse().map(Value::Integer).unwrap_or(Value::Null),
        DataType::Long => text.parse().map(Value::Long).unwrap_or(Value::Null),
        DataType::Double => text.parse().map(Value::Double).unwrap_or(Value::Null),
        DataType::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| Value::Date((d - crate::value::epoch()).num_days() as i32))
            .unwrap_or(Value::Null),
        _ => Value::String(text.to_string()),
    }
}

/// Spark's `maxSplitBytes` for a scan.
pub fn max_split_bytes(
    files: &[InputFile],
    max_partition_bytes: i64,
    open_cost: i64,
    parallelism: usize,
) -> u64 {
    let total: i64 = files.iter().map(|f| f.len as i64 + open_cost).sum();
    let per_core = total / parallelism.max(1) as i64;
    max_partition_bytes.min(open_cost.max(per_core)).max(1) as u64
}

/// Cuts files into splits and packs them next-fit, largest first, as Spark's
/// `FilePartition.getFilePartitions` does.
pub fn pack_splits(
    files: &[InputFile],
    splittable: &dyn Fn(&InputFile) -> bool,
    max_partition_bytes: i64,
    open_cost: i64,
    parallelism: usize,
) -> Vec<Vec<FileSplit>> {
    let max_split = max_split_bytes(files, max_partition_bytes, open_cost, parallelism);
    let mut splits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if splittable(file) && file.len > 0 {
            let mut start = 0;
            while start < file.len {
                let length = max_split.min(file.len - start);
                splits.push(FileSplit {
                    file: index,
                    start,
                    length,
                });
                start += length;
            }
        } else {
            splits.push(FileSplit {
                file: index,
                start: 0,
                length: file.len,
            });
        }
    }
    // Stable: equal sizes keep file order.
    splits.sort_by_key(|s| std::cmp::Reverse(s.length));
    let mut partitions = Vec::new();
    let mut current = Vec::new();
    let mut current_size: u64 = 0;
    for split in splits {
        if current_size + split.length > max_split && !current.is_empty() {
            partitions.push(std::mem::take(&mut current));
            current_size = 0;
        }
        current_size += split.length + open_cost as u64;
        current.push(split);
    }
    if !current.is_empty() {
        partitions.push(current);
    }
    partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, len: u64) -> InputFile {
        InputFile {
            path: PathBuf::from(name),
            len,
            partition_values: vec![],
        }
    }

    #[test]
    fn ten_tiny_files_on_two_cores_make_two_partitions() {
        let files: Vec<InputFile> = (0..10).map(|i| file(&format!("f{i}"), 1000)).collect();
        let parts = pack_splits(&files, &|_| true, 128 << 20, 4 << 20, 2);
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn big_files_are_cut_at_max_split_bytes() {
        // 717 MB on 2 cores: maxSplit = min(128MB, max(4MB, (717MB+4MB)/2)) = 128MB → 6 partitions.
        let files = vec![file("fhvhv.csv", 717 << 20)];
        let parts = pack_splits(&files, &|_| true, 128 << 20, 4 << 20, 2);
        assert_eq!(parts.len(), 6);
        let gz = vec![file("fhvhv.csv.gz", 717 << 20)];
        assert_eq!(pack_splits(&gz, &|_| false, 128 << 20, 4 << 20, 2).len(), 1);
    }

    #[test]
    fn partition_directories_become_typed_columns() {
        let dir = std::env::temp_dir().join(format!("kiln-files-{}", std::process::id()));
        for (y, m) in [("2020", "01"), ("2021", "02")] {
            let d = dir.join(format!("year={y}/month={m}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("part-0.csv"), "a\n").unwrap();
        }
        std::fs::write(dir.join("_SUCCESS"), "").unwrap();
        let files = list_files(&[dir.display().to_string()]).unwrap();
        assert_eq!(files.len(), 2);
        let schema = partition_schema(&files);
        assert_eq!(schema[0].name, "year");
        assert_eq!(schema[0].data_type, DataType::Integer);
        assert_eq!(
            files[1].partition_values[1],
            ("month".to_string(), "02".to_string())
        );
        let globbed = list_files(&[format!("{}/*/*", dir.display())]).unwrap();
        assert_eq!(globbed.len(), 2);
        let missing = list_files(&[format!("{}/nope", dir.display())])
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("[PATH_NOT_FOUND] Path does not exist: file:/"),
            "{missing}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
