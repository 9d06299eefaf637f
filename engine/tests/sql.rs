//! Spark SQL through the engine, compared statement by statement with what
//! PySpark 4 prints for the same text (`tests/sql/*.expected`, written by
//! `tests/sql/oracle.py`).

use kiln_engine::Session;

/// What the oracle prints for a statement: `show()` text, or the error class.
fn transcript(session: &Session, sql: &str) -> String {
    let mut out = String::new();
    for statement in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        out.push_str(&format!("-- {}\n", statement.lines().next().unwrap_or("")));
        let shown = session
            .sql(statement)
            .and_then(|df| df.show_string(20, 20, false));
        match shown {
            Ok(text) => out.push_str(&text),
            Err(e) => out.push_str(&format!(
                "error: {}\n",
                e.error_class().unwrap_or(e.python_exception())
            )),
        }
    }
    out
}

fn utc_session() -> Session {
    let session = Session::new("local[2]").unwrap();
    session
        .set_conf("spark.sql.session.timeZone", "UTC")
        .unwrap();
    session
}

/// Each query's result registered as a temp view under its name.
fn views(session: &Session, views: &[(&str, &str)]) {
    for (name, query) in views {
        let df = session.sql(query).unwrap();
        session.create_temp_view(name, &df, false).unwrap();
    }
}

/// Runs a fixture and compares it statement by statement with its transcript.
fn assert_matches_spark(sql: &str, expected: &str) {
    let actual = transcript(&utc_session(), sql);
    let (expected_parts, actual_parts): (Vec<&str>, Vec<&str>) = (
        expected.split("\n-- ").collect(),
        actual.split("\n-- ").collect(),
    );
    for (e, a) in expected_parts.iter().zip(&actual_parts) {
        assert_eq!(a, e, "\n--- kiln ---\n{a}\n--- spark ---\n{e}");
    }
    assert_eq!(actual_parts.len(), expected_parts.len());
}

#[test]
fn course_queries_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/course.sql"),
        include_str!("sql/course.expected"),
    );
}

#[test]
fn remainders_and_date_construction_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/arithmetic.sql"),
        include_str!("sql/arithmetic.expected"),
    );
}

#[test]
fn window_functions_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/windows.sql"),
        include_str!("sql/windows.expected"),
    );
}

#[test]
fn implicit_coercions_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/coercion.sql"),
        include_str!("sql/coercion.expected"),
    );
}

#[test]
fn library_functions_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/library.sql"),
        include_str!("sql/library.expected"),
    );
}

#[test]
fn errors_read_like_spark() {
    let session = utc_session();
    session
        .sql("CREATE TEMP VIEW trips AS SELECT 1 AS service_type, 2 AS trip_distance")
        .unwrap();
    let error = session.sql("SELECT servce_type FROM trips").unwrap_err();
    assert_eq!(
        error.to_string(),
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `servce_type` cannot be resolved. Did you mean one of the following? [`service_type`, `trip_distance`]. SQLSTATE: 42703; line 1 pos 7;"
    );
    let error = session
        .sql("SELECT *\nFROM trips t\nWHERE t.servce_type = 1")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("SQLSTATE: 42703; line 3 pos 6;"),
        "{error}"
    );
    let error = session
        .sql("SELECT foo(service_type) FROM trips")
        .unwrap_err();
    assert!(
        error.to_string().ends_with("SQLSTATE: 42883; line 1 pos 7"),
        "{error}"
    );
    let error = session.sql("SELECT * FROM nowhere").unwrap_err();
    assert!(error
        .to_string()
        .starts_with("[TABLE_OR_VIEW_NOT_FOUND] The table or view `nowhere` cannot be found."));
    assert!(error
        .to_string()
        .ends_with("DROP TABLE IF EXISTS. SQLSTATE: 42P01; line 1 pos 14;"));
    let error = session
        .sql("SELECT service_type\nFROM trips\nWHERE service_type > 1 ORDER service_type")
        .unwrap_err();
    assert_eq!(error.python_exception(), "ParseException");
    assert_eq!(
        error.to_string(),
        "[PARSE_SYNTAX_ERROR] Syntax error at or near 'ORDER'. SQLSTATE: 42601 (line 3, pos 23)\n\n== SQL ==\nSELECT service_type\nFROM trips\nWHERE service_type > 1 ORDER service_type\n-----------------------^^^\n"
    );
}

