"""The Dask.distributed executor of the scenario runner (``api.services.scenarios.executor_for``), on a local
cluster of 2 worker processes: the same code path as local processes, the same results."""

from __future__ import annotations

import json

import polars as pl
import pytest

from api.services.scenarios import load_file, run_set

distributed = pytest.importorskip("distributed")

OUT_FILES = ("kpis.parquet", "kpis.csv", "site_peaks.csv", "unserved_by_site.csv", "max_scale_95.csv",
             "legs.csv", "sites.csv", "scenarios.json", "site_slot_usage_all.parquet")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as c:
        yield c


def test_dask_back_end_gives_the_local_results(tmp_path, tiny_scenario_file, cluster):
    sset = load_file(tiny_scenario_file(iterations=150, groups=30))
    local = run_set(sset, tmp_path / "local", jobs=1).kpis
    ran = run_set(sset, tmp_path / "dask", cluster=cluster.scheduler_address)
    assert ran.violations == () and ran.run.unserved == ()
    dask = ran.kpis
    assert dask.drop("runtime_s").equals(local.drop("runtime_s"))
    assert dask["scenario"].to_list() == ["tiny x1", "tiny x2", "potala small"]
    assert dask["violations"].to_list() == [0, 0, 0]
    for name in OUT_FILES:
        assert (tmp_path / "dask" / name).exists(), name
    for name in ("unserved_by_site.csv", "max_scale_95.csv", "legs.csv", "site_peaks.csv"):
        assert pl.read_csv(tmp_path / "dask" / name).equals(pl.read_csv(tmp_path / "local" / name)), name
    for slug in ("tiny-x1", "tiny-x2", "potala-small"):
        a = json.loads((tmp_path / "dask" / slug / "kpis.json").read_text())
        b = json.loads((tmp_path / "local" / slug / "kpis.json").read_text())
        a.pop("runtime_s"), b.pop("runtime_s")
        assert a == b
        assert pl.read_parquet(tmp_path / "dask" / slug / "site_slot_usage.parquet").equals(
            pl.read_parquet(tmp_path / "local" / slug / "site_slot_usage.parquet"))


def test_dask_runner_accepts_a_client_and_names_a_bad_address(tmp_path, cluster):
    from distributed import Client

    from optimizer.core.errors import InvalidInput

    f = tmp_path / "one.toml"
    f.write_text('[base]\niterations = 30\n[base.demand]\ngroups = 8\n', encoding="utf-8")
    sset = load_file(f)
    seen = []
    with Client(cluster.scheduler_address) as client:
        k = run_set(sset, tmp_path / "out", cluster=client, progress=lambda *a: seen.append(a)).kpis
        assert client.status != "closed"  # a caller's client is left open
    assert k.height == 1 and k["violations"][0] == 0
    assert seen == [(1, 1, "base")]  # the caller's progress callback, as with local processes
    with pytest.raises(InvalidInput) as e:
        run_set(sset, tmp_path / "x", cluster="")
    assert e.value.field == "cluster"


def test_cli_cluster_option(tmp_path, cluster):
    from typer.testing import CliRunner

    from api.cli.main import app

    f = tmp_path / "one.toml"
    f.write_text('[base]\niterations = 30\n[base.demand]\ngroups = 8\n', encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scenarios", "run", str(f), "--out", str(out),
                                 "--cluster", cluster.scheduler_address])
    assert r.exit_code == 0, r.output
    assert (out / "kpis.csv").exists() and (out / "report.html").exists() and (out / "base" / "kpis.json").exists()
