//! Session configuration: Spark's keys with Spark's defaults, typed accessors
//! for the ones the engine reads, and the `local[N]` master.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::error::{EngineError, Result};

pub const SHUFFLE_PARTITIONS: &str = "spark.sql.shuffle.partitions";
pub const ADAPTIVE_ENABLED: &str = "spark.sql.adaptive.enabled";
pub const COALESCE_PARTITIONS: &str = "spark.sql.adaptive.coalescePartitions.enabled";
pub const ADVISORY_PARTITION_SIZE: &str = "spark.sql.adaptive.advisoryPartitionSizeInBytes";
pub const MIN_PARTITION_SIZE: &str = "spark.sql.adaptive.coalescePartitions.minPartitionSize";
pub const MAX_PARTITION_BYTES: &str = "spark.sql.files.maxPartitionBytes";
pub const OPEN_COST_IN_BYTES: &str = "spark.sql.files.openCostInBytes";
pub const BROADCAST_THRESHOLD: &str = "spark.sql.autoBroadcastJoinThreshold";
/// Unset by default: adaptive execution then uses `BROADCAST_THRESHOLD`.
pub const ADAPTIVE_BROADCAST_THRESHOLD: &str = "spark.sql.adaptive.autoBroadcastJoinThreshold";
pub const SESSION_TIME_ZONE: &str = "spark.sql.session.timeZone";
pub const CASE_SENSITIVE: &str = "spark.sql.caseSensitive";
pub const ANSI_ENABLED: &str = "spark.sql.ansi.enabled";
pub const PARQUET_COMPRESSION: &str = "spark.sql.parquet.compression.codec";
pub const MEMORY_BUDGET: &str = "spark.kiln.shuffle.memoryBudget";
pub const SCRATCH_DIR: &str = "spark.local.dir";
pub const DEFAULT_PARALLELISM: &str = "spark.default.parallelism";
pub const MASTER: &str = "spark.master";
pub const APP_NAME: &str = "spark.app.name";

/// Keys Spark defines with their default values, as `spark.conf.get` returns them.
fn defaults() -> Vec<(&'static str, String)> {
    vec![
        (SHUFFLE_PARTITIONS, "200".into()),
        (ADAPTIVE_ENABLED, "true".into()),
        (COALESCE_PARTITIONS, "true".into()),
        (ADVISORY_PARTITION_SIZE, "64MB".into()),
        (MIN_PARTITION_SIZE, "1MB".into()),
        (MAX_PARTITION_BYTES, "128MB".into()),
        (OPEN_COST_IN_BYTES, "4MB".into()),
        (BROADCAST_THRESHOLD, "10MB".into()),
        (SESSION_TIME_ZONE, machine_time_zone()),
        (CASE_SENSITIVE, "false".into()),
        (ANSI_ENABLED, "true".into()),
        (PARQUET_COMPRESSION, "snappy".into()),
        (MEMORY_BUDGET, "256MB".into()),
        (SCRATCH_DIR, std::env::temp_dir().display().to_string()),
        (MASTER, "local[*]".into()),
        (APP_NAME, "kiln".into()),
    ]
}

/// The machine's IANA zone name (Spark's default session time zone).
pub fn machine_time_zone() -> String {
    std::env::var("TZ")
        .ok()
        .filter(|tz| tz.parse::<Tz>().is_ok())
        .or_else(|| iana_time_zone::get_timezone().ok())
        .filter(|tz| tz.parse::<Tz>().is_ok())
        .unwrap_or_else(|| "Etc/UTC".to_string())
}

/// Parses `10MB`, `64m`, `1g`, `4096` (bytes) the way Spark reads byte sizes.
pub fn parse_bytes(text: &str) -> Option<i64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let factor: i64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        "t" | "tb" => 1 << 40,
        _ => return None,
    };
    Some(number * factor)
}

/// The worker count a master URL asks for: `local` = 1, `local[N]`, `local[*]` = cores.
pub fn parse_master(master: &str) -> Result<usize> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let master = master.trim();
    if master == "local" {
        return Ok(1);
    }
    let inner = master
        .strip_prefix("local[")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| {
            EngineError::spark(
                "INVALID_MASTER",
                format!(
                    "Could not parse Master URL: '{master}'. Kiln runs locally with local, local[N] or local[*]; \
                     use SparkSession.builder.remote(\"sc://host:15002\") for a cluster."
                ),
            )
        })?;
    // `local[N, maxFailures]` is accepted; failures are not retried locally.
    let threads = inner.split(',').next().unwrap_or("").trim();
    if threads == "*" {
        return Ok(cores);
    }
    match threads.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(EngineError::spark(
            "INVALID_MASTER",
            format!("Could not parse Master URL: '{master}'. Expected a positive thread count."),
        )),
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: defaults()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }
}

