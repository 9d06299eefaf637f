//! Joins: key merging, outer-join nulls, conditions, semi/anti, and both
//! strategies (broadcast and shuffled) giving the same rows.

use kiln_engine::exec::join::JoinKind;
use kiln_engine::expr::{col, lit, Expr};
use kiln_engine::plan::JoinOn;
use kiln_engine::types::{DataType, Schema, StructField};
use kiln_engine::value::Value;
use kiln_engine::{DataFrame, Session};

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn frames(session: &Session) -> (DataFrame, DataFrame) {
    let revenue = session
        .create_dataframe(
            vec![
                vec![Value::Integer(1), s("JFK"), Value::Double(10.0)],
                vec![Value::Integer(1), s("Midtown"), Value::Double(5.0)],
                vec![Value::Integer(2), s("JFK"), Value::Double(7.0)],
                vec![Value::Integer(3), Value::Null, Value::Double(1.0)],
            ],
            Schema::new(vec![
                StructField::new("hour", DataType::Integer, true),
                StructField::new("zone", DataType::String, true),
                StructField::new("amount", DataType::Double, true),
            ]),
        )
        .unwrap();
    let trips = session
        .create_dataframe(
            vec![
                vec![Value::Integer(1), s("JFK"), Value::Long(3)],
                vec![Value::Integer(2), s("Harlem"), Value::Long(4)],
                vec![Value::Integer(3), Value::Null, Value::Long(5)],
            ],
            Schema::new(vec![
                StructField::new("hour", DataType::Integer, true),
                StructField::new("zone", DataType::String, true),
                StructField::new("trips", DataType::Long, true),
            ]),
        )
        .unwrap();
    (revenue, trips)
}

fn sorted(df: &DataFrame) -> Vec<Vec<Value>> {
    let mut rows = df.collect().unwrap();
    rows.sort_by_key(|r| format!("{r:?}"));
    rows
}

/// Every check runs with a broadcast join, a shuffled join, and a shuffled
/// join that adaptive execution turns into a broadcast one.
fn both_strategies(check: impl Fn(&Session)) {
    for (threshold, adaptive) in [("10MB", "10MB"), ("-1", "-1"), ("-1", "10MB")] {
        let session = Session::new("local[2]").unwrap();
        session
            .set_conf("spark.sql.autoBroadcastJoinThreshold", threshold)
            .unwrap();
        session
            .set_conf("spark.sql.adaptive.autoBroadcastJoinThreshold", adaptive)
            .unwrap();
        check(&session);
    }
}

#[test]
fn full_outer_join_on_names_merges_keys() {
    both_strategies(|session| {
        let (revenue, trips) = frames(session);
        let joined = revenue
            .join(
                &trips,
                JoinOn::Using(vec!["hour".into(), "zone".into()]),
                JoinKind::Full,
            )
            .unwrap();
        assert_eq!(joined.columns(), vec!["hour", "zone", "amount", "trips"]);
        let rows = sorted(&joined);
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert!(rows.contains(&vec![
            Value::Integer(1),
            s("JFK"),
            Value::Double(10.0),
            Value::Long(3)
        ]));
        assert!(rows.contains(&vec![
            Value::Integer(2),
            s("Harlem"),
            Value::Null,
            Value::Long(4)
        ]));
        // Null keys never match: both null-zone rows survive unmatched.
        assert!(rows.contains(&vec![
            Value::Integer(3),
            Value::Null,
            Value::Double(1.0),
            Value::Null
        ]));
        assert!(rows.contains(&vec![
            Value::Integer(3),
            Value::Null,
            Value::Null,
            Value::Long(5)
        ]));
    });
}

