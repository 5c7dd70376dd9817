"""Family-level outputs: JSON round trip, tables that agree with the plan, a plot on an Axes."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from itin_cases import random_problem

from optimizer.core.stop import MaxIterations
from optimizer.itineraries.report import hotel_nights_table, plot_group_days, to_dict, visits_table
from optimizer.itineraries.solve import solve


def test_report_outputs():
    pb = random_problem(1)
    sol = solve(pb, MaxIterations(50), seed=0)
    d = json.loads(json.dumps(to_dict(pb, sol)))
    assert d["score"] == sol.score and len(d["itineraries"]) == len(sol.itineraries)
    vt = visits_table(pb, sol)
    assert vt.height == sum(len(r.visits) for it in sol.itineraries for r in it.days)
    ht = hotel_nights_table(pb, sol)
    assert int(ht["rooms_used"].sum()) == sum(g.rooms * g.n_nights for g in pb.groups
                                              if sol.itinerary(g.id) is not None)
    fig, ax = plt.subplots()
    plot_group_days(pb, sol, sol.itineraries[0].group_id, ax)
    assert ax.get_title().startswith(sol.itineraries[0].group_id)
    plt.close(fig)
