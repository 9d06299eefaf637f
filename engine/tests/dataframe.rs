//! End-to-end behaviour of the DataFrame API against hand-computed results
//! and Spark's text output.

use kiln_engine::expr::{col, func, lit, BinaryOp, Expr};
use kiln_engine::types::{DataType, Schema, StructField};
use kiln_engine::value::Value;
use kiln_engine::Session;

fn session() -> Session {
    Session::new("local[2]").unwrap()
}

fn trips(session: &Session) -> kiln_engine::DataFrame {
    let schema = Schema::new(vec![
        StructField::new("zone", DataType::String, true),
        StructField::new("hour", DataType::Integer, true),
        StructField::new("amount", DataType::Double, true),
    ]);
    let rows = vec![
        vec![
            Value::String("JFK".into()),
            Value::Integer(1),
            Value::Double(10.5),
        ],
        vec![
            Value::String("JFK".into()),
            Value::Integer(2),
            Value::Double(20.0),
        ],
        vec![
            Value::String("Midtown".into()),
            Value::Integer(1),
            Value::Double(7.25),
        ],
        vec![Value::Null, Value::Integer(3), Value::Null],
        vec![
            Value::String("Midtown".into()),
            Value::Null,
            Value::Double(3.0),
        ],
    ];
    session.create_dataframe(rows, schema).unwrap()
}

#[test]
fn range_shows_like_spark() {
    let df = session().range(0, 25, 1, None).unwrap();
    let text = df.show_string(3, 20, false).unwrap();
    assert_eq!(
        text,
        "+---+\n| id|\n+---+\n|  0|\n|  1|\n|  2|\n+---+\nonly showing top 3 rows"
    );
    assert_eq!(df.count().unwrap(), 25);
    assert_eq!(df.num_partitions().unwrap(), 2);
}

#[test]
fn local_data_partitions_follow_spark() {
    let s = session();
    let one = s
        .create_dataframe(
            vec![vec![Value::Long(1)]],
            Schema::new(vec![StructField::new("x", DataType::Long, true)]),
        )
        .unwrap();
    assert_eq!(one.num_partitions().unwrap(), 1);
    assert_eq!(trips(&s).num_partitions().unwrap(), 2);
}

#[test]
fn select_filter_with_column() {
    let s = session();
    let df = trips(&s)
        .filter(col("AMOUNT").gt(lit(5.0)))
        .unwrap()
        .with_column("double", col("amount").binary(BinaryOp::Multiply, lit(2)))
        .unwrap()
        .select(vec![
            col("zone"),
            col("double"),
            func("upper", vec![col("zone")]),
        ])
        .unwrap();
    assert_eq!(df.columns(), vec!["zone", "double", "upper(zone)"]);
    let text = df.show_string(20, 20, false).unwrap();
    assert_eq!(
        text,
        "+-------+------+-----------+\n|   zone|double|upper(zone)|\n+-------+------+-----------+\n\
         |    JFK|  21.0|        JFK|\n|    JFK|  40.0|        JFK|\n|Midtown|  14.5|    MIDTOWN|\n\
         +-------+------+-----------+\n"
    );
}

#[test]
fn group_by_aggregates_in_two_phases_and_coalesces_to_one_partition() {
    let s = session();
    let df = trips(&s)
        .aggregate(
            vec![col("zone")],
            vec![
                func("count", vec![lit(1)]),
                func("sum", vec![col("amount")]),
                func("max", vec![col("hour")]).alias("latest"),
            ],
        )
        .unwrap()
        .order_by(vec![col("zone").asc()])
        .unwrap();
    assert_eq!(
        df.columns(),
        vec!["zone", "count(1)", "sum(amount)", "latest"]
    );
    assert_eq!(
        df.schema().tree_string(),
        "root\n |-- zone: string (nullable = true)\n |-- count(1): long (nullable = false)\n \
         |-- sum(amount): double (nullable = true)\n |-- latest: integer (nullable = true)\n"
    );
    let rows = df.collect().unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Null, Value::Long(1), Value::Null, Value::Integer(3)],
            vec![
                Value::String("JFK".into()),
                Value::Long(2),
                Value::Double(30.5),
                Value::Integer(2)
            ],
            vec![
                Value::String("Midtown".into()),
                Value::Long(2),
                Value::Double(10.25),
                Value::Integer(1)
            ],
        ]
    );
    let grouped = trips(&s)
        .aggregate(vec![col("zone")], vec![func("count", vec![lit(1)])])
        .unwrap();
    assert_eq!(grouped.num_partitions().unwrap(), 1);
}

