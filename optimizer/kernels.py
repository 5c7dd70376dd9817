"""Transitional re-export: the routing kernels live in ``optimizer.core.engine.kernels``."""

from optimizer.core.engine.kernels import *  # noqa: F401,F403
