"""Rich output through a real Jupyter client: live job progress."""

import os
import re

from conftest import run_cell, run_notebook_cell, started_kernel, stderr_of

SLOW_GROUP_BY = "spark.range(2_000_000, numPartitions=4).groupBy((F.col('id') % 7).alias('k')).count().collect()"


def test_a_job_shows_live_progress_that_ends_in_a_summary(kernel):
    _, kc = kernel
    run_cell(kc, """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
spark.conf.set('spark.kiln.progress.minDurationMs', '0')""")
    reply, outputs = run_notebook_cell(
        kc,
        SLOW_GROUP_BY,
        timeout=120,
    )
    assert reply["status"] == "ok", reply
    assert not stderr_of(outputs), outputs
    shown = [(t, c) for t, c in outputs if t in ("display_data", "update_display_data")]
    assert shown and shown[0][0] == "display_data", outputs
    ids = {c["transient"]["display_id"] for _, c in shown}
    assert len(ids) == 1, shown
    first = shown[0][1]["data"]
    assert first["text/plain"].startswith("collect · "), first
    assert "<progress" in first["text/html"] or "Stage" not in first["text/plain"], first
    last = shown[-1][1]["data"]["text/plain"]
    assert last.endswith(" s") and "2 stages · " in last and " tasks · 2.0M rows · " in last, last
    running = [c["data"]["text/plain"] for _, c in shown[:-1]]
    assert any("read " in text and " rows out" in text for text in running), running

    run_cell(kc, "spark.conf.set('spark.kiln.progress.enabled', False)")
    reply, outputs = run_notebook_cell(kc, "spark.range(10).count()")
    assert not [t for t, _ in outputs if t in ("display_data", "update_display_data")], outputs
    run_cell(kc, "spark.conf.set('spark.kiln.progress.enabled', True)\n"
                 "spark.conf.set('spark.kiln.progress.minDurationMs', '500')")


def test_plain_text_clients_get_sparks_console_bar_on_stderr(kernel):
    _, kc = kernel
    run_cell(kc, """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
spark.conf.set('spark.kiln.progress.minDurationMs', '0')""")
    reply, outputs = run_cell(kc, SLOW_GROUP_BY, timeout=120)
    assert reply["status"] == "ok", reply
    assert not [t for t, _ in outputs if t in ("display_data", "update_display_data")], outputs
    err = stderr_of(outputs)
    bars = re.findall(r"\r(\[Stage \d+:[=> ]*\(\d+ \+ \d+\) / \d+\])\r", err)
    assert bars and all(len(bar) == 80 for bar in bars), repr(err)
    assert err.endswith("\r" + " " * 80 + "\r"), repr(err[-100:])

    run_cell(kc, "spark.conf.set('spark.kiln.progress.output', 'display')")
    reply, outputs = run_cell(kc, SLOW_GROUP_BY, timeout=120)
    assert [t for t, _ in outputs if t == "display_data"] and not stderr_of(outputs), outputs


def test_the_environment_can_choose_the_progress_display_for_headless_runs():
    with started_kernel(env={**os.environ, "KILN_PROGRESS_OUTPUT": "display"}) as (_, kc):
        run_cell(kc, """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
spark.conf.set('spark.kiln.progress.minDurationMs', '0')""")
        reply, outputs = run_cell(kc, SLOW_GROUP_BY, timeout=120)
        assert [t for t, _ in outputs if t == "display_data"] and not stderr_of(outputs), outputs


def test_the_session_is_a_card_in_the_notebook(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "from pyspark.sql import SparkSession\nSparkSession.builder.getOrCreate()")
    (data,) = [c["data"] for t, c in outputs if t == "execute_result"]
    html = data["text/html"]
    assert "<b>SparkSession</b>" in html and "<dt>Master</dt><dd><code>local[*]</code></dd>" in html, html
    assert "<dt>Spark API</dt><dd><code>4." in html, html
    assert data["text/plain"].startswith("<pyspark.sql.session.SparkSession object at 0x"), data


