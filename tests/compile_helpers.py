"""Shared by the cold-compile tests: a script prelude that records, in ``compiled``, every function
Numba compiles in the process (module.qualname, from ``numba.core.event``'s ``numba:compile`` events)."""

COMPILE_LISTENER = r"""
import json, sys
from numba.core import event
compiled = []
class L(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__module__ + "." + ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", L())
"""
