"""The routing engine shared by the tour planner and the benchmark TOPTW: Numba kernels (schedules,
insertion with Wait/MaxShift slack, removal, greedy fill) and the iterated local search driver.

Imports only numpy, numba and ``optimizer.core``.
"""

from optimizer.core.engine.ils import ILSParams, SearchResult, run_ils
from optimizer.core.engine.kernels import KernelProblem, RouteState, new_state

__all__ = ["ILSParams", "KernelProblem", "RouteState", "SearchResult", "new_state", "run_ils"]