impl Config {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Sets a key after checking values the engine relies on.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let invalid = |expected: &str| {
            EngineError::spark(
                "INVALID_CONF_VALUE",
                format!(
                    "The value '{value}' in the config \"{key}\" is invalid. Expected {expected}."
                ),
            )
        };
        let lower = value.trim().to_ascii_lowercase();
        let expected = match key {
            SHUFFLE_PARTITIONS | DEFAULT_PARALLELISM => {
                (value.trim().parse::<usize>().unwrap_or(0) == 0).then_some("a positive integer")
            }
            ADAPTIVE_ENABLED | COALESCE_PARTITIONS | CASE_SENSITIVE | ANSI_ENABLED => {
                (!matches!(lower.as_str(), "true" | "false")).then_some("true or false")
            }
            MAX_PARTITION_BYTES
            | OPEN_COST_IN_BYTES
            | BROADCAST_THRESHOLD
            | ADVISORY_PARTITION_SIZE
            | MIN_PARTITION_SIZE
            | MEMORY_BUDGET => parse_bytes(value)
                .is_none()
                .then_some("a byte size such as 10MB"),
            SESSION_TIME_ZONE => (value.parse::<Tz>().is_err()
                && fixed_offset_zone(value).is_none())
            .then_some("a region-based zone ID such as America/New_York"),
            _ => None,
        };
        if let Some(expected) = expected {
            return Err(invalid(expected));
        }
        if key == MASTER {
            parse_master(value)?;
        }
        self.values.insert(key.to_string(), value.to_string());
        Ok(())
    }

    pub fn unset(&mut self, key: &str) {
        match defaults().into_iter().find(|(k, _)| *k == key) {
            Some((k, v)) => {
                self.values.insert(k.to_string(), v);
            }
            None => {
                self.values.remove(key);
            }
        }
    }

    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn bytes(&self, key: &str, default: i64) -> i64 {
        self.get(key).and_then(parse_bytes).unwrap_or(default)
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn shuffle_partitions(&self) -> usize {
        self.get(SHUFFLE_PARTITIONS)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(200)
    }

    pub fn adaptive_coalesce(&self) -> bool {
        self.flag(ADAPTIVE_ENABLED) && self.flag(COALESCE_PARTITIONS)
    }

    pub fn advisory_partition_size(&self) -> i64 {
        self.bytes(ADVISORY_PARTITION_SIZE, 64 << 20)
    }

    pub fn min_partition_size(&self) -> i64 {
        self.bytes(MIN_PARTITION_SIZE, 1 << 20)
    }

    pub fn max_partition_bytes(&self) -> i64 {
        self.bytes(MAX_PARTITION_BYTES, 128 << 20)
    }

    pub fn open_cost_in_bytes(&self) -> i64 {
        self.bytes(OPEN_COST_IN_BYTES, 4 << 20)
    }

    /// -1 disables automatic broadcast.
    pub fn broadcast_threshold(&self) -> i64 {
        self.bytes(BROADCAST_THRESHOLD, 10 << 20)
    }

    /// The real size under which adaptive execution broadcasts a shuffled
    /// join's side; `None` when adaptive execution or the conversion is off.
    pub fn adaptive_broadcast_threshold(&self) -> Option<u64> {
        if !self.flag(ADAPTIVE_ENABLED) {
            return None;
        }
        let threshold = self.bytes(ADAPTIVE_BROADCAST_THRESHOLD, self.broadcast_threshold());
        u64::try_from(threshold).ok()
    }

    pub fn memory_budget(&self) -> i64 {
        self.bytes(
            MEMORY_BUDGET,
            crate::exec::spill::DEFAULT_MEMORY_BUDGET as i64,
        )
    }

    pub fn case_sensitive(&self) -> bool {
        self.flag(CASE_SENSITIVE)
    }

    pub fn ansi(&self) -> bool {
        self.flag(ANSI_ENABLED)
    }

    pub fn time_zone(&self) -> Tz {
        self.get(SESSION_TIME_ZONE)
            .and_then(|z| z.parse::<Tz>().ok().or_else(|| fixed_offset_zone(z)))
            .unwrap_or(Tz::UTC)
    }

    pub fn parquet_compression(&self) -> String {
        self.get(PARQUET_COMPRESSION)
            .unwrap_or("snappy")
            .to_ascii_lowercase()
    }

    pub fn scratch_dir(&self) -> std::path::PathBuf {
        self.get(SCRATCH_DIR)
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
    }
}

/// `UTC`, `Z`, `+00:00` and `GMT` style names Spark also accepts, for whole-hour offsets.
fn fixed_offset_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if matches!(name, "Z" | "UTC" | "GMT" | "+00:00" | "-00:00") {
        return Some(Tz::UTC);
    }
    let (sign, rest) = match name.as_bytes().first()? {
        b'+' => (-1, &name[1..]),
        b'-' => (1, &name[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    let hours: i32 = hours.parse().ok()?;
    if minutes != "00" || hours > 14 {
        return None;
    }
    // Etc/GMT zones have the POSIX (inverted) sign.
    format!("Etc/GMT{:+}", sign * hours).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sparks() {
        let config = Config::default();
        assert_eq!(config.shuffle_partitions(), 200);
        assert_eq!(config.max_partition_bytes(), 128 << 20);
        assert_eq!(config.open_cost_in_bytes(), 4 << 20);
        assert_eq!(config.broadcast_threshold(), 10 << 20);
        assert!(config.adaptive_coalesce());
        assert!(config.ansi());
        assert!(!config.case_sensitive());
        assert_eq!(config.get(SHUFFLE_PARTITIONS), Some("200"));
    }

    #[test]
    fn validates_values() {
        let mut config = Config::default();
        assert!(config.set(SHUFFLE_PARTITIONS, "0").is_err());
        config.set(SHUFFLE_PARTITIONS, "8").unwrap();
        assert_eq!(config.shuffle_partitions(), 8);
        assert!(config.set(SESSION_TIME_ZONE, "Mars/Olympus").is_err());
        config.set(SESSION_TIME_ZONE, "America/New_York").unwrap();
        config.set(BROADCAST_THRESHOLD, "-1").unwrap();
        assert_eq!(config.broadcast_threshold(), -1);
        config.unset(SHUFFLE_PARTITIONS);
        assert_eq!(config.shuffle_partitions(), 200);
    }

    #[test]
    fn parses_masters() {
        assert_eq!(parse_master("local").unwrap(), 1);
        assert_eq!(parse_master("local[3]").unwrap(), 3);
        assert!(parse_master("local[*]").unwrap() >= 1);
        assert!(parse_master("yarn").is_err());
        assert!(parse_master("local[0]").is_err());
    }
}
