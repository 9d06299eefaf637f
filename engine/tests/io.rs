//! Reading CSV and Parquet and writing through the commit protocol, checked
//! against what Spark 4 does with the same files.

use std::path::{Path, PathBuf};

use kiln_engine::exec::exchange::ShuffleExchangeExec;
use kiln_engine::expr::{col, func, lit, BinaryOp};
use kiln_engine::io::write::{SaveMode, WriteFormat};
use kiln_engine::types::{DataType, Schema, StructField};
use kiln_engine::value::Value;
use kiln_engine::Session;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("kiln-io-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn session() -> Session {
    let s = Session::new("local[2]").unwrap();
    s.set_conf("spark.sql.session.timeZone", "UTC").unwrap();
    s
}

fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parquet() -> WriteFormat {
    WriteFormat::Parquet {
        compression: "snappy".into(),
    }
}

fn write_gzip(path: &Path, text: &str) {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
}

/// A CSV of `rows` lines `id,label`, ids counting from 0, with its header.
fn numbered_lines(rows: i64) -> String {
    let mut text = String::from("id,label\n");
    for i in 0..rows {
        text.push_str(&format!("{i},row number {i:>16}\n"));
    }
    text
}

/// The types of `numbered_lines`.
fn numbered_schema() -> Schema {
    Schema::new(vec![
        StructField::new("id", DataType::Long, true),
        StructField::new("label", DataType::String, true),
    ])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const TRICKY: &str = "a,b,c\r\n1,\"\",x\r\n2,,\"y, z\"\r\n,3,\r\nbad,4,5,6\r\n";

#[test]
fn csv_with_header_quotes_crlf_and_empty_fields() {
    let dir = TempDir::new("csv");
    let file = dir.path("t.csv");
    std::fs::write(&file, TRICKY).unwrap();
    let s = session();
    let df = s
        .read(
            "csv",
            &[file.display().to_string()],
            &opts(&[("header", "true")]),
            None,
        )
        .unwrap();
    let text = df.show_string(20, 20, false).unwrap();
    assert_eq!(
        text,
        "+----+----+----+\n|   a|   b|   c|\n+----+----+----+\n|   1|NULL|   x|\n|   2|NULL|y, z|\n\
         |NULL|   3|NULL|\n| bad|   4|   5|\n+----+----+----+\n"
    );
    let inferred = s
        .read(
            "csv",
            &[file.display().to_string()],
            &opts(&[("header", "true"), ("inferSchema", "true")]),
            None,
        )
        .unwrap();
    assert_eq!(
        inferred.schema().tree_string(),
        "root\n |-- a: string (nullable = true)\n |-- b: integer (nullable = true)\n |-- c: string (nullable = true)\n"
    );
}

#[test]
fn csv_parse_modes() {
    let dir = TempDir::new("modes");
    let file = dir.path("t.csv");
    std::fs::write(&file, TRICKY).unwrap();
    let s = session();
    let schema = Schema::new(vec![
        StructField::new("a", DataType::Integer, true),
        StructField::new("b", DataType::Integer, true),
        StructField::new("c", DataType::String, true),
        StructField::new("_corrupt_record", DataType::String, true),
    ]);
    let paths = [file.display().to_string()];
    let permissive = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true")]),
            Some(schema.clone()),
        )
        .unwrap();
    let rows = permissive.collect().unwrap();
    assert_eq!(
        rows[3],
        vec![
            Value::Null,
            Value::Integer(4),
            Value::String("5".into()),
            Value::String("bad,4,5,6".into())
        ]
    );
    assert_eq!(rows[0][3], Value::Null);
    let dropped = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true"), ("mode", "DROPMALFORMED")]),
            Some(schema.clone()),
        )
        .unwrap();
    assert_eq!(dropped.count().unwrap(), 3);
    let failfast = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true"), ("mode", "FAILFAST")]),
            Some(schema),
        )
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(failfast.starts_with("[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: [bad,4,5,6]"), "{failfast}");
    assert!(failfast.contains("line 5"), "{failfast}");
}

