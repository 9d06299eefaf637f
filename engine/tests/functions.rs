//! Scalar functions against values computed by hand (and checked in Spark).

use kiln_engine::expr::{col, func, lit, BinaryOp, Expr};
use kiln_engine::types::{DataType, Schema, StructField};
use kiln_engine::value::Value;
use kiln_engine::{DataFrame, Session};

fn one_row(session: &Session) -> DataFrame {
    session
        .set_conf("spark.sql.session.timeZone", "UTC")
        .unwrap();
    let ts = 1_609_461_224_000_000i64; // 2021-01-01 00:33:44 UTC
    session
        .create_dataframe(
            vec![vec![
                Value::Timestamp(ts),
                Value::Timestamp(ts + 5_400_000_000 + 26 * 3_600_000_000),
                Value::String("Upper East Side North".into()),
                Value::Date(18_676),
            ]],
            Schema::new(vec![
                StructField::new("pickup", DataType::Timestamp, true),
                StructField::new("dropoff", DataType::Timestamp, true),
                StructField::new("zone", DataType::String, true),
                StructField::new("day", DataType::Date, true),
            ]),
        )
        .unwrap()
}

fn value(df: &DataFrame, expr: Expr) -> Value {
    df.select(vec![expr]).unwrap().collect().unwrap()[0][0].clone()
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn dates_and_times() {
    let session = Session::new("local[1]").unwrap();
    let df = one_row(&session);
    assert_eq!(
        value(
            &df,
            func("date_format", vec![col("pickup"), lit("yyyy-MM-dd HH:mm")])
        ),
        s("2021-01-01 00:33")
    );
    assert_eq!(
        value(&df, func("from_unixtime", vec![lit(0i64)])),
        s("1970-01-01 00:00:00")
    );
    assert_eq!(
        value(&df, func("hour", vec![col("pickup")])),
        Value::Integer(0)
    );
    assert_eq!(
        value(&df, func("dayofweek", vec![col("day")])),
        Value::Integer(5)
    );
    assert_eq!(
        value(&df, func("last_day", vec![col("day")])),
        Value::Date(18_686)
    );
    assert_eq!(
        value(&df, func("add_months", vec![col("day"), lit(1)])),
        Value::Date(18_704)
    );
    let duration = col("dropoff").binary(BinaryOp::Minus, col("pickup"));
    let hours = func("extract", vec![lit("hour"), duration.clone()]);
    assert_eq!(hours.output_name(), "extract(hour FROM (dropoff - pickup))");
    assert_eq!(value(&df, hours), Value::Byte(3));
    assert_eq!(
        value(&df, func("extract", vec![lit("day"), duration])),
        Value::Integer(1)
    );
    assert_eq!(
        value(&df, func("date_trunc", vec![lit("hour"), col("pickup")])),
        Value::Timestamp(1_609_459_200_000_000)
    );
}

#[test]
fn strings_and_patterns() {
    let session = Session::new("local[1]").unwrap();
    let df = one_row(&session);
    assert_eq!(
        value(
            &df,
            func(
                "regexp_replace",
                vec![col("zone"), lit("(\\w+) East"), lit("$1 West")]
            )
        ),
        s("Upper West Side North")
    );
    assert_eq!(
        value(
            &df,
            func(
                "regexp_extract",
                vec![col("zone"), lit("(\\w+) Side"), lit(1)]
            )
        ),
        s("East")
    );
    assert_eq!(
        value(
            &df,
            func("regexp_extract", vec![col("zone"), lit("Bronx"), lit(0)])
        ),
        s("")
    );
    assert_eq!(
        value(&df, func("like", vec![col("zone"), lit("Upper%North")])),
        Value::Boolean(true)
    );
    assert_eq!(
        value(&df, func("ilike", vec![col("zone"), lit("upper_east%")])),
        Value::Boolean(true)
    );
    assert_eq!(
        value(&df, func("rlike", vec![col("zone"), lit("^U.*h$")])),
        Value::Boolean(true)
    );
    assert_eq!(
        value(&df, func("lpad", vec![lit("7"), lit(3), lit("0")])),
        s("007")
    );
    assert_eq!(value(&df, func("rpad", vec![lit("abcd"), lit(2)])), s("ab"));
    assert_eq!(
        value(&df, func("instr", vec![col("zone"), lit("East")])),
        Value::Integer(7)
    );
    assert_eq!(
        value(&df, func("instr", vec![col("zone"), lit("West")])),
        Value::Integer(0)
    );
    assert_eq!(
        value(&df, func("split", vec![lit("a,b,,c"), lit(",")])),
        Value::Array(vec![s("a"), s("b"), s(""), s("c")])
    );
    assert_eq!(
        value(
            &df,
            func(
                "concat_ws",
                vec![
                    lit("-"),
                    lit("a"),
                    Expr::Literal(Value::Null).cast(DataType::String),
                    lit("b")
                ]
            )
        ),
        s("a-b")
    );
    assert_eq!(
        value(&df, func("substring", vec![col("zone"), lit(7), lit(4)])),
        s("East")
    );
}
