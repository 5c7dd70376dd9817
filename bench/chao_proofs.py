"""Chao et al. (1996) reference scores proven to be above the optimum (issue 15).

The Chao TOP benchmark's reference (``reference_scores_chao1996.csv``) holds the scores that Chao,
Golden & Wasil (1996, EJOR 88(3):464-474) *reported* for their heuristic. On the cases below no plan
can reach that score under the benchmark's convention (real-valued Euclidean travel, as read by
:func:`instances.benchmarks.read_chao_top` and checked by :func:`optimizer.toptw.verify`): the exact
model :func:`models.top_bound.top_upper_bound` with ``target = ref`` is infeasible, i.e. it proves
``optimum < ref``. ``bench.quality`` flags these cases ("ref above proven optimum") instead of
counting them as a search that falls short.

Every entry is re-proven by ``tests/toptw/test_toptw_chao_reference.py`` (independent of the ILS;
the test fails if the bound model ever finds a plan reaching the reference, or if the stated optimum
is not what the model proves), so this table cannot drift from the proofs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHAO_REF_ABOVE_OPTIMUM", "ProvenCase"]


@dataclass(frozen=True, slots=True)
class ProvenCase:
    """A Chao case whose reported score ``ref`` exceeds the optimum.

    Attributes
    ----------
    ref : float
        Chao et al.'s (1996) reported score (the reference file's value).
    optimum : float | None
        The proven optimal score, where the exact model closes the gap in test time; None where only
        ``optimum < ref`` is proven.
    how : str
        How it is proven (the test that re-proves it).
    """

    ref: float
    optimum: float | None
    how: str


CHAO_REF_ABOVE_OPTIMUM: dict[tuple[str, str, int], ProvenCase] = {
    ("Set_66_234", "p5.3.e", 3): ProvenCase(110.0, 95.0, "exhaustive enumeration; flow MILP: score >= 110 infeasible"),
    ("Set_21_234", "p2.3.h", 3): ProvenCase(170.0, 165.0, "exhaustive enumeration; flow MILP: score >= 170 infeasible"),
    ("Set_32_234", "p1.3.h", 3): ProvenCase(75.0, 70.0, "flow MILP: score >= 75 and >= 71 infeasible; ILS 70"),
    ("Set_32_234", "p1.3.o", 3): ProvenCase(215.0, None, "flow MILP: score >= 215 infeasible (ILS 205)"),
    ("Set_64_234", "p6.4.k", 4): ProvenCase(546.0, None, "flow MILP: score >= 546 infeasible (ILS 528)"),
}
"""``{(set, instance, m): ProvenCase}``: the reference is above the proven optimum."""