#[test]
fn gzip_csv_is_one_partition_and_split_csv_is_many() {
    let dir = TempDir::new("gz");
    let mut text = String::from("id,name\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},name-{i}\n"));
    }
    let plain = dir.path("big.csv");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path("big.csv.gz");
    write_gzip(&gz, &text);
    let s = session();
    // Small splits: every row must be read exactly once.
    s.set_conf("spark.sql.files.maxPartitionBytes", "20000")
        .unwrap();
    s.set_conf("spark.sql.files.openCostInBytes", "1000")
        .unwrap();
    let header = opts(&[("header", "true")]);
    let split = s
        .read("csv", &[plain.display().to_string()], &header, None)
        .unwrap();
    assert!(split.num_partitions().unwrap() > 5);
    assert_eq!(split.count().unwrap(), 20_000);
    assert_eq!(split.distinct().count().unwrap(), 20_000);
    let compressed = s
        .read("csv", &[gz.display().to_string()], &header, None)
        .unwrap();
    assert_eq!(compressed.num_partitions().unwrap(), 1);
    assert_eq!(compressed.count().unwrap(), 20_000);
}

#[test]
fn gzip_csv_larger_than_a_decompressed_block_keeps_every_row_once() {
    let dir = TempDir::new("gzblocks");
    // About 24 MB decompressed: three blocks of the streaming reader, so
    // rows meet block boundaries; the last row is malformed.
    let rows = 700_000i64;
    let mut text = numbered_lines(rows);
    text.push_str("oops,last\n");
    let gz = dir.path("rows.csv.gz");
    write_gzip(&gz, &text);
    let paths = [gz.display().to_string()];
    let s = session();
    let schema = numbered_schema();
    let df = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true")]),
            Some(schema.clone()),
        )
        .unwrap();
    let totals = df
        .aggregate(
            vec![],
            vec![
                func("count", vec![col("label")]),
                func("sum", vec![col("id")]),
                func("count", vec![col("id")]),
            ],
        )
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(
        totals[0],
        vec![
            Value::Long(rows + 1),
            Value::Long(rows * (rows - 1) / 2),
            Value::Long(rows)
        ]
    );
    let inferred = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true"), ("inferSchema", "true")]),
            None,
        )
        .unwrap();
    assert_eq!(inferred.schema().fields[0].data_type, DataType::String);
    let failfast = s
        .read(
            "csv",
            &paths,
            &opts(&[("header", "true"), ("mode", "FAILFAST")]),
            Some(schema),
        )
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(
        failfast.contains(&format!("line {}", rows + 2)),
        "{failfast}"
    );
}

#[test]
fn parquet_write_follows_the_commit_protocol() {
    let dir = TempDir::new("pq");
    let s = session();
    let out = dir.path("pq");
    let df = s.range(0, 10, 1, None).unwrap();
    let summary = df
        .write(&out, SaveMode::ErrorIfExists, parquet(), vec![])
        .unwrap();
    assert_eq!(summary.files.len(), 2);
    let names = names_in(&out);
    assert_eq!(names.len(), 3);
    assert_eq!(names[0], "_SUCCESS");
    assert!(
        names[1].starts_with("part-00000-") && names[1].ends_with("-c000.snappy.parquet"),
        "{names:?}"
    );
    assert!(names[2].starts_with("part-00001-"), "{names:?}");
    assert_eq!(names[1][11..47], names[2][11..47], "one uuid per write");
    let err = df
        .write(&out, SaveMode::ErrorIfExists, parquet(), vec![])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("[PATH_ALREADY_EXISTS] Path file:{} already exists. Set mode as \"overwrite\" to overwrite the existing path. SQLSTATE: 42K04", out.display())
    );
    df.write(&out, SaveMode::Append, parquet(), vec![]).unwrap();
    let back = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    assert_eq!(back.count().unwrap(), 20);
    assert_eq!(
        back.schema().tree_string(),
        "root\n |-- id: long (nullable = true)\n"
    );
    df.write(&out, SaveMode::Ignore, parquet(), vec![]).unwrap();
    s.range(0, 0, 1, None)
        .unwrap()
        .write(&out, SaveMode::Overwrite, parquet(), vec![])
        .unwrap();
    let names = names_in(&out);
    assert_eq!(
        names.len(),
        2,
        "an empty result still writes one file: {names:?}"
    );
    assert_eq!(
        s.read("parquet", &[out.display().to_string()], &[], None)
            .unwrap()
            .count()
            .unwrap(),
        0
    );
}