#[test]
fn inner_and_left_joins_with_conditions() {
    both_strategies(|session| {
        let (revenue, trips) = frames(session);
        let condition = revenue.col("zone").unwrap().eq(trips.col("zone").unwrap());
        let inner = revenue
            .join(
                &trips,
                JoinOn::Condition(condition.clone()),
                JoinKind::Inner,
            )
            .unwrap();
        assert_eq!(
            inner.columns(),
            vec!["hour", "zone", "amount", "hour", "zone", "trips"]
        );
        assert_eq!(inner.count().unwrap(), 2);
        let left = revenue
            .join(&trips, JoinOn::Condition(condition), JoinKind::Left)
            .unwrap();
        assert_eq!(left.count().unwrap(), 4);
        // After the join, `trips.zone` still names the right side's column.
        let picked = left
            .select(vec![
                trips.col("trips").unwrap(),
                revenue.col("zone").unwrap(),
            ])
            .unwrap();
        assert_eq!(picked.columns(), vec!["trips", "zone"]);
        let err = left.select(vec![col("zone")]).unwrap_err().to_string();
        assert!(err.starts_with("[AMBIGUOUS_REFERENCE]"), "{err}");
    });
}

#[test]
fn semi_anti_and_residual_conditions() {
    both_strategies(|session| {
        let (revenue, trips) = frames(session);
        let on = || JoinOn::Using(vec!["hour".into()]);
        let semi = revenue.join(&trips, on(), JoinKind::LeftSemi).unwrap();
        assert_eq!(semi.columns(), vec!["hour", "zone", "amount"]);
        assert_eq!(semi.count().unwrap(), 4);
        let anti = revenue
            .join(
                &trips.filter(col("hour").lt(lit(2))).unwrap(),
                on(),
                JoinKind::LeftAnti,
            )
            .unwrap();
        assert_eq!(anti.count().unwrap(), 2);
        // The smaller side on the left, with and without a residual condition.
        let semi = trips.join(&revenue, on(), JoinKind::LeftSemi).unwrap();
        assert_eq!(semi.count().unwrap(), 3);
        let big_amount = || {
            trips
                .col("hour")
                .unwrap()
                .eq(revenue.col("hour").unwrap())
                .and(revenue.col("amount").unwrap().gt(lit(6.0)))
        };
        let semi = trips
            .join(
                &revenue,
                JoinOn::Condition(big_amount()),
                JoinKind::LeftSemi,
            )
            .unwrap();
        assert_eq!(sorted(&semi).len(), 2);
        let anti = trips
            .join(
                &revenue,
                JoinOn::Condition(big_amount()),
                JoinKind::LeftAnti,
            )
            .unwrap();
        assert_eq!(
            anti.collect().unwrap(),
            vec![vec![Value::Integer(3), Value::Null, Value::Long(5)]]
        );
        let condition = revenue
            .col("hour")
            .unwrap()
            .eq(trips.col("hour").unwrap())
            .and(trips.col("trips").unwrap().gt(lit(3i64)));
        let inner = revenue
            .join(&trips, JoinOn::Condition(condition), JoinKind::Inner)
            .unwrap();
        assert_eq!(inner.count().unwrap(), 2);
    });
}

#[test]
fn existence_join_marks_every_left_row() {
    both_strategies(|session| {
        let (revenue, trips) = frames(session);
        // Each left row's third column and its mark, sorted.
        let marks = |left: &DataFrame, right: &DataFrame, on: Expr| -> Vec<(Value, Value)> {
            let marked = left
                .join(right, JoinOn::Condition(on), JoinKind::LeftMark)
                .unwrap();
            let mut rows: Vec<(Value, Value)> = marked
                .collect()
                .unwrap()
                .into_iter()
                .map(|r| (r[2].clone(), r[r.len() - 1].clone()))
                .collect();
            rows.sort_by_key(|r| format!("{r:?}"));
            rows
        };
        let (yes, no) = (Value::Boolean(true), Value::Boolean(false));
        let zone = || revenue.col("zone").unwrap().eq(trips.col("zone").unwrap());
        let marked = revenue
            .join(&trips, JoinOn::Condition(zone()), JoinKind::LeftMark)
            .unwrap();
        assert_eq!(marked.columns(), vec!["hour", "zone", "amount", "exists"]);
        // On one key: a null key matches nothing.
        assert_eq!(
            marks(&revenue, &trips, zone()),
            vec![
                (Value::Double(1.0), no.clone()),
                (Value::Double(10.0), yes.clone()),
                (Value::Double(5.0), no.clone()),
                (Value::Double(7.0), yes.clone()),
            ]
        );
        // A key and a residual condition, the smaller side on the left.
        let condition = trips
            .col("hour")
            .unwrap()
            .eq(revenue.col("hour").unwrap())
            .and(revenue.col("amount").unwrap().gt(lit(6.0)));
        let (three, four, five) = (Value::Long(3), Value::Long(4), Value::Long(5));
        assert_eq!(
            marks(&trips, &revenue, condition),
            vec![
                (three.clone(), yes.clone()),
                (four.clone(), yes.clone()),
                (five.clone(), no),
            ]
        );
        // No key at all: a nested loop.
        let more = trips
            .col("trips")
            .unwrap()
            .gt(revenue.col("amount").unwrap());
        assert_eq!(
            marks(&trips, &revenue, more),
            vec![(three, yes.clone()), (four, yes.clone()), (five, yes)]
        );
    });
}

