//! Jobs: events with metrics for every stage and task, and cancellation
//! that stops work quickly and leaves no partial output.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln_engine::exec::events::{EngineEvent, EventListener, JobOutcome, StageKind};
use kiln_engine::exec::join::JoinKind;
use kiln_engine::expr::{col, func, lit, BinaryOp};
use kiln_engine::io::write::{SaveMode, WriteFormat};
use kiln_engine::plan::JoinOn;
use kiln_engine::value::Value;
use kiln_engine::{DataFrame, EngineError, Session};

#[derive(Default)]
struct Recorder(Mutex<Vec<EngineEvent>>);

impl EventListener for Recorder {
    fn on_event(&self, event: &EngineEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

#[test]
fn a_group_by_is_a_job_of_two_stages_with_task_metrics() {
    let session = Session::new("local[2]").unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    let df = session
        .range(0, 1000, 1, None)
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(3i64)))
        .unwrap()
        .aggregate(vec![col("k")], vec![func("count", vec![lit(1)])])
        .unwrap();
    assert_eq!(df.collect().unwrap().len(), 3);
    let events = recorder.0.lock().unwrap().clone();
    let stages: Vec<(StageKind, usize)> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::StageStart { kind, tasks, .. } => Some((*kind, *tasks)),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        vec![(StageKind::ShuffleMap, 2), (StageKind::Result, 1)]
    );
    let map_rows: u64 = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::StageEnd { stage, metrics, .. } if *stage == 0 => Some(metrics.rows_out),
            _ => None,
        })
        .sum();
    assert_eq!(
        map_rows, 6,
        "partial aggregation: 3 keys in each of 2 partitions"
    );
    assert!(matches!(events.first(), Some(EngineEvent::JobStart { .. })));
    assert!(matches!(
        events.last(),
        Some(EngineEvent::JobEnd {
            outcome: JobOutcome::Succeeded,
            ..
        })
    ));
}

#[test]
fn cancelling_stops_a_job_promptly() {
    let session = Session::new("local[2]").unwrap();
    let df = session
        .range(0, 400_000_000, 1, Some(400))
        .unwrap()
        .select(vec![func(
            "sum",
            vec![col("id").binary(BinaryOp::Multiply, lit(2i64))],
        )])
        .unwrap();
    let canceller = session.clone();
    let cancelled_at = Arc::new(Mutex::new(None));
    let mark = cancelled_at.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        *mark.lock().unwrap() = Some(Instant::now());
        canceller.events().cancel_all();
    });
    let result = df.collect();
    let returned = Instant::now();
    handle.join().unwrap();
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    let at = cancelled_at.lock().unwrap().expect("cancel happened");
    // Half a second is typical; the bound leaves room for a loaded machine
    // while still far below the minutes the whole job would take.
    assert!(returned.duration_since(at) < Duration::from_secs(2));
}

#[test]
fn a_cancelled_write_leaves_no_output() {
    let session = Session::new("local[2]").unwrap();
    let dir = std::env::temp_dir().join(format!("kiln-cancel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let df = session.range(0, 200_000_000, 1, Some(200)).unwrap();
    let canceller = session.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        canceller.events().cancel_all();
    });
    let format = WriteFormat::Parquet {
        compression: "snappy".into(),
    };
    let result = df.write(&dir, SaveMode::ErrorIfExists, format, vec![]);
    handle.join().unwrap();
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert!(!dir.exists(), "no partial output may remain");
}

/// A session whose shuffles keep `budget` in memory and spill the rest to a
/// scratch directory of its own, with a recorder of its events.
fn spilling_session(tag: &str, budget: &str) -> (Session, std::path::PathBuf, Arc<Recorder>) {
    let session = Session::new("local[2]").unwrap();
    let scratch = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    session
        .set_conf("spark.kiln.shuffle.memoryBudget", budget)
        .unwrap();
    session
        .set_conf("spark.local.dir", &scratch.display().to_string())
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    (session, scratch, recorder)
}

/// `id` in `0..rows` and `v`, the id scrambled into `0..modulus`.
fn scrambled_range(session: &Session, rows: i64, partitions: usize, modulus: i64) -> DataFrame {
    session
        .range(0, rows, 1, Some(partitions))
        .unwrap()
        .with_column(
            "v",
            col("id")
                .binary(BinaryOp::Multiply, lit(7919i64))
                .binary(BinaryOp::Modulo, lit(modulus)),
        )
        .unwrap()
}