#[test]
fn repartition_writes_one_file_per_partition_and_reads_back_by_glob() {
    let dir = TempDir::new("layout");
    let s = session();
    let df = s
        .range(0, 1000, 1, None)
        .unwrap()
        .repartition(Some(4), vec![])
        .unwrap();
    for month in ["01", "02"] {
        let out = dir.path(&format!("pq/green/2020/{month}"));
        df.write(&out, SaveMode::Overwrite, parquet(), vec![])
            .unwrap();
        let parts = names_in(&out)
            .into_iter()
            .filter(|n| n.starts_with("part-"))
            .count();
        assert_eq!(parts, 4);
    }
    let glob = format!("{}/pq/green/*/*", dir.0.display());
    let back = s.read("parquet", &[glob], &[], None).unwrap();
    assert_eq!(back.count().unwrap(), 2000);
    // Eight small files on two cores pack into two partitions.
    assert_eq!(back.num_partitions().unwrap(), 2);
}

#[test]
fn repartitioned_gzip_csv_is_written_as_its_buckets_are_cut() {
    let dir = TempDir::new("gzwrite");
    // About 12 MB decompressed: two blocks of the streaming reader, so each
    // file gets pieces of both.
    let rows = 400_000i64;
    let text = numbered_lines(rows);
    let gz = dir.path("rows.csv.gz");
    write_gzip(&gz, &text);
    let s = session();
    let df = s
        .read(
            "csv",
            &[gz.display().to_string()],
            &opts(&[("header", "true")]),
            Some(numbered_schema()),
        )
        .unwrap();
    let ids_of = |file: &Path| -> Vec<i64> {
        s.read("parquet", &[file.display().to_string()], &[], None)
            .unwrap()
            .select(vec![col("id")])
            .unwrap()
            .collect()
            .unwrap()
            .into_iter()
            .map(|row| match row[0] {
                Value::Long(id) => id,
                ref other => panic!("id {other:?}"),
            })
            .collect()
    };
    // Round-robin: file k holds every fifth row, in the input's order.
    let out = dir.path("round_robin");
    let repartitioned = df.repartition(Some(5), vec![]).unwrap();
    let plan = repartitioned.physical_plan().unwrap();
    let exchange = plan.as_any().downcast_ref::<ShuffleExchangeExec>();
    assert!(exchange.is_some_and(|e| e.can_stream_buckets()));
    let summary = repartitioned
        .write(&out, SaveMode::Overwrite, parquet(), vec![])
        .unwrap();
    assert_eq!(summary.files.len(), 5);
    assert_eq!(summary.rows, rows as u64);
    let mut residues = Vec::new();
    for file in &summary.files {
        let ids = ids_of(file);
        assert!(ids.len() as i64 >= rows / 5 - 1, "{}", ids.len());
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 5), "{file:?}");
        residues.push(ids[0] % 5);
    }
    residues.sort();
    assert_eq!(residues, vec![0, 1, 2, 3, 4]);
    // Hashed: every row once, each file in the input's order.
    let out = dir.path("hashed");
    let summary = df
        .repartition(Some(3), vec![col("id")])
        .unwrap()
        .write(&out, SaveMode::Overwrite, parquet(), vec![])
        .unwrap();
    let mut all = Vec::new();
    for file in &summary.files {
        let ids = ids_of(file);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{file:?}");
        all.extend(ids);
    }
    all.sort();
    assert_eq!(all, (0..rows).collect::<Vec<_>>());
}