#[test]
fn aggregate_expressions_and_global_aggregates() {
    let s = session();
    let df = trips(&s)
        .select(vec![
            func("sum", vec![col("amount")])
                .binary(BinaryOp::Divide, func("count", vec![col("amount")])),
            func("avg", vec![col("amount")]),
            func("count", vec![col("zone")]).alias("zones"),
        ])
        .unwrap();
    let rows = df.collect().unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Value::Double(10.1875),
            Value::Double(10.1875),
            Value::Long(4)
        ]]
    );
    assert_eq!(df.columns()[0], "(sum(amount) / count(amount))");
}

#[test]
fn sort_puts_nulls_first_ascending_and_last_descending() {
    let s = session();
    let asc = trips(&s)
        .order_by(vec![col("hour")])
        .unwrap()
        .select(vec![col("hour")])
        .unwrap();
    let values: Vec<Value> = asc
        .collect()
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        values,
        vec![
            Value::Null,
            Value::Integer(1),
            Value::Integer(1),
            Value::Integer(2),
            Value::Integer(3)
        ]
    );
    let desc = trips(&s)
        .order_by(vec![col("hour").desc()])
        .unwrap()
        .select(vec![col("hour")])
        .unwrap();
    let values: Vec<Value> = desc
        .collect()
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(values.first(), Some(&Value::Integer(3)));
    assert_eq!(values.last(), Some(&Value::Null));
}

#[test]
fn repartition_and_coalesce_counts() {
    let s = session();
    let df = s.range(0, 1000, 1, None).unwrap();
    let r = df.repartition(Some(24), vec![]).unwrap();
    assert_eq!(r.num_partitions().unwrap(), 24);
    assert_eq!(r.count().unwrap(), 1000);
    assert_eq!(r.coalesce(5).unwrap().num_partitions().unwrap(), 5);
    assert_eq!(r.coalesce(50).unwrap().num_partitions().unwrap(), 24);
    let hashed = df.repartition(Some(7), vec![col("id")]).unwrap();
    assert_eq!(hashed.num_partitions().unwrap(), 7);
    // Without an explicit count a hash repartition is coalesced adaptively.
    let adaptive = df.repartition(None, vec![col("id")]).unwrap();
    assert_eq!(adaptive.num_partitions().unwrap(), 1);
}

#[test]
fn union_limit_distinct() {
    let s = session();
    let a = s.range(0, 5, 1, None).unwrap();
    let b = s.range(3, 8, 1, None).unwrap();
    let u = a.union(&b).unwrap();
    assert_eq!(u.count().unwrap(), 10);
    assert_eq!(u.num_partitions().unwrap(), 4);
    assert_eq!(u.distinct().count().unwrap(), 8);
    assert_eq!(u.limit(3).count().unwrap(), 3);
    let dropped = trips(&s).drop_duplicates(&["zone".to_string()]).unwrap();
    assert_eq!(dropped.count().unwrap(), 3);
}

#[test]
fn errors_name_the_column() {
    let s = session();
    let err = trips(&s)
        .select(vec![col("zones")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("[UNRESOLVED_COLUMN.WITH_SUGGESTION]"),
        "{err}"
    );
    assert!(err.contains("[`zone`"), "{err}");
    let err = trips(&s)
        .select(vec![col("hour").binary(BinaryOp::Divide, lit(0))])
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("[DIVIDE_BY_ZERO] Division by zero."),
        "{err}"
    );
    let err = s
        .create_dataframe(
            vec![vec![Value::String("abc".into())]],
            Schema::new(vec![StructField::new("s", DataType::String, true)]),
        )
        .unwrap()
        .select(vec![Expr::Cast(Box::new(col("s")), DataType::Integer)])
        .unwrap()
        .collect()
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "[CAST_INVALID_INPUT] The value 'abc' of the type \"STRING\" cannot be cast to \"INT\""
        ),
        "{err}"
    );
}

