"""Live day plans (issue 17): bookings against a stored plan, alternatives when full,
re-planning after disruptions with a fixed prefix, and the checks of every version.

Public surface::

    from optimizer.days import DayEvent, DayProblem, create_day, book, commit_booking, apply_event, solve
    from optimizer.days import ledger, verify, verify_state, verify_transition
    state, stats = create_day("2026-08-01", network, groups, StoppingCriterion(max_iterations=2000))
    res = book(state, group, *ledger(state))            # -> BookingResult (booked / full / unservable)
    rep = apply_event(state, DayEvent("road_closed", 660.0, road=("a", "b")), MaxRuntime(5))
    assert verify_state(rep.state) == [] and verify_transition(state, rep.state) == []
    plan = solve(DayProblem(network, log), stop)        # the family contract: play a whole log online
    assert verify(DayProblem(network, log), plan) == []
"""

from optimizer.days.problem import EVENT_KINDS, DayEvent, DayProblem, LogEntry, Segment
from optimizer.days.solution import DayPlan, VersionSummary
from optimizer.days.solve import (
    Alternative,
    BookingResult,
    GroupChange,
    Replan,
    apply_event,
    book,
    cancel_booking,
    check_event,
    commit_booking,
    create_day,
    diff_states,
    solve,
)
from optimizer.days.state import DayState, day_kpis, ledger, network_at
from optimizer.days.verify import DayViolation, verify, verify_state, verify_transition

__all__ = [
    "EVENT_KINDS",
    "Alternative",
    "BookingResult",
    "DayEvent",
    "DayPlan",
    "DayProblem",
    "DayState",
    "DayViolation",
    "GroupChange",
    "LogEntry",
    "Replan",
    "Segment",
    "VersionSummary",
    "apply_event",
    "book",
    "cancel_booking",
    "check_event",
    "commit_booking",
    "create_day",
    "day_kpis",
    "diff_states",
    "ledger",
    "network_at",
    "solve",
    "verify",
    "verify_state",
    "verify_transition",
]