#[test]
fn shuffled_join_partitions_are_coalesced_and_broadcast_keeps_the_stream_side() {
    let session = Session::new("local[2]").unwrap();
    let (revenue, trips) = frames(&session);
    let on = JoinOn::Using(vec!["hour".into()]);
    let broadcast = revenue.join(&trips, on.clone(), JoinKind::Inner).unwrap();
    assert_eq!(broadcast.num_partitions().unwrap(), 2);
    session
        .set_conf("spark.sql.autoBroadcastJoinThreshold", "-1")
        .unwrap();
    let shuffled = revenue.join(&trips, on.clone(), JoinKind::Inner).unwrap();
    assert_eq!(shuffled.num_partitions().unwrap(), 1);
    // Adaptive execution finds the shuffled side small and broadcasts it
    // after all, the other side keeping its two partitions.
    session
        .set_conf("spark.sql.adaptive.autoBroadcastJoinThreshold", "10MB")
        .unwrap();
    let adaptive = revenue.join(&trips, on.clone(), JoinKind::Inner).unwrap();
    assert_eq!(adaptive.num_partitions().unwrap(), 2);
    // A semi join's small left side is matched against the other side's
    // partitions in one partition (uncoalesced shuffles would make 200).
    session
        .set_conf("spark.sql.adaptive.coalescePartitions.enabled", "false")
        .unwrap();
    let small_left = trips
        .join(&revenue, on.clone(), JoinKind::LeftSemi)
        .unwrap();
    assert_eq!(small_left.num_partitions().unwrap(), 1);
    assert_eq!(small_left.count().unwrap(), 3);
    assert_eq!(sorted(&adaptive), sorted(&broadcast));
    session
        .set_conf("spark.sql.adaptive.autoBroadcastJoinThreshold", "-1")
        .unwrap();
    let hinted = revenue
        .join(&trips.broadcast_hint(), on, JoinKind::Inner)
        .unwrap();
    assert_eq!(hinted.num_partitions().unwrap(), 2);
}

#[test]
fn int_and_string_keys_are_coerced() {
    let session = Session::new("local[2]").unwrap();
    let ids = session
        .create_dataframe(
            vec![vec![Value::Integer(7)]],
            Schema::new(vec![StructField::new("id", DataType::Integer, true)]),
        )
        .unwrap();
    let names = session
        .create_dataframe(
            vec![vec![s("7"), s("seven")]],
            Schema::new(vec![
                StructField::new("key", DataType::String, true),
                StructField::new("name", DataType::String, true),
            ]),
        )
        .unwrap();
    let condition = ids.col("id").unwrap().eq(names.col("key").unwrap());
    let joined = ids
        .join(&names, JoinOn::Condition(condition), JoinKind::Inner)
        .unwrap();
    assert_eq!(
        joined.collect().unwrap(),
        vec![vec![Value::Integer(7), s("7"), s("seven")]]
    );
}