#[test]
fn global_sort_range_partitions_keep_order_across_partitions() {
    let s = session();
    s.set_conf("spark.sql.adaptive.advisoryPartitionSizeInBytes", "100KB")
        .unwrap();
    s.set_conf(
        "spark.sql.adaptive.coalescePartitions.minPartitionSize",
        "1KB",
    )
    .unwrap();
    let df = s
        .range(0, 100_000, 1, Some(4))
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(997i64)))
        .unwrap()
        .order_by(vec![col("k").desc(), col("id").asc()])
        .unwrap();
    let partitions = df.num_partitions().unwrap();
    assert!(partitions > 1 && partitions < 200, "{partitions}");
    let rows = df.collect().unwrap();
    assert_eq!(rows.len(), 100_000);
    let keys: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| match (&r[1], &r[0]) {
            (Value::Long(k), Value::Long(id)) => (-k, *id),
            _ => panic!("unexpected row {r:?}"),
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn union_branches_tagged_with_literals_group_by_their_tags() {
    let s = session();
    let tagged = |tag: &str, keep: Expr| {
        trips(&s)
            .filter(keep)
            .unwrap()
            .with_column("service", lit(tag))
            .unwrap()
    };
    let all = lit(true);
    let none = col("hour").binary(BinaryOp::Gt, lit(100));
    let union = tagged("green", all.clone())
        .union(&tagged("yellow", all))
        .unwrap()
        .union(&tagged("fhv", none))
        .unwrap();
    let sorted = |df: kiln_engine::DataFrame| {
        let mut rows = df.collect().unwrap();
        rows.sort_by_key(|r| format!("{r:?}"));
        rows
    };
    // The tag alone: one group per branch that has rows, none for the
    // branch whose filter keeps nothing.
    let by_tag = union
        .aggregate(
            vec![col("service")],
            vec![
                func("count", vec![lit(1)]),
                func("sum", vec![col("amount")]),
            ],
        )
        .unwrap();
    assert_eq!(by_tag.columns(), vec!["service", "count(1)", "sum(amount)"]);
    assert_eq!(
        sorted(by_tag),
        vec![
            vec![
                Value::String("green".into()),
                Value::Long(5),
                Value::Double(40.75)
            ],
            vec![
                Value::String("yellow".into()),
                Value::Long(5),
                Value::Double(40.75)
            ],
        ]
    );
    // The tag between varying keys keeps its place among the columns.
    let by_zone = union
        .aggregate(
            vec![col("zone"), col("service"), col("hour")],
            vec![func("count", vec![lit(1)])],
        )
        .unwrap()
        .filter(col("zone").binary(BinaryOp::Eq, lit("JFK")))
        .unwrap();
    assert_eq!(
        by_zone.columns(),
        vec!["zone", "service", "hour", "count(1)"]
    );
    let row = |service: &str, hour: i32| {
        vec![
            Value::String("JFK".into()),
            Value::String(service.into()),
            Value::Integer(hour),
            Value::Long(1),
        ]
    };
    assert_eq!(
        sorted(by_zone),
        vec![
            row("green", 1),
            row("green", 2),
            row("yellow", 1),
            row("yellow", 2)
        ]
    );
}

#[test]
fn many_small_groups_aggregate_over_many_batches() {
    // Enough rows for several streaming frames per partition, and groups
    // that aggregating a frame hardly shrinks.
    let s = session();
    let df = s
        .range(0, 2_000_000, 1, None)
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(700_000i64)))
        .unwrap()
        .aggregate(
            vec![col("k")],
            vec![
                func("count", vec![lit(1)]).alias("n"),
                func("sum", vec![col("id")]).alias("total"),
            ],
        )
        .unwrap();
    let totals = df
        .aggregate(
            vec![],
            vec![
                func("count", vec![lit(1)]),
                func("sum", vec![col("n")]),
                func("sum", vec![col("total")]),
                func("max", vec![col("n")]),
            ],
        )
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(
        totals,
        vec![vec![
            Value::Long(700_000),
            Value::Long(2_000_000),
            Value::Long(1_999_999 * 2_000_000 / 2),
            Value::Long(3),
        ]]
    );
}

