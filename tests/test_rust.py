"""Rust cells (evcxr): the "Kiln (Rust)" kernel and `%%rust` in the Kiln
kernel, driven through jupyter_client. cargo and rustc compile each cell."""

import time

import pytest

from conftest import run_cell, started_kernel, stdout_of

# The first Rust cell starts evcxr (rust-analyzer and a first build).
FIRST_CELL_TIMEOUT = 300
CELL_TIMEOUT = 120


@pytest.fixture(scope="module")
def rust_kernel():
    with started_kernel("kiln-rust", startup_timeout=60) as (km, kc):
        reply, _ = run_cell(kc, "let answer = 40 + 2;", timeout=FIRST_CELL_TIMEOUT)
        assert reply["status"] == "ok", reply
        yield km, kc


def result_of(outputs):
    results = [c["data"] for t, c in outputs if t == "execute_result"]
    return results[0] if results else None


def test_the_rust_kernel_speaks_rust(rust_kernel):
    _, kc = rust_kernel
    kc.kernel_info()
    info = kc.get_shell_msg(timeout=10)["content"]
    assert info["language_info"]["name"] == "rust"
    assert info["language_info"]["file_extension"] == ".rs"


def test_variables_persist_and_output_streams(rust_kernel):
    _, kc = rust_kernel
    reply, outputs = run_cell(kc, 'println!("answer = {answer}");\nanswer * 2', timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok"
    assert stdout_of(outputs) == "answer = 42\n"
    assert result_of(outputs) == {"text/plain": "84"}
    reply, outputs = run_cell(kc, 'let words: Vec<String> = vec!["a".into(), "b".into()];', timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok"
    reply, outputs = run_cell(kc, "words.join(\"+\")", timeout=CELL_TIMEOUT)
    assert result_of(outputs) == {"text/plain": '"a+b"'}


def test_a_compile_error_is_drawn_like_rustc(rust_kernel):
    _, kc = rust_kernel
    reply, outputs = run_cell(kc, 'let n = 1;\nlet s: i32 = "text";', timeout=CELL_TIMEOUT)
    assert reply["status"] == "error"
    assert reply["ename"] == "CompileError"
    assert reply["evalue"] == "error[E0308]: mismatched types"
    drawn = "\n".join(reply["traceback"])
    plain = __import__("re").sub(r"\x1b\[[0-9;]*m", "", drawn)
    assert "error[E0308]: mismatched types" in plain
    assert "--> cell:2:14" in plain
    assert '2 | let s: i32 = "text";' in plain
    assert "^^^^^^ expected `i32`, found `&str`" in plain
    assert [t for t, _ in outputs].count("error") == 1


def test_a_panic_is_an_error_and_the_kernel_keeps_earlier_variables(rust_kernel):
    _, kc = rust_kernel
    reply, _ = run_cell(kc, 'let lost = 1;\npanic!("no trips for {}", answer);', timeout=CELL_TIMEOUT)
    assert reply["status"] == "error"
    assert reply["ename"] == "Panic"
    assert reply["evalue"] == "no trips for 42"
    reply, outputs = run_cell(kc, "answer + 1", timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok"
    assert result_of(outputs) == {"text/plain": "43"}


def test_a_value_with_evcxr_display_shows_its_mime_output(rust_kernel):
    _, kc = rust_kernel
    code = (
        "struct Badge(&'static str);\n"
        "impl Badge {\n"
        "    fn evcxr_display(&self) {\n"
        '        println!("EVCXR_BEGIN_CONTENT text/html\\n<b>{}</b>\\nEVCXR_END_CONTENT", self.0);\n'
        "    }\n"
        "}\n"
        'Badge("kiln")'
    )
    reply, outputs = run_cell(kc, code, timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    assert result_of(outputs) == {"text/html": "<b>kiln</b>"}


def test_dep_adds_a_crate(rust_kernel):
    _, kc = rust_kernel
    reply, outputs = run_cell(
        kc, ':dep itoa = "1"\nlet mut buffer = itoa::Buffer::new();\nbuffer.format(1234).to_string()',
        timeout=FIRST_CELL_TIMEOUT,
    )
    assert reply["status"] == "ok", reply
    assert result_of(outputs) == {"text/plain": '"1234"'}


def test_python_and_sql_cells_in_the_rust_kernel(rust_kernel):
    _, kc = rust_kernel
    reply, outputs = run_cell(kc, "%%python\nfrom pyspark.sql import SparkSession\n"
                              "spark = SparkSession.builder.getOrCreate()\n"
                              "spark.range(3).createOrReplaceTempView('r')\nprint('python here')")
    assert reply["status"] == "ok", reply
    assert stdout_of(outputs) == "python here\n"
    reply, outputs = run_cell(kc, "%%sql\nSELECT count(*) AS n FROM r")
    assert reply["status"] == "ok", reply
    assert any("3" in str(c) for t, c in outputs if t in ("display_data", "execute_result", "stream"))


def test_an_interrupt_stops_a_running_rust_cell(rust_kernel):
    km, kc = rust_kernel
    msg_id = kc.execute("std::thread::sleep(std::time::Duration::from_secs(120));")
    time.sleep(3)
    started = time.monotonic()
    km.interrupt_kernel()
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    assert time.monotonic() - started < 10
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    reply, outputs = run_cell(kc, "let again = 1 + 1;\nagain", timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    assert result_of(outputs) == {"text/plain": "2"}


def test_rust_cell_magic_in_the_python_kernel(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, '%%rust\nlet n: u64 = (1..=10).sum();\nprintln!("{n}");',
                              timeout=FIRST_CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    assert stdout_of(outputs) == "55\n"
    reply, outputs = run_cell(kc, "print('still python')")
    assert stdout_of(outputs) == "still python\n"


def test_a_rust_cell_computes_over_a_python_view_and_sql_reads_its_result(rust_kernel):
    _, kc = rust_kernel
    reply, _ = run_cell(kc, "%%python\nfrom pyspark.sql import SparkSession\n"
                        "spark = SparkSession.builder.getOrCreate()\n"
                        "spark.createDataFrame([(1, 10.0), (1, 5.5), (2, 3.0)], ['zone', 'amount'])"
                        ".createOrReplaceTempView('trips_data')")
    assert reply["status"] == "ok", reply
    code = (
        'let trips = kiln::table("trips_data")?;\n'
        "let report = trips\n"
        '    .filter("amount > 1")?\n'
        '    .group_by(&["zone"])\n'
        '    .agg(&["count(*) AS trips", "sum(amount) AS revenue"])?\n'
        '    .order_by(&["revenue DESC"])?;\n'
        'report.create_or_replace_temp_view("report")?;\n'
        'println!("{:?}", report.collect()?);\n'
        "report"
    )
    reply, outputs = run_cell(kc, code, timeout=FIRST_CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    assert stdout_of(outputs) == (
        "[[Long(1), Long(2), Double(15.5)], [Long(2), Long(1), Double(3.0)]]\n")
    shown = result_of(outputs)
    assert 'class="kiln-table"' in shown["text/html"]
    assert shown["text/plain"].splitlines()[1] == "|zone|trips|revenue|"
    reply, outputs = run_cell(kc, "%%sql\nSELECT revenue FROM report WHERE zone = 2")
    assert reply["status"] == "ok", reply
    assert "3.0" in str(outputs)


def test_a_kiln_error_propagated_with_question_mark_fails_the_cell(rust_kernel):
    _, kc = rust_kernel
    reply, outputs = run_cell(kc, 'let missing = kiln::table("no_such_view")?;', timeout=CELL_TIMEOUT)
    assert reply["status"] == "error"
    assert reply["ename"] == "kiln::Error"
    assert "TABLE_OR_VIEW_NOT_FOUND" in reply["evalue"]
    assert "no_such_view" not in stdout_of(outputs) + str([c for t, c in outputs if t == "stream"])
    # Handled in the cell, the same error is just a value.
    reply, outputs = run_cell(
        kc, 'let handled = kiln::table("no_such_view").is_err();\nhandled', timeout=CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    assert result_of(outputs) == {"text/plain": "true"}


def test_a_plotters_chart_shows_as_svg(rust_kernel):
    _, kc = rust_kernel
    code = (
        ':dep plotters = { version = "0.3", default-features = false, '
        'features = ["evcxr", "line_series"] }\n'
        "use plotters::prelude::*;\n"
        "evcxr_figure((320, 200), |root| {\n"
        "    let mut chart = ChartBuilder::on(&root).build_cartesian_2d(0..10, 0..100)?;\n"
        "    chart.draw_series(LineSeries::new((0..10).map(|x| (x, x * x)), &RED))?;\n"
        "    Ok(())\n"
        "})"
    )
    reply, outputs = run_cell(kc, code, timeout=FIRST_CELL_TIMEOUT)
    assert reply["status"] == "ok", reply
    shown = result_of(outputs)
    assert "<svg" in shown["text/html"]
    assert "polyline" in shown["text/html"]
