"""Every notebook in notebooks/ runs top to bottom on the installed Kiln
kernelspec, on the quick data set, in course order and in one folder (later
notebooks read what earlier ones wrote). After each course notebook, checks
run in the same kernel: row counts, the files each write produced, and
report totals reconciled with a direct computation over the generated CSVs."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))

# Python that runs after the notebook, in its kernel: each line an assertion.
PREAMBLE = '''
import contextlib, csv, glob, gzip, io, os
from collections import Counter
from pyspark.sql import functions as F

def raw_rows(dataset):
    """The generated CSV rows, read with Python's csv module: the reference."""
    rows = []
    for path in sorted(glob.glob(f"data/raw/{dataset}/*/*/*.csv.gz")):
        with gzip.open(path, "rt", newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows

def printed(action):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        action()
    return out.getvalue()

def close(a, b):
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)
'''
CHECKS = {
    "00-kiln-tour.ipynb": [],
    "01-setup-check.ipynb": [
        "assert df.count() == 265",
        "assert len(glob.glob('zones/part-*.snappy.parquet')) == 1, glob.glob('zones/*')",
        "assert os.path.exists('zones/_SUCCESS')",
        "assert spark.read.parquet('zones').count() == 265",
    ],
    "02-first-look-fhvhv.ipynb": [
        "assert df.count() == ROWS['fhvhv']",
        "assert len(glob.glob('data/pq/fhvhv/2021/01/part-*.snappy.parquet')) == 24",
        "assert df.schema == schema, df.schema",
        "assert df.filter(df.hvfhs_license_num == 'HV0003').count() > 0",
    ],
    "03-taxi-schema.ipynb": [
        "assert all(len(glob.glob(f'data/pq/{c}/{y}/{m:02d}/part-*.snappy.parquet')) == 4"
        " for c in ('green', 'yellow') for y, m in months)",
        "assert spark.read.parquet('data/pq/green/*/*').count() == 19 * ROWS['green']",
        "assert spark.read.parquet('data/pq/yellow/*/*').count() == 19 * ROWS['yellow']",
    ],
    "04-spark-sql.ipynb": [
        "report = spark.read.parquet('data/report/revenue/')",
        "assert len(glob.glob('data/report/revenue/part-*.snappy.parquet')) == 1",
        "expected = sum(float(r['total_amount']) for c in ('green', 'yellow') for r in raw_rows(c)"
        " if r['total_amount'])",
        "got = report.agg(F.sum('revenue_monthly_total_amount')).first()[0]",
        "assert close(got, expected), (got, expected)",
        "assert report.count() == df_result.count() > 0",
        "counts = dict(df_trips_data.groupBy('service_type').count().collect())",
        "assert counts == {'green': len(raw_rows('green')), 'yellow': len(raw_rows('yellow'))}, counts",
    ],
    "05-groupby-join.ipynb": [
        "green_raw = [r for r in raw_rows('green') if r['lpep_pickup_datetime'] >= '2020-01-01 00:00:00']",
        "yellow_raw = [r for r in raw_rows('yellow') if r['tpep_pickup_datetime'] >= '2020-01-01 00:00:00']",
        "assert all(len(glob.glob(f'data/report/revenue/{c}/part-*.snappy.parquet')) == 20 for c in ('green', 'yellow'))",
        "got = spark.read.parquet('data/report/revenue/green').agg(F.sum('amount')).first()[0]",
        "assert close(got, sum(float(r['total_amount']) for r in green_raw)), got",
        "keys = {(r['lpep_pickup_datetime'][:13], r['PULocationID']) for r in green_raw}"
        " | {(r['tpep_pickup_datetime'][:13], r['PULocationID']) for r in yellow_raw}",
        "assert df_join.count() == len(keys), (df_join.count(), len(keys))",
        "assert 'BroadcastHashJoin' in printed(df_result.explain)",
        "assert 'Exchange hashpartitioning' in printed(spark.sql('SELECT PULocationID, count(1) FROM green GROUP BY 1').explain)",
        "columns = spark.read.parquet('tmp/revenue-zones').columns",
        "assert 'Borough' in columns and 'Zone' not in columns, columns",
    ],
    "06-rdds.ipynb": [
        "by_rdd = spark.read.parquet('tmp/green-revenue')",
        "by_sql = spark.read.parquet('data/report/revenue/green')",
        "assert by_rdd.count() == by_sql.count()",
        "assert close(by_rdd.agg(F.sum('revenue')).first()[0], by_sql.agg(F.sum('amount')).first()[0])",
        "assert df_predicts.count() == df_green.count()",
        "assert df_predicts.filter(F.abs(F.col('predicted_duration') - 5 * F.col('trip_distance')) > 1e-9).count() == 0",
    ],
    "07-homework.ipynb": [
        "fhvhv = raw_rows('fhvhv')",
        "assert len(sizes) == 24",
        "assert df.withColumn('d', F.to_date('pickup_datetime')).filter(\"d = '2021-01-15'\").count()"
        " == sum(r['pickup_datetime'].startswith('2021-01-15') for r in fhvhv)",
        "top = df.groupBy('dispatching_base_num').count().orderBy('count', ascending=False).first()",
        "assert tuple(top) == Counter(r['dispatching_base_num'] for r in fhvhv).most_common(1)[0], top",
    ],
    "08-charts.ipynb": [],
}


def test_every_notebook_has_checks():
    assert sorted(CHECKS) == [p.name for p in NOTEBOOKS]


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("course")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_its_results_check_out(path, course_dir):
    nb = nbformat.read(path, as_version=4)
    checks = PREAMBLE + "\n".join(CHECKS[path.name])
    nb.cells.append(nbformat.v4.new_code_cell(checks))
    client = NotebookClient(
        nb, kernel_name="kiln", timeout=600, resources={"metadata": {"path": str(course_dir)}}
    )
    client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: {output}"
            text = output.get("text", "")
            # Job progress goes to stderr as Spark's console bar here (nbclient is no notebook UI).
            text = re.sub(r"\r\[Stage [^\r]*\r|\r *\r", "", text)
            # As in PySpark, the course's deprecated calls warn (registerTempTable).
            text = re.sub(r"<Cell In\[\d+\]>:\d+: FutureWarning: .*\n.*\n?", "", text)
            assert output.get("name") != "stderr" or not text.strip(), f"{path.name}: {text}"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    if path.name == "00-kiln-tour.ipynb":
        assert any(o.get("data", {}).get("text/html", "").startswith("<span") for o in outputs)
    if path.name == "08-charts.ipynb":
        charts = [o["data"]["text/plain"] for o in outputs if "image/svg+xml" in o.get("data", {})]
        assert len(charts) == 4, charts
        assert charts[0] == "<line chart: green, yellow by revenue_month, 19 rows>", charts