#[test]
fn explain_shows_stage_boundaries_with_spark_node_names() {
    let s = session();
    let df = s
        .range(0, 1000, 1, None)
        .unwrap()
        .with_column("k", col("id").binary(BinaryOp::Modulo, lit(3i64)))
        .unwrap()
        .aggregate(vec![col("k")], vec![func("count", vec![lit(1)])])
        .unwrap();
    assert_eq!(
        df.explain_string(),
        "== Physical Plan ==\nAdaptiveSparkPlan isFinalPlan=false\n\
         +- HashAggregate(keys=[k], functions=[count(1)])\n   \
         +- Exchange hashpartitioning(k, 200), ENSURE_REQUIREMENTS\n      \
         +- HashAggregate(keys=[k], functions=[partial_count(1)])\n         \
         +- Project [(id % 3) AS k]\n            \
         +- Range (0, 1000, step=1, splits=2)\n"
    );
}

#[test]
fn decimal_literals_keep_their_scale() {
    let s = session();
    let seconds = col("id").binary(BinaryOp::Plus, Expr::Literal(Value::Long(65_520)));
    let hour = Expr::Literal(Value::Decimal(36_000, 5, 1));
    let df = s
        .range(0, 1, 1, None)
        .unwrap()
        .select(vec![func(
            "round",
            vec![seconds.binary(BinaryOp::Divide, hour), lit(2)],
        )])
        .unwrap();
    assert_eq!(df.columns(), vec!["round(((id + 65520) / 3600.0), 2)"]);
    assert_eq!(df.schema().fields[0].data_type, DataType::Decimal(24, 2));
    let text = df.show_string(20, 20, false).unwrap();
    assert!(
        text.contains("|                            18.20|"),
        "{text}"
    );
    // An int literal counts its own digits: decimal(5,0) / decimal(5,1) -> round -> decimal(9,2).
    let literal = Expr::Literal(Value::Integer(65_520)).binary(
        BinaryOp::Divide,
        Expr::Literal(Value::Decimal(36_000, 5, 1)),
    );
    let df = s
        .range(0, 1, 1, None)
        .unwrap()
        .select(vec![func("round", vec![literal, lit(2)])])
        .unwrap();
    assert_eq!(df.schema().fields[0].data_type, DataType::Decimal(9, 2));
    assert_eq!(df.collect().unwrap()[0][0], Value::Decimal(1820, 9, 2));
}

fn window_rows(session: &Session) -> kiln_engine::DataFrame {
    let schema = Schema::new(vec![
        StructField::new("k", DataType::String, true),
        StructField::new("o", DataType::Integer, true),
        StructField::new("v", DataType::Double, true),
    ]);
    let row = |k: &str, o: Option<i32>, v: Option<f64>| {
        vec![
            Value::String(k.into()),
            o.map_or(Value::Null, Value::Integer),
            v.map_or(Value::Null, Value::Double),
        ]
    };
    let rows = vec![
        row("a", Some(1), Some(10.0)),
        row("a", Some(2), Some(20.0)),
        row("a", Some(2), Some(5.0)),
        row("b", Some(3), None),
        row("b", None, Some(7.0)),
        row("c", Some(1), Some(1.0)),
    ];
    session.create_dataframe(rows, schema).unwrap()
}

