"""`SparkConf`: key/value settings handed to a session builder."""


class SparkConf:
    def __init__(self, loadDefaults=True, _jvm=None, _jconf=None):
        self._conf = {}

    def set(self, key, value):
        self._conf[key] = str(value)
        return self

    def setIfMissing(self, key, value):
        self._conf.setdefault(key, str(value))
        return self

    def setMaster(self, value):
        return self.set("spark.master", value)

    def setAppName(self, value):
        return self.set("spark.app.name", value)

    def setAll(self, pairs):
        for k, v in pairs:
            self.set(k, v)
        return self

    def get(self, key, defaultValue=None):
        return self._conf.get(key, defaultValue)

    def getAll(self):
        return list(self._conf.items())

    def contains(self, key):
        return key in self._conf

    def toDebugString(self):
        return "\n".join(f"{k}={v}" for k, v in self._conf.items())