impl Recorder {
    /// What `pick` takes from each recorded event, in order.
    fn picked<T>(&self, pick: impl Fn(&EngineEvent) -> Option<T>) -> Vec<T> {
        self.0.lock().unwrap().iter().filter_map(pick).collect()
    }

    fn spilled_bytes(&self) -> u64 {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                EngineEvent::StageEnd { metrics, .. } => Some(metrics.spill_bytes),
                _ => None,
            })
            .sum()
    }
}

#[test]
fn spilled_buckets_of_strings_hold_only_their_own_rows() {
    let (session, scratch, recorder) = spilling_session("kiln-spill-strings", "1KB");
    let rows = 40_000i64;
    let df = session
        .range(0, rows, 1, Some(1))
        .unwrap()
        .with_column(
            "s",
            func(
                "concat",
                vec![
                    lit("a string longer than a view's inline twelve bytes #"),
                    col("id"),
                ],
            ),
        )
        .unwrap()
        .repartition(Some(16), vec![])
        .unwrap();
    assert_eq!(df.collect().unwrap().len(), rows as usize);
    let spilled = recorder.spilled_bytes();
    // Each row is ~58 string bytes, a 16-byte view and an 8-byte id: about
    // 3.3 MB in all. A bucket written with the whole frame's strings would
    // make it 16 times that.
    assert!(
        spilled > 2_000_000,
        "the shuffle should have spilled: {spilled}"
    );
    assert!(
        spilled < 8_000_000,
        "spill files repeat other buckets' strings: {spilled}"
    );
    drop(df);
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn shuffles_larger_than_the_memory_budget_spill_and_clean_up() {
    let (session, scratch, recorder) = spilling_session("kiln-spill", "16KB");
    let df = session
        .range(0, 200_000, 1, Some(4))
        .unwrap()
        .repartition(Some(8), vec![])
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(1000i64)))
        .unwrap()
        .aggregate(vec![col("k")], vec![func("sum", vec![col("id")])])
        .unwrap();
    let rows = df.collect().unwrap();
    assert_eq!(rows.len(), 1000);
    let total: i64 = rows
        .iter()
        .map(|r| match r[1] {
            kiln_engine::value::Value::Long(v) => v,
            _ => 0,
        })
        .sum();
    assert_eq!(total, (0..200_000i64).sum::<i64>());
    let spilled = recorder.spilled_bytes();
    assert!(spilled > 0, "the shuffle should have spilled");
    drop(df);
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    // Far over the part of the budget kept for reuse: not kept past the job.
    assert!(left.is_empty(), "spill files must be removed: {left:?}");
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn a_cached_dataframe_is_computed_once() {
    let session = Session::new("local[2]").unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    let grouped = session
        .range(0, 10_000, 1, None)
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(10i64)))
        .unwrap()
        .aggregate(vec![col("k")], vec![func("count", vec![lit(1)])])
        .unwrap()
        .persist();
    assert!(grouped.is_cached());
    let stages = |r: &Recorder| {
        r.0.lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, EngineEvent::StageStart { .. }))
            .count()
    };
    assert_eq!(grouped.count().unwrap(), 10);
    let after_first = stages(&recorder);
    assert_eq!(grouped.count().unwrap(), 10);
    let filtered = grouped.filter(col("k").gt(lit(4i64))).unwrap();
    assert_eq!(filtered.count().unwrap(), 5);
    let shuffle_maps = map_stages(&recorder, Some(2));
    // Only the first action ran the group-by's map stage over the range.
    assert_eq!(shuffle_maps, 1, "after {after_first} stages");
    grouped.unpersist();
    assert!(!grouped.is_cached());
}

#[test]
fn sampling_is_deterministic_per_seed() {
    let session = Session::new("local[2]").unwrap();
    let df = session.range(0, 100_000, 1, None).unwrap();
    let a = df.sample(false, 0.1, 42).unwrap().count().unwrap();
    let b = df.sample(false, 0.1, 42).unwrap().count().unwrap();
    assert_eq!(a, b);
    assert!((9_000..11_000).contains(&a), "{a}");
    let with = df.sample(true, 0.5, 7).unwrap().count().unwrap();
    assert!((45_000..55_000).contains(&with), "{with}");
    assert!(df.sample(false, 1.5, 1).is_err());
}