#[test]
fn window_functions_over_the_api_match_spark() {
    use kiln_engine::window::{FrameKind, WindowFrame, WindowSpec};
    let df = window_rows(&session());
    let w = WindowSpec {
        partition_by: vec![col("k")],
        order_by: vec![col("o")],
        frame: None,
    };
    let over = |function: Expr, spec: &WindowSpec| Expr::Window {
        function: Box::new(function),
        spec: Box::new(spec.clone()),
    };
    let sliding = WindowSpec {
        frame: Some(WindowFrame::from_api(FrameKind::Rows, -1, 1)),
        ..w.clone()
    };
    let whole = WindowSpec {
        frame: Some(WindowFrame::from_api(FrameKind::Range, i64::MIN, i64::MAX)),
        ..w.clone()
    };
    let by_value = WindowSpec {
        order_by: vec![col("v").desc()],
        ..WindowSpec::default()
    };
    let out = df
        .select(vec![
            col("k"),
            col("o"),
            over(func("rank", vec![]), &w).alias("r"),
            over(func("sum", vec![col("v")]), &w).alias("s"),
            over(func("lag", vec![col("v")]), &w).alias("lag"),
            over(func("avg", vec![col("v")]), &sliding).alias("avg"),
            over(func("count", vec![lit(1)]), &whole).alias("n"),
            over(func("max", vec![col("v")]), &by_value).alias("m"),
        ])
        .unwrap();
    assert_eq!(
        out.show_string(20, 20, false).unwrap(),
        "+---+----+---+----+----+------------------+---+----+
|  k|   o|  r|   s| lag|               avg|  n|   m|
+---+----+---+----+----+------------------+---+----+
|  a|   1|  1|10.0|NULL|              15.0|  3|20.0|
|  a|   2|  2|35.0|10.0|11.666666666666666|  3|20.0|
|  a|   2|  2|35.0|20.0|              12.5|  3|20.0|
|  b|NULL|  1| 7.0|NULL|               7.0|  2|20.0|
|  b|   3|  2| 7.0| 7.0|               7.0|  2|20.0|
|  c|   1|  1| 1.0|NULL|               1.0|  1|20.0|
+---+----+---+----+----+------------------+---+----+
"
    );
    let running = WindowSpec {
        frame: Some(WindowFrame::from_api(FrameKind::Rows, -2, 0)),
        ..w.clone()
    };
    let named = df
        .select(vec![over(func("sum", vec![col("o")]), &running)])
        .unwrap();
    let field = &named.schema().fields[0];
    assert_eq!(
        field.name,
        "sum(o) OVER (PARTITION BY k ORDER BY o ASC NULLS FIRST ROWS BETWEEN -2 FOLLOWING AND CURRENT ROW)"
    );
    assert_eq!(field.data_type, DataType::Long);
    let with = df
        .with_column("x", over(func("row_number", vec![]), &w))
        .unwrap();
    assert_eq!(with.columns(), vec!["k", "o", "v", "x"]);
    let err = df
        .filter(over(func("row_number", vec![]), &w).eq(lit(1)))
        .unwrap_err();
    assert_eq!(
        err.error_class(),
        Some("WINDOW_FUNCTION_NOT_ALLOWED_IN_CLAUSE")
    );
}

#[test]
fn the_first_rows_of_a_sorted_frame_are_taken_without_a_global_sort() {
    let s = session();
    s.set_conf("spark.sql.shuffle.partitions", "7").unwrap();
    // 10,000 rows in 4 partitions; k repeats, so the order needs both keys.
    let df = s
        .range(0, 10_000, 1, Some(4))
        .unwrap()
        .select(vec![
            col("id"),
            col("id")
                .binary(BinaryOp::Multiply, lit(7919i64))
                .binary(BinaryOp::Modulo, lit(101i64))
                .alias("k"),
        ])
        .unwrap();
    let sorted = df.order_by(vec![col("k").desc(), col("id").asc()]).unwrap();
    let everything = sorted.collect().unwrap();
    let head = sorted.limit(15).offset(0);
    assert_eq!(head.collect().unwrap(), everything[..15].to_vec());
    let skipped = sorted.offset(4).limit(5);
    assert_eq!(skipped.collect().unwrap(), everything[4..9].to_vec());
    assert_eq!(sorted.take(20).unwrap(), everything[..20].to_vec());
    let plan = sorted.limit(15).explain_string();
    assert!(
        plan.contains("TakeOrderedAndProject(limit=15, orderBy=[k DESC NULLS LAST,id ASC NULLS FIRST], output=[id,k])"),
        "{plan}"
    );
    assert!(!plan.contains("rangepartitioning"), "{plan}");
    let with_offset = sorted.offset(4).limit(5).explain_string();
    assert!(
        with_offset.contains("TakeOrderedAndProject(limit=5, offset=4,"),
        "{with_offset}"
    );
}

