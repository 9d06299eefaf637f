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

    def getConf(self):
        conf = SparkConf()
        conf.setAll(self._session._conf_all())
        return conf

    def stop(self):
        self._session.stop()

    def __repr__(self):
        return f"<SparkContext master={self.master} appName={self.appName}>"
