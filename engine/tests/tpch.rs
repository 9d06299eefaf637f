//! The 22 TPC-H queries in Spark SQL over `tpchgen` data at scale 0.1,
//! each answer compared with what PySpark 4 shows for the same query on the
//! same data (`tpch/answers-sf0.1.txt`, written by `tpch/oracle.py`).

use kiln_engine::datagen::tpch::{write_tpch, TABLES};
use kiln_engine::Session;

fn queries() -> Vec<&'static str> {
    include_str!("tpch/queries.sql")
        .split(";\n")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .collect()
}

/// The expected transcript split per query, keyed by the query's first line.
fn answers() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in include_str!("tpch/answers-sf0.1.txt").lines() {
        if line.starts_with("-- Q") {
            out.push((line.to_string(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

#[test]
fn tpch_answers_match_spark_at_scale_0_1() {
    let data = std::env::temp_dir().join(format!("kiln-tpch-{}", std::process::id()));
    write_tpch(&data, 0.1, 2, &|_| {}).unwrap();
    let session = Session::new("local[2]").unwrap();
    session
        .set_conf("spark.sql.session.timeZone", "UTC")
        .unwrap();
    for table in TABLES {
        let path = data.join(table).display().to_string();
        let df = session.read("parquet", &[path], &[], None).unwrap();
        session.create_temp_view(table, &df, true).unwrap();
    }
    let expected = answers();
    let mut failures = Vec::new();
    for (query, (title, answer)) in queries().iter().zip(&expected) {
        assert!(query.starts_with(title.as_str()), "{title} is not {query}");
        let shown = session
            .sql(query)
            .and_then(|df| df.show_string(100, 0, false))
            .map(|s| if s.ends_with('\n') { s } else { s + "\n" })
            .unwrap_or_else(|e| format!("error: {e}\n"));
        if &shown != answer {
            failures.push(format!(
                "{title}\n--- kiln ---\n{shown}--- spark ---\n{answer}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&data);
    assert_eq!(expected.len(), 22);
    assert!(
        failures.is_empty(),
        "{} of 22 differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