def test_explain_modes_print_their_sections(kernel):
    _, kc = kernel
    code = """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
df = spark.range(0, 10, 1, 2).where('id > 2').groupBy((F.col('id') % 2).alias('k')).count()
for mode in ['simple', 'extended', 'formatted', 'cost', 'codegen']:
    print('#', mode)
    df.explain(mode)
"""
    reply, outputs = run_cell(kc, code)
    text = "".join(c["text"] for t, c in outputs if t == "stream")
    sections = text.split("# ")[1:]
    simple, extended, formatted, cost, codegen = sections
    assert simple.startswith("simple\n== Physical Plan ==\nAdaptiveSparkPlan isFinalPlan=false\n+- HashAggregate"), simple
    for header in ("== Parsed Logical Plan ==", "== Analyzed Logical Plan ==\nk: bigint, count: bigint",
                   "== Optimized Logical Plan ==", "== Physical Plan =="):
        assert header in extended, extended
    assert "Aggregate [(id % 2)], [(id % 2) AS k, count(1) AS count]" in extended, extended
    assert "AdaptiveSparkPlan (6)\n+- HashAggregate (5)\n   +- Exchange (4)" in formatted, formatted
    assert "(4) Exchange\nArguments: hashpartitioning(" in formatted, formatted
    assert cost.startswith("cost\n== Optimized Logical Plan ==\nAggregate"), cost
    assert codegen == "codegen\nFound 0 WholeStageCodegen subtrees.\n\n", codegen
    # In the notebook each mode but codegen also draws the stages.
    pictures = [c["data"] for t, c in outputs if t == "display_data"]
    assert len(pictures) == 4, pictures
    svg = pictures[0]["image/svg+xml"]
    assert svg.count("<rect") == 2 and svg.count("<line") == 1, svg
    assert pictures[0]["text/plain"] == "Stages: Stage 0 · 2 tasks → Stage 1 · up to 200 tasks", pictures[0]


def test_plot_draws_svg_charts_from_reduced_data(kernel):
    _, kc = kernel
    run_cell(kc, """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.getOrCreate()
revenue = spark.createDataFrame([('green', 10.5, 3), ('yellow', 52.3, 7), ('fhv', 7.25, 2)], 'service string, revenue double, trips int')""")

    def chart(code):
        reply, outputs = run_cell(kc, code, timeout=120)
        assert reply["status"] == "ok", outputs
        (data,) = [c["data"] for t, c in outputs if t == "execute_result"]
        assert data["image/png"].startswith("iVBORw0KGgo"), data["image/png"][:20]  # a PNG too
        return data["image/svg+xml"], data["text/plain"]

    svg, text = chart("revenue.plot.bar(x='service', y=['revenue', 'trips'])")
    assert text == "<bar chart: revenue, trips by service, 3 rows>", text
    for label in ("revenue, trips by service", "service", "green", "yellow", "fhv", "revenue", "trips"):
        assert f">\n{label}\n</text>" in svg or f">{label}</text>" in svg, label
    svg, text = chart("spark.range(5000).selectExpr('id', 'id % 13 AS s').plot(kind='scatter', x='id', y='s')")
    assert svg.count("<circle") == 1000 and "a sample of 1000 of 5000 rows" in text, text
    svg, text = chart("spark.range(48).selectExpr('cast(1609459200 + id * 3600 AS timestamp) AS t', 'id AS n')"
                      ".plot.line(x='t', y='n')")
    assert "\n2021-01-02 " in svg and "\n2021-01-01 " in svg, svg  # ticks read as dates and times
    svg, text = chart("spark.range(10000).selectExpr('id % 97 AS v').plot.hist(column='v', bins=5)")
    assert text == "<hist chart: Histogram of v, 5 bins>", text
    svg, text = chart("revenue.plot.pie(x='service', y='revenue')")
    assert text == "<pie chart: revenue by service, 3 rows>" and "\nyellow\n</text>" in svg, text
    svg, text = chart("spark.range(200).selectExpr('id % 20 AS v').plot.kde(bw_method=2.0, column='v', ind=50)")
    assert text == "<kde chart: Density of v, 50 points>" and "<polyline" in svg, text
    svg, text = chart("spark.range(100).selectExpr('id AS v', 'CASE WHEN id = 99 THEN 1000 ELSE id END AS w').plot.box(column=['v', 'w'])")
    assert text == '<box chart: Box plot of v, w, 2 boxes>' and svg.count('<circle') == 1, text


def test_sql_cells_can_draw_their_result(kernel):
    _, kc = kernel
    reply, outputs = run_cell(
        kc,
        "%%sql --plot bar -x service_type -y revenue,trips\n"
        "SELECT * FROM VALUES ('green', 17.75, 2), ('yellow', 52.3, 1) AS t(service_type, revenue, trips)",
    )
    assert reply["status"] == "ok", outputs
    (data,) = [c["data"] for t, c in outputs if t == "display_data"]
    assert data["text/plain"] == "<bar chart: revenue, trips by service_type, 2 rows>", data
    assert "\nyellow\n</text>" in data["image/svg+xml"]
    reply, outputs = run_cell(kc, "%%sql --plot line -x hour\nSELECT 1 AS hour")
    assert reply["status"] == "error" and "needs -x COL and -y COL" in reply["evalue"], reply
