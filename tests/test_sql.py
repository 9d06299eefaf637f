"""`%%sql` cells end to end: Spark SQL on the kernel's engine session."""

import time

from conftest import run_cell
from test_kernel import interrupt_takes


def shown(outputs):
    return [c["data"]["text/plain"] for t, c in outputs if t == "display_data"]


def test_sql_cell_runs_statements_and_shows_the_last_result(kernel):
    _, kc = kernel
    reply, outputs = run_cell(
        kc,
        "%%sql\n"
        "CREATE OR REPLACE TEMP VIEW trips AS\n"
        "SELECT * FROM VALUES ('green', 10.5), ('yellow', 52.3), ('green', 7.25) AS t(service, amount);\n"
        "-- revenue per service\n"
        "SELECT service, round(sum(amount), 2) AS revenue, count(1) AS trips\n"
        "FROM trips GROUP BY service ORDER BY service;\n",
    )
    assert reply["status"] == "ok", reply
    assert shown(outputs) == [
        "+-------+-------+-----+\n"
        "|service|revenue|trips|\n"
        "+-------+-------+-----+\n"
        "|  green|  17.75|    2|\n"
        "| yellow|  52.30|    1|\n"
        "+-------+-------+-----+"
    ]
    reply, outputs = run_cell(kc, "%sql SHOW TABLES")
    assert "|trips|" in shown(outputs)[0].replace(" ", "")


def test_sql_errors_are_spark_exceptions(kernel):
    _, kc = kernel
    run_cell(kc, "%%sql\nCREATE OR REPLACE TEMP VIEW zones AS SELECT 1 AS LocationID, 'JFK' AS Zone")
    reply, _ = run_cell(kc, "%%sql\nSELECT Zonee FROM zones")
    assert reply["ename"] == "AnalysisException"
    assert reply["evalue"].startswith("[UNRESOLVED_COLUMN.WITH_SUGGESTION]")
    assert "[`Zone`, `LocationID`]" in reply["evalue"]
    reply, _ = run_cell(kc, "%%sql\nSELECT Zone\nFORM zones")
    assert reply["ename"] == "ParseException"
    assert reply["evalue"].startswith(
        "\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'zones': extra input 'zones'. SQLSTATE: 42601 (line 2, pos 5)"
    )
    reply, _ = run_cell(kc, "%%sql\nSELECT * FROM nowhere")
    assert reply["ename"] == "AnalysisException"
    assert reply["evalue"].startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    reply, _ = run_cell(kc, "%%sql --frobnicate\nSELECT 1")
    assert reply["ename"] == "UsageError"


def test_variables_are_expanded_only_when_asked(kernel):
    _, kc = kernel
    run_cell(kc, "low = 7")
    reply, outputs = run_cell(kc, "%%sql -e\nSELECT count(*) AS n FROM range(10) WHERE id >= {low}")
    assert reply["status"] == "ok", reply
    assert "|  3|" in shown(outputs)[0]
    reply, _ = run_cell(kc, "%%sql\nSELECT count(*) AS n FROM range(10) WHERE id >= {low}")
    assert reply["status"] == "error"


def test_interrupt_cancels_a_running_query(kernel):
    km, kc = kernel
    took, reply = interrupt_takes(
        km, kc, "%%sql\nSELECT sum(id % 7) FROM range(0, 4000000000, 1, 4000)"
    )
    assert reply["ename"] == "KeyboardInterrupt"
    assert took < 3
    time.sleep(0.2)
    reply, outputs = run_cell(kc, "%sql SELECT 1 AS one")
    assert "|  1|" in shown(outputs)[0]