#[test]
fn parameters_bind_by_name_and_position() {
    use kiln_engine::sql::SqlArgs;
    use kiln_engine::value::Value;
    let session = utc_session();
    let named = SqlArgs::Named(vec![("low".into(), Value::Integer(7))]);
    let df = session
        .sql_with_args("SELECT id FROM range(10) WHERE id >= :low", &named)
        .unwrap();
    assert_eq!(df.count().unwrap(), 3);
    let positional = SqlArgs::Positional(vec![Value::Integer(2), Value::Integer(4)]);
    let df = session
        .sql_with_args(
            "SELECT id FROM range(10) WHERE id > ? AND id < ?",
            &positional,
        )
        .unwrap();
    assert_eq!(df.count().unwrap(), 1);
    let error = session.sql("SELECT :missing").unwrap_err();
    assert_eq!(error.error_class(), Some("UNBOUND_SQL_PARAMETER"));
}

#[test]
fn sql_and_the_api_build_the_same_plan() {
    let session = utc_session();
    let df = session.range(0, 100, 1, None).unwrap();
    session.create_temp_view("numbers", &df, false).unwrap();
    let sql = session
        .sql("SELECT id % 3 AS k, count(1) FROM numbers GROUP BY 1")
        .unwrap();
    let explain = sql.explain_string();
    assert!(explain.contains("HashAggregate"), "{explain}");
    assert!(explain.contains("Exchange hashpartitioning"), "{explain}");
}

#[test]
fn generators_run_in_the_stage_of_their_input() {
    let session = utc_session();
    let df = session
        .sql("SELECT id, pos, w FROM range(3) LATERAL VIEW OUTER posexplode(array(id, id + 1)) t AS pos, w")
        .unwrap();
    let plan = df.explain_string();
    assert!(
        plan.contains("Generate posexplode(array(id, (id + 1))), [id], true, [pos, w]"),
        "{plan}"
    );
    assert!(!plan.contains("Exchange"), "{plan}");
    assert_eq!(df.count().unwrap(), 6);
}

#[test]
fn window_plans_shuffle_sort_and_evaluate() {
    let session = utc_session();
    let df = session
        .sql("SELECT id % 3 AS k, rank() OVER (PARTITION BY id % 3 ORDER BY id DESC) AS r FROM range(10)")
        .unwrap();
    let plan = df.explain_string();
    assert!(plan.contains("+- Window [RANK() windowspecdefinition((id % 3), id DESC NULLS LAST, specifiedwindowframe(RowFrame, unboundedpreceding$(), currentrow$())) AS RANK() OVER (PARTITION BY (id % 3) ORDER BY id DESC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)], [(id % 3)], [id DESC NULLS LAST]"), "{plan}");
    assert!(
        plan.contains("+- Sort [(id % 3) ASC NULLS FIRST, id DESC NULLS LAST], false, 0"),
        "{plan}"
    );
    assert!(
        plan.contains("+- Exchange hashpartitioning((id % 3), 200), ENSURE_REQUIREMENTS"),
        "{plan}"
    );
}

#[test]
fn filtered_exists_keeps_its_join_keys_after_pruning() {
    let session = utc_session();
    session
        .set_conf("spark.sql.autoBroadcastJoinThreshold", "-1")
        .unwrap();
    views(
        &session,
        &[
        (
            "orders",
            "SELECT id AS o_key, id % 7 AS o_day FROM range(1000)",
        ),
        (
            "items",
            "SELECT id % 500 AS l_key, id % 3 AS l_commit, id % 5 AS l_receipt FROM range(3000)",
        ),
        ],
    );
    let df = session
        .sql(
            "SELECT count(*) FROM orders WHERE o_day >= 2 AND EXISTS \
             (SELECT * FROM items WHERE l_key = o_key AND l_commit < l_receipt)",
        )
        .unwrap();
    let plan = df.explain_string();
    assert!(
        plan.contains("ShuffledHashJoin [o_key], [l_key], LeftSemi, BuildRight"),
        "{plan}"
    );
    assert_eq!(
        df.show_string(20, 20, false).unwrap(),
        "+--------+\n|count(1)|\n+--------+\n|     285|\n+--------+\n"
    );
}

#[test]
fn a_disjunction_over_two_tables_filters_each_before_the_join() {
    let session = utc_session();
    views(
        &session,
        &[
            ("a", "SELECT id AS a_key, id % 4 AS a_x FROM range(100)"),
            ("b", "SELECT id AS b_key, id % 5 AS b_y FROM range(100)"),
        ],
    );
    let df = session
        .sql(
            "SELECT count(*) FROM a, b WHERE a_key = b_key \
             AND ((a_x = 1 AND b_y = 2) OR (a_x = 2 AND b_y = 1))",
        )
        .unwrap();
    let plan = df.explain_string();
    assert!(plan.contains("Filter ((a_x = 1) OR (a_x = 2))"), "{plan}");
    assert!(plan.contains("Filter ((b_y = 2) OR (b_y = 1))"), "{plan}");
    // Keys 0..99 with (k%4, k%5) = (1, 2) or (2, 1): k ≡ 17 or 6 (mod 20).
    assert_eq!(
        df.show_string(20, 20, false).unwrap(),
        "+--------+\n|count(1)|\n+--------+\n|      10|\n+--------+\n"
    );
}

