"""In a real browser: JupyterLab, driven by headless Chromium through
Playwright, opens a notebook on the Kiln kernel and runs it — a session card,
a table, a long job with its live progress, and a chart — then asserts on the
rendered page and saves the screenshots the README shows (into
`$KILN_SCREENSHOTS` when set, `docs/screenshots` being the README's)."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a machine without outside network (Chromium otherwise keeps
# calling home) and without a display; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

CELLS = [
    ("markdown", "# Green taxi trips, January 2021"),
    ("code", """from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.appName("taxi tour").getOrCreate()
spark"""),
    ("code", """trips = spark.read.csv("data/raw/green/2021/01/", header=True, inferSchema=True)
trips.select("lpep_pickup_datetime", "PULocationID", "DOLocationID", "trip_distance", "total_amount")"""),
    ("code", """zones = spark.read.csv("data/taxi_zone_lookup.csv", header=True, inferSchema=True)
report = (trips.join(zones, trips.PULocationID == zones.LocationID)
    .groupBy("Zone", F.date_trunc("hour", "lpep_pickup_datetime").alias("hour"))
    .agg(F.sum("total_amount").alias("revenue"), F.count("*").alias("trips")))
top = report.orderBy(F.desc("revenue")).limit(5).collect()
len(top)"""),
    ("code", """by_hour = (trips.groupBy(F.hour("lpep_pickup_datetime").alias("hour"))
    .agg(F.count("*").alias("trips")).orderBy("hour"))
by_hour.plot.bar(x="hour", y="trips")"""),
]


ALL_CELLS_RAN = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                    .every(p => /\\[\\d+\\]/.test(p.textContent))"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a folder with the tour notebook and generated data."""
    root = tmp_path_factory.mktemp("lab")
    log = tmp_path_factory.mktemp("lab-log") / "lab.log"
    kiln = KernelSpecManager().get_kernel_spec("kiln").argv[0]
    subprocess.run([kiln, "datagen", "taxi", "--root", str(root / "data"), "--datasets", "green",
                    "--rows-per-month", "100000"], check=True, capture_output=True)
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "kiln", "display_name": "Kiln", "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    nbformat.write(nb, root / "tour.ipynb")
    port, token = free_port(), "kiln-browser-test"
    config = root / ".config"
    # No "get notified about Jupyter news?" toast over the screenshots.
    notifications = config / "lab/user-settings/@jupyterlab/apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={root / '.workspaces'}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                json.load(r)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.3)
    try:
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def page(lab):
    url, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 2400})
        page = context.new_page()
        page.goto(f"{url}/lab/tree/tour.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        page.get_by_text("Kiln | Idle").wait_for(timeout=60_000)
        # The notebook alone, with room for wide tables.
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
        yield page
        browser.close()


def screenshot_dir(tmp_path_factory):
    chosen = os.environ.get("KILN_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def code_cell(page, i):
    return page.locator(".jp-Notebook .jp-CodeCell").nth(i)


def test_a_notebook_renders_tables_progress_and_charts(page, tmp_path_factory):
    shots = screenshot_dir(tmp_path_factory)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()

    # Each job's live display: one bar per stage while it runs. Kept: a
    # screenshot of the busiest one seen (the most stages at once).
    busiest, texts = 0, []
    deadline = time.monotonic() + 300
    while not page.evaluate(ALL_CELLS_RAN):
        assert time.monotonic() < deadline, "the notebook did not finish in 300 s"
        running = page.locator(".kiln-progress")
        bars = page.locator(".kiln-progress progress").count()
        if bars > busiest:
            try:
                texts.append(running.first.inner_text(timeout=1000))
                page.locator(".jp-CodeCell", has=running).first.screenshot(
                    path=str(shots / "progress.png"), timeout=2000)
                busiest = bars
            except PlaywrightError:
                pass  # the job ended meanwhile
        time.sleep(0.05)
    assert busiest >= 1 and any(re.search(r"Stage \d+ \(\w[\w ]*\)\s+\d+/\d+ tasks", t) for t in texts), texts

    # Errors render as stderr; a notebook cell gets the progress display, never the console bar.
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, [e.inner_text() for e in stderr.all()]

    card = code_cell(page, 0).locator(".jp-OutputArea-output").last
    assert "SparkSession" in card.inner_text() and "local[*]" in card.inner_text(), card.inner_text()

    table = code_cell(page, 1).locator(".kiln-table table")
    headers = [h.inner_text().split("\n") for h in table.locator("thead th").all()]
    assert headers[0] == ["lpep_pickup_datetime", "timestamp"], headers
    assert headers[-1] == ["total_amount", "double"], headers
    assert table.locator("tbody tr").count() == 20
    assert table.locator("tbody td.kiln-num").count() == 20 * 4
    assert code_cell(page, 1).locator(".kiln-more").inner_text() == "only showing top 20 rows"
    code_cell(page, 1).screenshot(path=str(shots / "table.png"))

    # Each job collapsed to its summary line.
    summaries = [s.inner_text() for s in page.locator(".kiln-progress-done").all()]
    assert summaries and page.locator(".kiln-progress").count() == 0, summaries
    pattern = re.compile(r"\d+ stages? · \d+ tasks? · [\d.]+[KMB]? rows · [\d.]+ s")
    assert all(pattern.fullmatch(s) for s in summaries), summaries
    assert code_cell(page, 2).locator(".jp-OutputArea-output").last.inner_text() == "5"

    # The chart: an SVG that the browser drew, 24 bars, its labels.
    chart = code_cell(page, 3).locator("img[src^='data:image/svg+xml']")
    chart.wait_for()
    drawn = chart.evaluate("""img => {
        const svg = new DOMParser().parseFromString(decodeURIComponent(img.src.split(',')[1]), 'image/svg+xml');
        const fills = {};
        for (const r of svg.querySelectorAll('rect')) {
            const f = r.getAttribute('fill');
            fills[f] = (fills[f] || 0) + 1;
        }
        return {width: img.naturalWidth, bars: Math.max(...Object.values(fills)),
                texts: [...svg.querySelectorAll('text')].map(t => t.textContent.trim())};
    }""")
    assert drawn["width"] > 0, drawn
    assert drawn["bars"] == 24, drawn
    assert "trips by hour" in drawn["texts"] and "hour" in drawn["texts"], drawn["texts"]
    code_cell(page, 3).screenshot(path=str(shots / "chart.png"))
