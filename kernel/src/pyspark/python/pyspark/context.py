"""`SparkContext`: the parts of the Spark context notebooks touch, over the
active session."""

from pyspark.conf import SparkConf


class SparkContext:
    _active_spark_context = None

    def __init__(self, master=None, appName=None, conf=None, **_ignored):
        from pyspark.sql.session import SparkSession

        builder = SparkSession.builder
        if conf is not None:
            builder = builder.config(conf=conf)
        if master:
            builder = builder.master(master)
        if appName:
            builder = builder.appName(appName)
        self._session = builder.getOrCreate()
        SparkContext._active_spark_context = self

    @classmethod
    def getOrCreate(cls, conf=None):
        from pyspark.sql.session import SparkSession

        if cls._active_spark_context is None:
            cls(conf=conf)
        return cls._active_spark_context

    @classmethod
    def _of(cls, session):
        context = cls.__new__(cls)
        context._session = session
        cls._active_spark_context = context
        return context

    @property
    def master(self):
        return self._session.conf.get("spark.master", "local[*]")

    @property
    def appName(self):
        return self._session.conf.get("spark.app.name", "pyspark-shell")

    @property
    def defaultParallelism(self):
        return self._session._parallelism()

    @property
    def version(self):
        return self._session.version

    @property
    def uiWebUrl(self):
        return None

    def setLogLevel(self, logLevel):
        pass

    def _conf_contains(self, key):
        return self._session._conf_get(key) is not None

    def parallelize(self, c, numSlices=None):
        """An RDD of a local collection, sliced as Spark slices it."""
        from pyspark.rdd import _from_partitions

        n = self.defaultParallelism if numSlices is None else int(numSlices)
        if n < 1:
            from pyspark.errors import PySparkValueError

            raise PySparkValueError(f"Positive number of partitions required, got {n}.")
        data = c if isinstance(c, (range, list, tuple)) else list(c)
        length = len(data)
        slices = [list(data[i * length // n : (i + 1) * length // n]) for i in range(n)]
        return _from_partitions(
            self, slices, "ParallelCollectionRDD[{id}] at readRDDFromFile at PythonRDD.scala:289"
        )

    def range(self, start, end=None, step=1, numSlices=None):
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self):
        from pyspark.rdd import _from_partitions

        return _from_partitions(self, [], "EmptyRDD[{id}] at emptyRDD at NativeMethodAccessorImpl.java:0")

    def textFile(self, name, minPartitions=None, use_unicode=True):
        """The lines of a file, or of every file in a directory or glob, one
        partition per file."""
        import glob
        import os

        from pyspark.errors import AnalysisException
        from pyspark.rdd import _from_partitions

        from _kiln_pyspark import check_local_path

        paths = []
        for pattern in str(name).split(","):
            check_local_path(pattern)
            pattern = pattern.removeprefix("file://")
            if os.path.isdir(pattern):
                matches = [
                    os.path.join(pattern, f)
                    for f in sorted(os.listdir(pattern))
                    if not f.startswith((".", "_"))
                ]
            else:
                matches = sorted(glob.glob(pattern))
            if not matches:
                raise AnalysisException(
                    f"[PATH_NOT_FOUND] Input path does not exist: file:{os.path.abspath(pattern)}."
                )
            paths.extend(matches)

        def read(path):
            opener = open
            if path.endswith(".gz"):
                import gzip

                opener = gzip.open
            with opener(path, "rt", encoding="utf-8", newline="") as f:
                return [line.rstrip("\r\n") for line in f]

        return _from_partitions(
            self, [read(p) for p in paths], f"{name} MapPartitionsRDD[{{id}}] at textFile at NativeMethodAccessorImpl.java:0"
        )

    def getConf(self):
        conf = SparkConf()
        conf.setAll(self._session._conf_all())
        return conf

    def stop(self):
        self._session.stop()

    def __repr__(self):
        return f"<SparkContext master={self.master} appName={self.appName}>"