#[test]
fn partition_by_directories_round_trip() {
    let dir = TempDir::new("partby");
    let s = session();
    let even = col("id").binary(
        kiln_engine::expr::BinaryOp::Modulo,
        kiln_engine::expr::lit(2i64),
    );
    let df = s
        .range(0, 10, 1, None)
        .unwrap()
        .with_column("even", even)
        .unwrap();
    let out = dir.path("by");
    df.write(
        &out,
        SaveMode::ErrorIfExists,
        parquet(),
        vec!["even".into()],
    )
    .unwrap();
    let names = names_in(&out);
    assert_eq!(names, vec!["_SUCCESS", "even=0", "even=1"]);
    let back = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    assert_eq!(back.columns(), vec!["id", "even"]);
    assert_eq!(back.schema().fields[1].data_type, DataType::Integer);
    let odd = back
        .filter(col("even").eq(kiln_engine::expr::lit(1)))
        .unwrap();
    assert_eq!(odd.count().unwrap(), 5);
}

#[test]
fn overwriting_the_input_is_refused_and_keeps_the_data() {
    let dir = TempDir::new("self");
    let s = session();
    let out = dir.path("data");
    s.range(0, 5, 1, None)
        .unwrap()
        .write(&out, SaveMode::ErrorIfExists, parquet(), vec![])
        .unwrap();
    let df = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    let err = df
        .write(&out, SaveMode::Overwrite, parquet(), vec![])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("[UNSUPPORTED_OVERWRITE.PATH]"), "{err}");
    assert_eq!(df.count().unwrap(), 5);
}

#[test]
fn missing_paths_say_which() {
    let s = session();
    let err = s
        .read("parquet", &["/definitely/not/here".into()], &[], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "[PATH_NOT_FOUND] Path does not exist: file:/definitely/not/here. SQLSTATE: 42K03"
    );
}

#[test]
fn scans_read_only_needed_columns_and_skip_pruned_files_and_row_groups() {
    use kiln_engine::exec::pipeline::PipelineExec;
    use kiln_engine::exec::TaskContext;
    use kiln_engine::io::parquet::ParquetScanExec;
    let dir = TempDir::new("prune");
    let s = session();
    let even = col("id").binary(
        kiln_engine::expr::BinaryOp::Modulo,
        kiln_engine::expr::lit(2i64),
    );
    let df = s
        .range(0, 100, 1, None)
        .unwrap()
        .with_column("even", even)
        .unwrap()
        .with_column("label", kiln_engine::expr::lit("x"))
        .unwrap();
    let out = dir.path("t");
    df.write(
        &out,
        SaveMode::ErrorIfExists,
        parquet(),
        vec!["even".into()],
    )
    .unwrap();
    let back = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    let query = back
        .filter(col("even").eq(kiln_engine::expr::lit(1)))
        .unwrap()
        .filter(col("id").gt(kiln_engine::expr::lit(1000i64)))
        .unwrap()
        .select(vec![col("id")])
        .unwrap();
    assert_eq!(query.count().unwrap(), 0);
    let plan = query.physical_plan().unwrap();
    let mut node = plan.clone();
    let scan = loop {
        if let Some(scan) = node.as_any().downcast_ref::<ParquetScanExec>() {
            break scan;
        }
        let pipeline = node
            .as_any()
            .downcast_ref::<PipelineExec>()
            .expect("pipelines down to the scan");
        node = pipeline.input.clone();
    };
    assert!(!scan.files.is_empty());
    assert!(
        scan.files
            .iter()
            .all(|f| f.path.display().to_string().contains("even=1")),
        "only the even=1 directory is read"
    );
    assert_eq!(scan.schema.names(), vec!["id", "even"]);
    assert_eq!(scan.predicates.len(), 1);
    let rows: usize = (0..scan.partitions.len())
        .map(|p| {
            kiln_engine::exec::ExecutionPlan::execute(scan, p, &TaskContext::default())
                .unwrap()
                .height()
        })
        .sum();
    assert_eq!(rows, 0, "row-group statistics rule out id > 1000");
}