#[test]
fn a_small_filtered_table_joins_before_the_large_ones() {
    let session = utc_session();
    views(
        &session,
        &[
            (
                "s",
                "SELECT id AS s_key, id % 25 AS s_nation FROM range(100)",
            ),
            (
                "l",
                "SELECT id AS l_key, id % 100 AS l_supp FROM range(1000)",
            ),
            ("n", "SELECT id AS n_key, id % 5 AS n_region FROM range(25)"),
        ],
    );
    let df = session
        .sql(
            "SELECT count(*) FROM s, l, n \
             WHERE s_key = l_supp AND s_nation = n_key AND n_region = 3",
        )
        .unwrap();
    let plan = df.explain_string();
    // The outermost join (printed first) is the one with `l`.
    let with_l = plan.find("[s_key], [l_supp]");
    let with_n = plan.find("[s_nation], [n_key]");
    assert!(
        with_l.is_some() && with_n.is_some() && with_l < with_n,
        "{plan}"
    );
    assert_eq!(
        df.show_string(20, 20, false).unwrap(),
        "+--------+\n|count(1)|\n+--------+\n|     200|\n+--------+\n"
    );
}

#[test]
fn a_correlated_aggregate_groups_only_the_outer_keys() {
    let session = utc_session();
    views(
        &session,
        &[
            (
                "part",
                "SELECT id AS p_key, id % 50 AS p_brand FROM range(500)",
            ),
            (
                "item",
                "SELECT id % 500 AS i_part, id % 7 AS i_qty FROM range(5000)",
            ),
        ],
    );
    let df = session
        .sql(
            "SELECT count(*), sum(i_qty) FROM item, part \
             WHERE p_key = i_part AND p_brand = 3 \
             AND i_qty < (SELECT avg(i_qty) FROM item WHERE i_part = p_key)",
        )
        .unwrap();
    let plan = df.explain_string();
    // The inner rows meet the filtered part table's keys before they are grouped.
    let semi = plan.find("[i_part], [__sq0_outer0], LeftSemi");
    let grouped = plan.find("keys=[i_part AS __sq0_key0], functions=[partial_avg");
    assert!(semi.is_some() && grouped < semi, "{plan}");
    // Counted directly: the items of parts 3, 53, ..., 453 under their part's average.
    assert_eq!(
        df.show_string(20, 20, false).unwrap(),
        "+--------+----------+\n|count(1)|sum(i_qty)|\n+--------+----------+\n|      49|        63|\n+--------+----------+\n"
    );
}

#[test]
fn an_in_subquery_filters_its_table_before_the_joins() {
    let session = utc_session();
    session
        .set_conf("spark.sql.autoBroadcastJoinThreshold", "-1")
        .unwrap();
    views(
        &session,
        &[
            (
                "customers",
                "SELECT id AS c_key, id % 10 AS c_group FROM range(100)",
            ),
            (
                "orders",
                "SELECT id AS o_key, id % 100 AS o_customer FROM range(2000)",
            ),
            (
                "items",
                "SELECT id % 2000 AS l_order, id % 13 AS l_qty FROM range(8000)",
            ),
        ],
    );
    // Orders whose items' quantities sum past 40 (TPC-H Q18's shape).
    let df = session
        .sql(
            "SELECT c_group, count(*) AS n FROM customers, orders, items \
             WHERE o_key IN (SELECT l_order FROM items GROUP BY l_order HAVING sum(l_qty) > 40) \
             AND c_key = o_customer AND o_key = l_order \
             GROUP BY c_group ORDER BY c_group",
        )
        .unwrap();
    let plan = df.explain_string();
    let semi = plan.find("LeftSemi").unwrap_or(0);
    let inner = plan.find("[o_key], [l_order], Inner").unwrap_or(usize::MAX);
    assert!(
        inner < semi,
        "the semi join should sit below the inner joins:\n{plan}"
    );
    // Item i belongs to order i % 2000 with quantity i % 13; the four items
    // of order k have quantities (k + 2000 j) % 13 for j in 0..4.
    let mut expected = [0i64; 10];
    for order in 0..2000i64 {
        let quantities: Vec<i64> = (0..4).map(|j| (order + 2000 * j) % 13).collect();
        if quantities.iter().sum::<i64>() > 40 {
            expected[((order % 100) % 10) as usize] += 4;
        }
    }
    let rows = df.collect().unwrap();
    let counted: Vec<i64> = rows
        .iter()
        .map(|r| match r[1] {
            kiln_engine::value::Value::Long(n) => n,
            ref other => panic!("count gave {other:?}"),
        })
        .collect();
    let wanted: Vec<i64> = expected.iter().copied().filter(|n| *n > 0).collect();
    assert_eq!(counted, wanted);
}

