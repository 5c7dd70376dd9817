"""The embedded Lhasa instance and its loader: contents, shortest paths, clear errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from instances.loader import LHASA_DIR, load_lhasa
from optimizer.core.errors import InvalidInput


def test_instance_has_the_promised_contents(lhasa_network):
    """>= 45 sites with coordinates, the 58 road segments, rings and circles as zones."""
    net = lhasa_network
    assert net.n >= 45 and len(net.roads) == 58
    assert all(np.isfinite([s.lat, s.lon]).all() for s in net.sites)
    potala = net.site("potala")
    assert potala.daily_quota == 5000 and potala.slot_quota == 834 and potala.score == 100
    assert {"R1", "R2", "R3", "C1", "C8"} <= set(net.zones)
    assert all(net.has_site(s) for members in net.zones.values() for s in members)


def test_matrices_are_shortest_paths(lhasa_network):
    """Travel times are symmetric, finite, obey the triangle inequality, and match sourced distances."""
    t, d = lhasa_network.travel_min, lhasa_network.distance_km
    assert np.isfinite(t).all() and np.allclose(t, t.T) and np.all(np.diag(t) == 0)
    # triangle inequality: no pair can be improved through a third site
    via = (t[:, :, None] + t[None, :, :]).min(axis=1)
    assert np.all(t <= via + 1e-9)
    i = lhasa_network.index
    # FACTS.md: Tashi Dor (Namtso) 238 km in the model, Ganden 57 km
    assert d[i("potala"), i("namtso_tashi")] == pytest.approx(238.0)
    assert d[i("potala"), i("ganden")] == pytest.approx(57.0)


def test_malformed_sites_file_names_row_and_column(tmp_path):
    """A bad number in sites.csv is reported with the file, the row and the column."""
    for f in LHASA_DIR.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    text = (tmp_path / "sites.csv").read_text(encoding="utf-8").splitlines()
    cells = text[2].split(",")
    cells[9] = "-5"  # score column of the second site
    text[2] = ",".join(cells)
    (tmp_path / "sites.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"sites.csv: row 2 \(line 3\): site\[jokhang\].score=-5.0"):
        load_lhasa(tmp_path)


def test_road_to_unknown_site_is_rejected(tmp_path):
    """A road whose end is not a site is an error naming the row and the end."""
    for f in LHASA_DIR.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    with open(tmp_path / "roads.csv", "a", encoding="utf-8") as fh:
        fh.write("potala,atlantis,x,1,10,6,3650,1,1,K,\n")
    with pytest.raises(InvalidInput, match=r"roads.csv: row 59 \(line 60\): to=.atlantis."):
        load_lhasa(tmp_path)
