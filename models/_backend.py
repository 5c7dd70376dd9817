"""The one back-end layer every formulation uses: CP-SAT, MathOpt (SCIP), PuLP (CBC) and HiGHS.

Each back end reports its outcome in the shared status words of ``optimizer.core.results``
(``optimal``, ``feasible``, ``infeasible``, ``no_solution_in_time``); its time limit comes from the
caller's ``StoppingCriterion`` through ``time_left_s``; ``gap`` is computed one way for all.

Integer data for CP-SAT: every model scales its coefficients by one documented factor with
``to_int`` (which checks for overflow of the int64 range CP-SAT accepts, ``INT_LIMIT``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.core.clock import Deadline
from optimizer.core.errors import InvalidInput
from optimizer.core.results import FEASIBLE, INFEASIBLE, NO_SOLUTION_IN_TIME, OPTIMAL, relative_gap
from optimizer.core.stop import StoppingCriterion

INT_LIMIT = 2**53  # largest magnitude a scaled coefficient may take (CP-SAT sums stay inside int64)
DEFAULT_TIME_LIMIT_S = 60.0  # an exact model given a stop with no runtime limit still ends


@dataclass(frozen=True, slots=True)
class BackendOutcome:
    """What a back end answered: shared status word, objective and bound in the model's own units,
    relative gap, wall seconds of the back-end call, and the back end's name."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    runtime_s: float
    backend: str

    @property
    def has_solution(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)


def time_left_s(stop: StoppingCriterion, deadline: Deadline, floor_s: float = 0.01) -> float:
    """Seconds a back end may use: what is left of ``stop.max_runtime_s`` since ``deadline`` started
    (at least ``floor_s``), or ``DEFAULT_TIME_LIMIT_S`` when the stop has no runtime limit."""
    if stop.max_runtime_s is None:
        return DEFAULT_TIME_LIMIT_S
    return stop.time_left_s(deadline, floor_s)


def to_int(value: float, scale: float, field_name: str) -> int:
    """``round(value * scale)`` as int; ``InvalidInput`` if not finite or beyond ``INT_LIMIT``."""
    x = float(value) * float(scale)
    if not math.isfinite(x) or abs(x) > INT_LIMIT:
        raise InvalidInput(field_name, value, f"too large for the integer model (scale {scale:g}, limit {INT_LIMIT:.3g})")
    return int(round(x))


# ------------------------------------------------------------------------------------------------
# CP-SAT


def cpsat_solver(time_limit_s: float, workers: int = 1, seed: int = 0, rel_gap: float = 0.0):
    """A configured ``cp_model.CpSolver``: time limit, workers, seed and relative gap limit."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(max(time_limit_s, 0.001))
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    if rel_gap > 0:
        solver.parameters.relative_gap_limit = float(rel_gap)
    return solver


def cpsat_status(code: int) -> str:
    """Shared status word for a CP-SAT status code. ``MODEL_INVALID`` is a bug in the model, so it
    raises ``RuntimeError`` rather than posing as a result."""
    from ortools.sat.python import cp_model

    if code == cp_model.OPTIMAL:
        return OPTIMAL
    if code == cp_model.FEASIBLE:
        return FEASIBLE
    if code == cp_model.INFEASIBLE:
        return INFEASIBLE
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the model as invalid (a bug in the formulation)")
    return NO_SOLUTION_IN_TIME


def cpsat_outcome(solver, code: int, runtime_s: float, scale: float = 1.0, *,
                  gap_limited: bool = False) -> BackendOutcome:
    """``BackendOutcome`` of a finished CP-SAT solve; objective and bound divided by ``scale``.

    ``gap_limited``: the solver ran with a relative (or absolute) gap limit. CP-SAT then answers
    OPTIMAL as soon as the limit is reached, so the status is ``optimal`` only when the objective
    and the bound differ by less than one unit of the (integer) model objective, else ``feasible``
    with the gap."""
    status = cpsat_status(code)
    if status not in (OPTIMAL, FEASIBLE):
        return BackendOutcome(status, None, None, None, runtime_s, "cpsat")
    if status == OPTIMAL and gap_limited and abs(solver.objective_value - solver.best_objective_bound) >= 1.0:
        status = FEASIBLE
    obj = solver.objective_value / scale
    bound = solver.best_objective_bound / scale
    return BackendOutcome(status, obj, bound, 0.0 if status == OPTIMAL else relative_gap(obj, bound),
                          runtime_s, "cpsat")


# ------------------------------------------------------------------------------------------------
# MathOpt, PuLP, HiGHS


def mathopt_status(result) -> str:
    """Shared status word for a ``mathopt.SolveResult``."""
    from ortools.math_opt.python import mathopt

    reason = result.termination.reason
    if reason == mathopt.TerminationReason.INFEASIBLE:
        return INFEASIBLE
    if not result.has_primal_feasible_solution():
        return NO_SOLUTION_IN_TIME
    return OPTIMAL if reason == mathopt.TerminationReason.OPTIMAL else FEASIBLE


def pulp_status(prob) -> str:
    """Shared status word for a solved ``pulp.LpProblem`` (reads ``status`` and ``sol_status``)."""
    import pulp

    if prob.status == pulp.LpStatusInfeasible:
        return INFEASIBLE
    sol = getattr(prob, "sol_status", None)
    if sol == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal:
        return OPTIMAL
    if sol == pulp.LpSolutionIntegerFeasible:
        return FEASIBLE
    if sol == pulp.LpSolutionInfeasible:
        return INFEASIBLE
    return NO_SOLUTION_IN_TIME


def highs_status(res) -> str:
    """Shared status word for a ``scipy.optimize.milp`` result (HiGHS): 0 optimal, 1 limit reached,
    2 infeasible, 3 unbounded, 4 other."""
    if res.status == 0:
        return OPTIMAL
    if res.status == 2:
        return INFEASIBLE
    if res.x is not None:
        return FEASIBLE
    return NO_SOLUTION_IN_TIME