#[test]
fn timestamps_dates_and_decimals_round_trip_through_parquet() {
    let dir = TempDir::new("types");
    let s = session();
    let schema = Schema::new(vec![
        StructField::new("ts", DataType::Timestamp, true),
        StructField::new("day", DataType::Date, true),
        StructField::new("amount", DataType::Decimal(10, 2), true),
        StructField::new("name", DataType::String, true),
    ]);
    let rows = vec![
        vec![
            Value::Timestamp(1_609_461_224_000_000),
            Value::Date(18_676),
            Value::Decimal(1820, 10, 2),
            Value::String("a".into()),
        ],
        vec![Value::Null, Value::Null, Value::Null, Value::Null],
    ];
    let df = s.create_dataframe(rows.clone(), schema.clone()).unwrap();
    let out = dir.path("types");
    df.write(&out, SaveMode::ErrorIfExists, parquet(), vec![])
        .unwrap();
    let back = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    assert_eq!(back.schema().tree_string(), schema.tree_string());
    let mut got = back.collect().unwrap();
    got.sort_by_key(|r| r[0].is_null());
    assert_eq!(got, rows);
}

#[test]
fn aggregates_over_many_parquet_batches_merge_their_partial_states() {
    let dir = TempDir::new("batches");
    let s = session();
    let out = dir.path("ids");
    // One file of 600,000 rows: the scan reads it in several batches.
    s.range(0, 600_000, 1, None)
        .unwrap()
        .coalesce(1)
        .unwrap()
        .write(&out, SaveMode::Overwrite, parquet(), vec![])
        .unwrap();
    let ids = s
        .read("parquet", &[out.display().to_string()], &[], None)
        .unwrap();
    let modulo = |n: i64| col("id").binary(BinaryOp::Modulo, lit(n));

    // Few groups: one state per group, whatever the number of batches.
    let mut small = ids
        .aggregate(
            vec![modulo(7).alias("k")],
            vec![
                func("count", vec![lit(1)]),
                func("sum", vec![col("id")]),
                func("min", vec![col("id")]),
            ],
        )
        .unwrap()
        .collect()
        .unwrap();
    small.sort_by_key(|r| format!("{:?}", r[0]));
    for (k, row) in small.iter().enumerate() {
        let k = k as i64;
        let members: Vec<i64> = (0..600_000).filter(|i| i % 7 == k).collect();
        assert_eq!(
            row,
            &vec![
                Value::Long(k),
                Value::Long(members.len() as i64),
                Value::Long(members.iter().sum()),
                Value::Long(k),
            ]
        );
    }

    // Many groups: the states outgrow the bound and are merged on the way.
    let many = ids
        .aggregate(
            vec![modulo(250_000).alias("k")],
            vec![func("count", vec![lit(1)]).alias("n")],
        )
        .unwrap();
    assert_eq!(many.count().unwrap(), 250_000);
    let counts = many
        .aggregate(
            vec![col("n")],
            vec![func("count", vec![lit(1)]).alias("groups")],
        )
        .unwrap();
    let mut counts = counts.collect().unwrap();
    counts.sort_by_key(|r| format!("{:?}", r[0]));
    // 600,000 = 2 * 250,000 + 100,000: keys below 100,000 occur three times.
    assert_eq!(
        counts,
        vec![
            vec![Value::Long(2), Value::Long(150_000)],
            vec![Value::Long(3), Value::Long(100_000)],
        ]
    );

    // dropDuplicates keeps each key's first row, across batches too.
    let firsts = ids
        .with_column("k", modulo(1000))
        .unwrap()
        .drop_duplicates(&["k".to_string()])
        .unwrap();
    let rows = firsts.collect().unwrap();
    assert_eq!(rows.len(), 1000);
    assert!(rows
        .iter()
        .all(|r| matches!((&r[0], &r[1]), (Value::Long(id), Value::Long(k)) if id == k)));
}
