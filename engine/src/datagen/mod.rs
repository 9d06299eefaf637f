//! Deterministic synthetic NYC taxi data in the course's layout: the zone
//! lookup (`root/taxi_zone_lookup.csv`) and monthly green, yellow and fhvhv
//! trip files (`root/raw/{dataset}/{YYYY}/{MM}/{dataset}_tripdata_{YYYY}_{MM}.csv.gz`)
//! with the real files' columns and formats and roughly their
//! distributions. The same spec always gives byte-identical files.

mod months;
mod random;
mod taxi;
#[cfg(test)]
mod tests;
pub mod tpch;
mod zones;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::error::{EngineError, Result};

pub use months::parse_months;
pub use zones::{write_zones, ZONES_FILE};

/// The trip record datasets the course reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    Green,
    Yellow,
    Fhvhv,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Green, Dataset::Yellow, Dataset::Fhvhv];

    /// `green`, `yellow` or `fhvhv`, as in the file names.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Green => "green",
            Dataset::Yellow => "yellow",
            Dataset::Fhvhv => "fhvhv",
        }
    }

    /// `root/raw/{name}/{YYYY}/{MM}/{name}_tripdata_{YYYY}_{MM}.csv.gz`.
    pub fn month_path(self, root: &Path, year: i32, month: u32) -> PathBuf {
        let name = self.name();
        root.join("raw")
            .join(name)
            .join(format!("{year:04}"))
            .join(format!("{month:02}"))
            .join(format!("{name}_tripdata_{year:04}_{month:02}.csv.gz"))
    }

    /// Keys this dataset's random streams.
    fn tag(self) -> u64 {
        match self {
            Dataset::Green => 1,
            Dataset::Yellow => 2,
            Dataset::Fhvhv => 3,
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dataset {
    type Err = EngineError;

    fn from_str(text: &str) -> Result<Dataset> {
        let text = text.trim();
        Dataset::ALL
            .into_iter()
            .find(|dataset| dataset.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                EngineError::spark(
                    "INVALID_PARAMETER_VALUE",
                    format!("Unknown dataset \"{text}\": expected green, yellow or fhvhv."),
                )
            })
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiSpec {
    /// The data root: trip files go under `root/raw/`.
    pub root: PathBuf,
    pub datasets: Vec<Dataset>,
    /// (year, month) pairs.
    pub months: Vec<(i32, u32)>,
    /// Trips per dataset per month.
    pub rows_per_month: u64,
    pub seed: u64,
}

/// One finished file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    /// Data rows, not counting the header.
    pub rows: u64,
    /// The compressed size on disk.
    pub bytes: u64,
}

/// Writes every (dataset, month) trip file of `spec`, several at once,
/// calling `progress` (on this thread) as each one is finished. Returns the
/// files in spec order: datasets, then months. Each file is written under a
/// hidden temporary name and renamed when complete, so an interrupted run
/// leaves no truncated `.csv.gz`; existing files are replaced.
pub fn generate_taxi(
    spec: &TaxiSpec,
    progress: &mut dyn FnMut(&GeneratedFile),
) -> Result<Vec<GeneratedFile>> {
    for &(year, month) in &spec.months {
        months::check_month(year, month)?;
    }
    let mut jobs: Vec<(Dataset, (i32, u32))> = Vec::new();
    for &dataset in &spec.datasets {
        for &month in &spec.months {
            if !jobs.contains(&(dataset, month)) {
                jobs.push((dataset, month));
            }
        }
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<(usize, Result<GeneratedFile>)>();
    let mut finished: Vec<Option<GeneratedFile>> = vec![None; jobs.len()];
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (jobs, next, failed) = (&jobs, &next, &failed);
            scope.spawn(move || {
                while !failed.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(dataset, month)) = jobs.get(index) else {
                        break;
                    };
                    let result = generate_file(spec, dataset, month);
                    let stop = result.is_err();
                    if sender.send((index, result)).is_err() || stop {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (index, result) in receiver {
            match result {
                Ok(file) => {
                    progress(&file);
                    finished[index] = Some(file);
                }
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(error);
                }
            }
        }
    });
    match first_error {
        Some(error) => Err(error),
        None => Ok(finished.into_iter().flatten().collect()),
    }
}

fn generate_file(spec: &TaxiSpec, dataset: Dataset, month: (i32, u32)) -> Result<GeneratedFile> {
    let path = dataset.month_path(&spec.root, month.0, month.1);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| EngineError::io(dir.display().to_string(), e))?;
    }
    let bytes = write_atomically(&path, |out| {
        let mut gzip = GzEncoder::new(out, Compression::fast());
        taxi::write_month(&mut gzip, dataset, month, spec.rows_per_month, spec.seed)?;
        gzip.finish()?;
        Ok(())
    })?;
    Ok(GeneratedFile {
        path,
        rows: spec.rows_per_month,
        bytes,
    })
}

/// Writes `path` through `.{name}.tmp` beside it (hidden, so readers of
/// the directory skip it), renaming it into place once complete. Returns
/// the bytes written.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<u64> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.tmp"));
    let written = File::create(&temporary).and_then(|file| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().metadata().map(|meta| meta.len())
    });
    let renamed = written.and_then(|bytes| fs::rename(&temporary, path).map(|()| bytes));
    renamed.map_err(|e| {
        // Best effort: the write already failed, and a leftover hidden
        // file is harmless.
        let _ = fs::remove_file(&temporary);
        EngineError::io(path.display().to_string(), e)
    })
}
