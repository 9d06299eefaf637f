"""Routes IPython's display functions to Kiln.

Outside an IPython shell, `IPython.display.display` falls back to `print`.
Users write `from IPython.display import display, HTML, clear_output`, so
when IPython's display module is first imported, its functions are replaced
by Kiln's before anything can bind the originals.
"""

import importlib.abc
import importlib.util
import sys

import _kiln

_TARGET = "IPython.core.display_functions"
_ROUTED = {
    "display": _kiln.display,
    "update_display": _kiln.update_display,
    "clear_output": _kiln.clear_output,
}


class _RoutingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        for name, function in _ROUTED.items():
            setattr(module, name, function)


class _RoutingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RoutingLoader(spec.loader)
        return spec


sys.meta_path.insert(0, _RoutingFinder())
