"""Serves Kiln's embedded `pyspark` modules ahead of every other finder, so
`import pyspark` means Kiln's even when PySpark is installed; sources are
kept for tracebacks and `inspect`."""

import importlib.abc
import importlib.util
import sys


class KilnPysparkFinder(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.sources:
            return importlib.util.spec_from_loader(
                fullname,
                self,
                origin=self._origin(fullname),
                is_package=self.sources[fullname][1],
            )
        return None

    def _origin(self, fullname):
        path = fullname.replace(".", "/")
        return f"<kiln>/{path}/__init__.py" if self.sources[fullname][1] else f"<kiln>/{path}.py"

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        module.__file__ = self._origin(name)
        if self.sources[name][1]:
            module.__path__ = []
        exec(compile(self.sources[name][0], module.__file__, "exec"), module.__dict__)

    def get_source(self, fullname):
        return self.sources[fullname][0] if fullname in self.sources else None

    def is_package(self, fullname):
        return self.sources[fullname][1]


def install(sources):
    for name in list(sys.modules):
        if name == "pyspark" or name.startswith("pyspark."):
            del sys.modules[name]
    sys.meta_path.insert(0, KilnPysparkFinder(dict(sources)))
