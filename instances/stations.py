"""Reader of the stations file (``instances/lhasa/stations.csv``): existing and candidate sites of
oxygen stations and EV chargers.

Columns: ``site_id`` (a site of the network), ``kind`` (``oxygen`` | ``charger`` | ``both``),
``status`` (``existing`` | ``candidate``), ``capacity`` (seats or charge points, optional),
``cost_cny`` (optional), ``provenance``, ``notes``. Errors are ``RecordError`` (an
``InvalidInput``) naming the file, the row, the field and the value.
"""

from __future__ import annotations

from pathlib import Path

from instances._csv import float_field, read_csv_records, record_context, text_field
from instances.paths import STATIONS_CSV
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.stations.demand import StationSite, candidate_sites

COLUMNS = ("site_id", "kind", "status", "capacity", "cost_cny", "provenance", "notes")
REQUIRED = ("site_id", "kind", "status")

__all__ = ["COLUMNS", "read_candidate_sites", "read_stations"]


def read_stations(path: Path | str | None = None, network: Network | None = None) -> tuple[StationSite, ...]:
    """The rows of a stations file (default ``instances/lhasa/stations.csv``), in file order.

    With ``network``, every ``site_id`` must be a site of it. Raises ``RecordError`` naming the
    file, row, field and value.
    """
    p = Path(path) if path is not None else STATIONS_CSV
    _, records = read_csv_records(p, required=REQUIRED, known=COLUMNS)
    out = []
    for rec in records:
        with record_context(str(p), rec.where):
            site = StationSite(site_id=text_field(rec, "site_id"), kind=text_field(rec, "kind"),
                               status=text_field(rec, "status"), capacity=float_field(rec, "capacity", False),
                               cost_cny=float_field(rec, "cost_cny", False),
                               provenance=text_field(rec, "provenance", False) or "",
                               notes=text_field(rec, "notes", False) or "")
            if network is not None and not network.has_site(site.site_id):
                raise InvalidInput("site_id", site.site_id, "is not a site of the network")
        out.append(site)
    return tuple(out)


def read_candidate_sites(kind: str, network: Network | None = None,
                         path: Path | str | None = None) -> tuple[tuple[str, ...], frozenset[str]]:
    """(candidate site ids for ``kind``, the subset that already exists) from a stations file
    (``optimizer.stations.demand.candidate_sites`` over ``read_stations(path)``)."""
    return candidate_sites(read_stations(path), kind, network)