#[test]
fn the_first_rows_in_order_place_nulls_as_spark_does() {
    let s = session();
    // k is null on most rows, then the first rows in order depend on where nulls go.
    let df = s
        .range(0, 2_000, 1, Some(3))
        .unwrap()
        .select(vec![
            col("id"),
            func(
                "nullif",
                vec![col("id").binary(BinaryOp::Modulo, lit(5i64)), lit(0i64)],
            )
            .alias("k"),
            func(
                "nullif",
                vec![
                    col("id").binary(BinaryOp::Modulo, lit(400i64)),
                    col("id").binary(BinaryOp::Modulo, lit(400i64)),
                ],
            )
            .alias("mostly_null"),
        ])
        .unwrap();
    let order = |key: &str, ascending: bool, nulls_first: bool| Expr::SortOrder {
        expr: Box::new(col(key)),
        ascending,
        nulls_first,
    };
    for key in ["k", "mostly_null"] {
        for (ascending, nulls_first) in [(true, true), (true, false), (false, true), (false, false)]
        {
            let sorted = df
                .order_by(vec![order(key, ascending, nulls_first), col("id").desc()])
                .unwrap();
            let everything = sorted.collect().unwrap();
            for n in [1, 7, 450, 2_500] {
                assert_eq!(
                    sorted.limit(n).collect().unwrap(),
                    everything[..n.min(everything.len())].to_vec(),
                    "{key} ascending={ascending} nulls_first={nulls_first} n={n}"
                );
            }
        }
    }
}

#[test]
fn sums_and_counts_keep_their_nulls_where_partitions_have_none() {
    // Local rows split in two partitions: `v` is null all through the
    // first and never in the second, `w` never null.
    let s = session();
    let schema = Schema::new(vec![
        StructField::new("id", DataType::Long, false),
        StructField::new("v", DataType::Double, true),
        StructField::new("w", DataType::Long, true),
    ]);
    let rows = (0..1000i64)
        .map(|id| {
            let v = if id < 500 {
                Value::Null
            } else {
                Value::Double(id as f64)
            };
            vec![Value::Long(id), v, Value::Long(id)]
        })
        .collect();
    let df = s.create_dataframe(rows, schema).unwrap();
    assert_eq!(df.num_partitions().unwrap(), 2);
    let early = col("id").binary(BinaryOp::Lt, lit(500i64)).alias("early");
    let grouped = df
        .aggregate(
            vec![early],
            vec![
                func("sum", vec![col("v")]),
                func("avg", vec![col("v")]),
                func("count", vec![col("v")]),
                func("sum", vec![col("w")]),
                func("avg", vec![col("w")]),
                func("count", vec![col("w")]),
            ],
        )
        .unwrap()
        .order_by(vec![col("early")])
        .unwrap();
    assert_eq!(
        grouped.collect().unwrap(),
        vec![
            vec![
                Value::Boolean(false),
                Value::Double(374_750.0),
                Value::Double(749.5),
                Value::Long(500),
                Value::Long(374_750),
                Value::Double(749.5),
                Value::Long(500),
            ],
            vec![
                Value::Boolean(true),
                Value::Null,
                Value::Null,
                Value::Long(0),
                Value::Long(124_750),
                Value::Double(249.5),
                Value::Long(500),
            ],
        ]
    );
    // A global aggregate over the partition without nulls alone.
    let late = df
        .filter(col("id").binary(BinaryOp::GtEq, lit(500i64)))
        .unwrap()
        .select(vec![
            func("sum", vec![col("v")]),
            func("count", vec![col("w")]),
        ])
        .unwrap();
    assert_eq!(
        late.collect().unwrap(),
        vec![vec![Value::Double(374_750.0), Value::Long(500)]]
    );
}
