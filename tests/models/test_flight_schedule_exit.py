"""A process that ends while the HiGHS thread of a flight schedule is still running exits cleanly
(``models.flight_schedule._join_left_running``): before, the interpreter shut down under the running
C++ solver and the process aborted ('terminate called without an active exception', exit -6)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    from api.services import flights
    problem = flights.schedule_problem_from_files()
    result = flights.schedule_day(problem, 0.3)
    print("unfinished" if "highs_unfinished" in result.schedule.model_stats else "finished")
""")


def test_exit_while_highs_runs_is_clean():
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "terminate called" not in p.stderr
    assert p.stdout.strip() in ("unfinished", "finished")
