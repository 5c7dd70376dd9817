"""Transitional re-export: the ILS driver lives in ``optimizer.core.engine.ils``, the stopping
criterion in ``optimizer.core.stop``."""

from optimizer.core.engine.ils import *  # noqa: F401,F403
from optimizer.core.engine.ils import ILSParams, SearchResult, run_ils  # noqa: F401
from optimizer.core.stop import MaxIterations, MaxRuntime, NoImprovement, StoppingCriterion  # noqa: F401