#[test]
fn subqueries_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/subqueries.sql"),
        include_str!("sql/subqueries.expected"),
    );
}

#[test]
fn grouping_sets_and_offsets_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/grouping.sql"),
        include_str!("sql/grouping.expected"),
    );
}

#[test]
fn generators_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/generators.sql"),
        include_str!("sql/generators.expected"),
    );
}

#[test]
fn pivots_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/pivot.sql"),
        include_str!("sql/pivot.expected"),
    );
}

#[test]
fn unpivots_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/unpivot.sql"),
        include_str!("sql/unpivot.expected"),
    );
}

#[test]
fn percentiles_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/percentiles.sql"),
        include_str!("sql/percentiles.expected"),
    );
}

#[test]
fn joins_and_set_operations_print_what_spark_prints() {
    assert_matches_spark(
        include_str!("sql/joins.sql"),
        include_str!("sql/joins.expected"),
    );
}

#[test]
fn joins_without_equalities_broadcast_the_side_not_preserved() {
    let session = utc_session();
    session
        .set_conf("spark.sql.autoBroadcastJoinThreshold", "-1")
        .unwrap();
    views(
        &session,
        &[
            ("a", "SELECT id AS k, id * 10 AS x FROM range(0, 400, 1, 4)"),
            ("b", "SELECT id AS k, id * 7 AS y FROM range(0, 300, 1, 3)"),
        ],
    );
    let pairs = |cut: i64| -> Vec<(i64, i64)> {
        (0..400i64)
            .flat_map(|i| (0..300i64).map(move |j| (i, j)))
            .filter(|(i, j)| i * 10 < j * 7 - cut)
            .collect()
    };
    let matched = pairs(2000);
    let left_met: std::collections::HashSet<i64> = matched.iter().map(|p| p.0).collect();
    let right_met: std::collections::HashSet<i64> = matched.iter().map(|p| p.1).collect();
    let count = |query: &str| -> (String, usize, i64) {
        let df = session.sql(query).unwrap();
        let counted = session
            .sql(&format!("SELECT count(*) FROM ({query})"))
            .unwrap()
            .collect()
            .unwrap();
        let rows = match counted[0][0] {
            kiln_engine::value::Value::Long(n) => n,
            ref other => panic!("count gave {other:?}"),
        };
        (df.explain_string(), df.num_partitions().unwrap(), rows)
    };
    let (plan, partitions, rows) = count("SELECT * FROM a LEFT JOIN b ON a.x < b.y - 2000");
    assert!(
        plan.contains("BroadcastNestedLoopJoin BuildRight, LeftOuter, (x < (y - 2000))")
            && plan.contains("BroadcastExchange IdentityBroadcastMode"),
        "{plan}"
    );
    assert_eq!(partitions, 4);
    assert_eq!(rows as usize, matched.len() + 400 - left_met.len());
    let (plan, partitions, rows) = count("SELECT * FROM a RIGHT JOIN b ON a.x < b.y - 2000");
    assert!(
        plan.contains("BroadcastNestedLoopJoin BuildLeft, RightOuter"),
        "{plan}"
    );
    assert_eq!(partitions, 3);
    assert_eq!(rows as usize, matched.len() + 300 - right_met.len());
    let (plan, partitions, rows) = count("SELECT * FROM a FULL JOIN b ON a.x < b.y - 2000");
    assert!(plan.contains("Exchange SinglePartition"), "{plan}");
    assert_eq!(partitions, 1);
    assert_eq!(
        rows as usize,
        matched.len() + 400 - left_met.len() + 300 - right_met.len()
    );
    let (plan, partitions, rows) = count("SELECT * FROM a JOIN b ON a.x < b.y");
    assert!(
        plan.contains("BroadcastNestedLoopJoin BuildRight, Inner, (x < y)"),
        "{plan}"
    );
    assert_eq!(partitions, 4);
    assert_eq!(rows as usize, pairs(0).len());
}