#[test]
fn source_tasks_report_the_rows_and_bytes_they_read() {
    let session = Session::new("local[2]").unwrap();
    let dir = std::env::temp_dir().join(format!("kiln-read-metrics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let source = session.range(0, 50_000, 1, Some(2)).unwrap();
    let parquet = WriteFormat::Parquet {
        compression: "snappy".into(),
    };
    source
        .write(&dir.join("pq"), SaveMode::Overwrite, parquet, vec![])
        .unwrap();
    source
        .write(
            &dir.join("csv"),
            SaveMode::Overwrite,
            WriteFormat::Csv {
                header: false,
                separator: b',',
                null_value: String::new(),
                compression: None,
            },
            vec![],
        )
        .unwrap();
    for format in ["parquet", "csv"] {
        let sub = if format == "parquet" { "pq" } else { "csv" };
        let recorder = Arc::new(Recorder::default());
        session.events().add_listener(recorder.clone());
        let path = dir.join(sub).display().to_string();
        let df = session.read(format, &[path], &[], None).unwrap();
        assert_eq!(df.collect().unwrap().len(), 50_000);
        let (rows, bytes) = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                EngineEvent::TaskEnd { metrics, .. } => {
                    Some((metrics.rows_read, metrics.bytes_read))
                }
                _ => None,
            })
            .fold((0, 0), |(r, b), (r2, b2)| (r + r2, b + b2));
        assert_eq!(rows, 50_000, "{format}");
        assert!(bytes > 10_000, "{format}: {bytes} bytes read");
        let listener: Arc<dyn EventListener> = recorder;
        session.events().remove_listener(&listener);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broadcast_join_builds_its_small_side_in_a_broadcast_stage() {
    let session = Session::new("local[2]").unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    let big = session.range(0, 10_000, 1, Some(4)).unwrap();
    let small = session.range(0, 10, 1, Some(1)).unwrap();
    let joined = big
        .join(&small, JoinOn::Using(vec!["id".into()]), JoinKind::Inner)
        .unwrap();
    assert_eq!(joined.collect().unwrap().len(), 10);
    let kinds = recorder.picked(|e| match e {
        EngineEvent::StageStart { kind, .. } => Some(*kind),
        _ => None,
    });
    assert!(kinds.contains(&StageKind::Broadcast), "{kinds:?}");
}

#[test]
fn taking_a_few_rows_of_a_large_file_reads_one_batch_not_the_partition() {
    let session = Session::new("local[2]").unwrap();
    let dir = std::env::temp_dir().join(format!("kiln-take-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    session
        .range(0, 1_000_000, 1, Some(1))
        .unwrap()
        .write(
            &dir,
            SaveMode::Overwrite,
            WriteFormat::Parquet {
                compression: "snappy".into(),
            },
            vec![],
        )
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    let df = session
        .read("parquet", &[dir.display().to_string()], &[], None)
        .unwrap();
    assert_eq!(df.take(20).unwrap().len(), 20);
    assert_eq!(df.preview(20).unwrap().rows.len(), 20);
    let read = recorder.picked(|e| match e {
        EngineEvent::JobEnd { rows_read, .. } => Some(*rows_read),
        _ => None,
    });
    assert!(
        read.len() == 2 && read.iter().all(|r| *r > 0 && *r <= 200_000),
        "{read:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Shuffle map stages a recorder saw start (of `tasks` tasks, if given).
fn map_stages(recorder: &Recorder, tasks: Option<usize>) -> usize {
    recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| match e {
            EngineEvent::StageStart {
                kind: StageKind::ShuffleMap,
                tasks: n,
                ..
            } => tasks.is_none_or(|t| t == *n),
            _ => false,
        })
        .count()
}

#[test]
fn a_later_query_over_the_same_aggregate_reuses_its_shuffle_until_the_input_changes() {
    let dir = std::env::temp_dir().join(format!("kiln-reuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trips.csv");
    std::fs::write(&file, "zone,amount\na,1\nb,2\na,3\n").unwrap();
    let session = Session::new("local[2]").unwrap();
    let recorder = Arc::new(Recorder::default());
    session.events().add_listener(recorder.clone());
    let options = vec![
        ("header".to_string(), "true".to_string()),
        ("inferSchema".to_string(), "true".to_string()),
    ];
    let report = session
        .read("csv", &[file.display().to_string()], &options, None)
        .unwrap()
        .aggregate(vec![col("zone")], vec![func("sum", vec![col("amount")])])
        .unwrap();
    let totals = |df: &kiln_engine::DataFrame| {
        let mut rows: Vec<String> = df
            .collect()
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        rows.sort();
        rows
    };
    let shown = totals(&report.limit(20));
    assert_eq!(map_stages(&recorder, None), 1);
    // Showing, then writing: the second query runs only the reduce side.
    assert_eq!(totals(&report.coalesce(1).unwrap()), shown);
    assert_eq!(map_stages(&recorder, None), 1);
    // A query planned differently above the shuffle reuses it too.
    let zone_a = report.filter(col("zone").eq(lit("a"))).unwrap();
    assert_eq!(zone_a.collect().unwrap().len(), 1);
    assert_eq!(map_stages(&recorder, None), 1);

    // The file changed (same length, new modification time): read again.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&file, "zone,amount\na,1\nb,2\nc,3\n").unwrap();
    assert_eq!(report.collect().unwrap().len(), 3);
    assert_eq!(map_stages(&recorder, None), 2);

    // A function of the current time is evaluated again by every query.
    let stamped = report
        .with_column("at", func("current_timestamp", vec![]))
        .unwrap()
        .aggregate(vec![col("at")], vec![func("count", vec![lit(1)])])
        .unwrap();
    stamped.collect().unwrap();
    stamped.collect().unwrap();
    assert_eq!(
        map_stages(&recorder, None),
        4,
        "the report's shuffle is reused, the time-stamped aggregate's is not"
    );

    // Dropping the cache forgets the shuffles as well.
    session.clear_cache();
    report.collect().unwrap();
    assert_eq!(map_stages(&recorder, None), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_global_sort_over_parquet_samples_its_keys_first_and_streams_its_input() {
    let (session, scratch, recorder) = spilling_session("kiln-range-sample", "64KB");
    let dir = scratch.join("input");
    scrambled_range(&session, 50_000, 4, 10_007)
        .write(
            &dir,
            SaveMode::ErrorIfExists,
            WriteFormat::Parquet {
                compression: "snappy".into(),
            },
            vec![],
        )
        .unwrap();
    recorder.0.lock().unwrap().clear();
    let sorted = session
        .read("parquet", &[dir.display().to_string()], &[], None)
        .unwrap()
        .order_by(vec![col("v").desc(), col("id")])
        .unwrap();
    let rows = sorted.collect().unwrap();
    let keys: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| match (&r[1], &r[0]) {
            (Value::Long(v), Value::Long(id)) => (-*v, *id),
            other => panic!("unexpected row {other:?}"),
        })
        .collect();
    assert_eq!(keys.len(), 50_000);
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "not globally sorted");
    // The key sample is a stage before the map stage, and the map stage
    // streamed the input into buckets, spilling past the budget.
    let kinds = recorder.picked(|e| match e {
        EngineEvent::StageStart { kind, .. } => Some(*kind),
        _ => None,
    });
    assert_eq!(
        kinds,
        vec![StageKind::Result, StageKind::ShuffleMap, StageKind::Result]
    );
    assert!(recorder.spilled_bytes() > 0);
    drop(sorted);
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn a_global_sort_written_to_parquet_comes_out_in_order_batch_by_batch() {
    let (session, scratch, _recorder) = spilling_session("kiln-sorted-write", "256KB");
    let out = scratch.join("sorted");
    let rows = 300_000i64;
    scrambled_range(&session, rows, 3, 1_009)
        .order_by(vec![col("v").desc(), col("id")])
        .unwrap()
        // A projection after the sort runs on each sorted batch.
        .select(vec![col("id"), col("v").alias("key")])
        .unwrap()
        .write(
            &out,
            SaveMode::ErrorIfExists,
            WriteFormat::Parquet {
                compression: "snappy".into(),
            },
            vec![],
        )
        .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let mut keys = Vec::new();
    for file in &files {
        let part = session
            .read("parquet", &[file.display().to_string()], &[], None)
            .unwrap()
            .collect()
            .unwrap();
        keys.extend(part.iter().map(|r| match (&r[1], &r[0]) {
            (Value::Long(v), Value::Long(id)) => (-*v, *id),
            other => panic!("unexpected row {other:?}"),
        }));
    }
    assert_eq!(keys.len(), rows as usize);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "not globally sorted");
    std::fs::remove_dir_all(&scratch).unwrap();
}
