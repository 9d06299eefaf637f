"""`df.plot`: PySpark 4's plotting API drawn by Kiln (plotters, SVG) instead
of plotly. The engine reduces the data first, as PySpark's backends do:
line, bar, barh and area take the first `spark.sql.pyspark.plotting.max_rows`
rows (1000), scatter a sample of that many, hist counts rows per bin and box
takes quartiles in the engine; a note under the chart says when rows were
left out; kde evaluates its densities in the engine."""

import datetime
import math

from pyspark.errors import PySparkTypeError, PySparkValueError


class Chart:
    """A drawn chart: SVG (and PNG) in notebooks, a one-line description
    elsewhere."""

    def __init__(self, drawing, text):
        self.svg, self.png = drawing
        self.text = text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg, "image/png": self.png, "text/plain": self.text}

    def __repr__(self):
        return self.text


def _number(value):
    """A value as a position: instants as wall-clock seconds since the
    epoch (drawn as dates), dates as their midnight."""
    if value is None:
        return math.nan
    if isinstance(value, datetime.datetime):
        return (value.replace(tzinfo=None) - datetime.datetime(1970, 1, 1)).total_seconds()
    if isinstance(value, datetime.date):
        return float((value - datetime.date(1970, 1, 1)).days * 86_400)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class PySparkPlotAccessor:
    """`df.plot.line(x, y)`, `df.plot.bar(...)`, `df.plot(kind=...)`."""

    _kinds = ("line", "bar", "barh", "area", "scatter", "pie", "box", "kde", "hist")

    def __init__(self, data):
        self.data = data

    def __call__(self, kind="line", **kwargs):
        if kind not in self._kinds:
            raise PySparkValueError(
                f"[UNSUPPORTED_PLOT_KIND] Plot kind '{kind}' is not supported. Supported kinds: "
                + ", ".join(self._kinds)
                + "."
            )
        return getattr(self, kind)(**kwargs)

    def _max_rows(self):
        return int(self.data.sparkSession.conf.get("spark.sql.pyspark.plotting.max_rows", "1000"))

    def _columns(self, x, y):
        if not isinstance(x, str):
            raise PySparkTypeError(f"[NOT_EXPECTED_TYPE] Argument `x` should be str, got {type(x).__name__}.")
        ys = [y] if isinstance(y, str) else list(y or [])
        if not ys:
            raise PySparkValueError("[UNSUPPORTED_PLOT_ARGUMENT] `y` names one column or a list of columns.")
        return ys

    def _draw(self, kind, x, ys, rows, note, kwargs):
        from _kiln_pyspark import render_chart

        title = kwargs.get("title") or f"{', '.join(ys)} by {x}"
        x_label = kwargs.get("xlabel", x)
        y_label = kwargs.get("ylabel", ys[0] if len(ys) == 1 else "value")
        xs = [row[0] for row in rows]
        categories = [str(v) for v in xs]
        times = bool(xs) and all(isinstance(v, datetime.date) or v is None for v in xs)
        numeric = times or all(isinstance(v, (int, float)) or v is None for v in xs)
        positions = [_number(v) for v in xs] if numeric else [float(i) for i in range(len(xs))]
        series = [(name, [_number(row[i + 1]) for row in rows]) for i, name in enumerate(ys)]
        drawing = render_chart(kind, title, x_label, y_label, categories, positions, series, note, times)
        shown = f"{len(rows)} rows" + (f" ({note})" if note else "")
        return Chart(drawing, f"<{kind} chart: {title}, {shown}>")

    def _first_rows(self, kind, x, y, kwargs):
        ys = self._columns(x, y)
        limit = self._max_rows()
        rows = self.data.select(x, *ys).limit(limit + 1).collect()
        note = None
        if len(rows) > limit:
            rows = rows[:limit]
            note = f"showing the first {limit} rows (spark.sql.pyspark.plotting.max_rows)"
        return self._draw(kind, x, ys, rows, note, kwargs)

    def line(self, x, y, **kwargs):
        return self._first_rows("line", x, y, kwargs)

    def bar(self, x, y, **kwargs):
        return self._first_rows("bar", x, y, kwargs)

    def barh(self, x, y, **kwargs):
        return self._first_rows("barh", x, y, kwargs)

    def area(self, x, y, **kwargs):
        return self._first_rows("area", x, y, kwargs)

    def scatter(self, x, y, **kwargs):
        ys = self._columns(x, y)
        limit = self._max_rows()
        frame = self.data.select(x, *ys)
        total = frame.count()
        note = None
        if total > limit:
            frame = frame.sample(fraction=min(1.0, 1.2 * limit / total), seed=42).limit(limit)
            note = f"a sample of {limit} of {total} rows (spark.sql.pyspark.plotting.max_rows)"
        return self._draw("scatter", x, ys, frame.collect(), note, kwargs)

    def hist(self, column=None, bins=10, **kwargs):
        """Counts per bin, computed in the engine: rows never leave it."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import NumericType

        from _kiln_pyspark import render_chart

        if column is None:
            column = [f.name for f in self.data.schema.fields if isinstance(f.dataType, NumericType)]
        columns = [column] if isinstance(column, str) else list(column)
        if not columns:
            raise PySparkValueError("[PLOT_NOT_NUMERIC_COLUMN] hist needs at least one numeric column.")
        bins = int(bins)
        if bins < 1:
            raise PySparkValueError("[UNSUPPORTED_PLOT_ARGUMENT] `bins` must be at least 1.")
        bounds = self.data.select(
            F.least(*[F.min(F.col(c).cast("double")) for c in columns]).alias("low")
            if len(columns) > 1 else F.min(F.col(columns[0]).cast("double")).alias("low"),
            F.greatest(*[F.max(F.col(c).cast("double")) for c in columns]).alias("high")
            if len(columns) > 1 else F.max(F.col(columns[0]).cast("double")).alias("high"),
        ).collect()[0]
        low = 0.0 if bounds["low"] is None else bounds["low"]
        high = 1.0 if bounds["high"] is None else bounds["high"]
        if high <= low:
            high = low + 1.0
        width = (high - low) / bins
        edges = [low + i * width for i in range(bins + 1)]
        series = []
        for c in columns:
            value = F.col(c).cast("double")
            bucket = F.least(F.floor((value - F.lit(low)) / F.lit(width)), F.lit(bins - 1)).cast("int")
            counts = dict(
                (r[0], r[1])
                for r in self.data.where(value.isNotNull()).groupBy(bucket.alias("b")).count().collect()
            )
            series.append((c, [float(counts.get(i, 0)) for i in range(bins)]))
        title = kwargs.get("title") or f"Histogram of {', '.join(columns)}"
        drawing = render_chart(
            "hist", title, kwargs.get("xlabel", columns[0] if len(columns) == 1 else "value"),
            kwargs.get("ylabel", "count"), [], edges, series, None,
        )
        return Chart(drawing, f"<hist chart: {title}, {bins} bins>")

    def pie(self, x, y, **kwargs):
        if not isinstance(y, str):
            raise PySparkValueError(
                "[UNSUPPORTED_PIE_PLOT_PARAM] Pie plot requires a single `y` column, got "
                f"{type(y).__name__}."
            )
        return self._first_rows("pie", x, y, kwargs)

    def box(self, column, precision=0.01, **kwargs):
        """Quartiles from the engine's percentile_approx; whiskers at the
        furthest values within 1.5 IQR of the box, values beyond them drawn
        as points (at most max_rows of them)."""
        from pyspark.sql import functions as F

        from _kiln_pyspark import render_chart

        columns = [column] if isinstance(column, str) else list(column)
        accuracy = max(1, int(1.0 / precision))
        quartiles = self.data.select(
            *[F.percentile_approx(F.col(c).cast("double"), [0.25, 0.5, 0.75], accuracy) for c in columns]
        ).collect()[0]
        series = []
        limit = self._max_rows()
        for c, stats in zip(columns, quartiles):
            if stats is None:
                raise PySparkValueError(f"[PLOT_NOT_NUMERIC_COLUMN] Column `{c}` has no values to plot.")
            q1, median, q3 = stats
            low_fence, high_fence = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
            value = F.col(c).cast("double")
            lower, upper = self.data.select(
                F.min(F.when(value >= low_fence, value)), F.max(F.when(value <= high_fence, value))
            ).collect()[0]
            outliers = [
                r[0]
                for r in self.data.where((value < low_fence) | (value > high_fence))
                .select(value)
                .limit(limit)
                .collect()
            ]
            series.append((c, [lower, q1, median, q3, upper] + outliers))
        title = kwargs.get("title") or f"Box plot of {', '.join(columns)}"
        drawing = render_chart("box", title, kwargs.get("xlabel", ""), kwargs.get("ylabel", "value"), [], [], series, None)
        return Chart(drawing, f"<box chart: {title}, {len(columns)} boxes>")

    def kde(self, bw_method, column=None, ind=None, **kwargs):
        """Gaussian kernel density with bandwidth `bw_method`, evaluated in
        the engine at `ind` points (1000 over the data's range widened by
        half of it, as PySpark's); over a sample of 10,000 rows when there
        are more (noted under the chart)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import NumericType

        from _kiln_pyspark import render_chart

        if not isinstance(bw_method, (int, float)) or isinstance(bw_method, bool) or bw_method <= 0:
            raise PySparkTypeError(
                f"[NOT_EXPECTED_TYPE] Argument `bw_method` should be int or float, got {type(bw_method).__name__}."
            )
        if column is None:
            column = [f.name for f in self.data.schema.fields if isinstance(f.dataType, NumericType)]
        columns = [column] if isinstance(column, str) else list(column)
        data = self.data.select(*[F.col(c).cast("double").alias(c) for c in columns])
        note = None
        total = data.count()
        sample_rows = 10_000
        if total > sample_rows:
            data = data.sample(fraction=min(1.0, 1.2 * sample_rows / total), seed=42).limit(sample_rows)
            note = f"density of a sample of {sample_rows} of {total} rows"
        if isinstance(ind, int) or ind is None:
            count = 1000 if ind is None else int(ind)
            bounds = data.select(
                *[F.min(c) for c in columns], *[F.max(c) for c in columns]
            ).collect()[0]
            lows = [v for v in bounds[: len(columns)] if v is not None]
            highs = [v for v in bounds[len(columns):] if v is not None]
            low, high = (min(lows), max(highs)) if lows else (0.0, 1.0)
            low, high = low - 0.5 * (high - low), high + 0.5 * (high - low)
            step = (high - low) / max(count - 1, 1)
            points = [low + i * step for i in range(count)]
        else:
            points = [float(p) for p in ind]
        scale = 1.0 / (float(bw_method) * math.sqrt(2 * math.pi))
        series = []
        for c in columns:
            densities = data.select(
                *[
                    (F.avg(F.exp(F.pow((F.lit(p) - F.col(c)) / F.lit(float(bw_method)), 2) * -0.5)) * scale).alias(f"p{i}")
                    for i, p in enumerate(points)
                ]
            ).collect()[0]
            series.append((c, [math.nan if d is None else d for d in densities]))
        title = kwargs.get("title") or f"Density of {', '.join(columns)}"
        drawing = render_chart("line", title, kwargs.get("xlabel", "value"), kwargs.get("ylabel", "density"),
                           [], points, series, note)
        return Chart(drawing, f"<kde chart: {title}, {len(points)} points>")
