"""Figures and a self-contained HTML report of a scenario run (``optimizer.scenario_runner``).

``write_report(out_dir)`` reads the tables ``run_scenarios`` wrote to ``out_dir`` and adds:

* ``heatmap_<slug>.png`` per scenario: site x hour. Top panel: slot-quota utilisation (persons
  entering in the hour / slot quota) of the sites with a slot quota; bottom panel: persons
  entering per hour at the sites with only a daily quota and the 15 busiest other sites.
* ``unserved_by_site.png``: unserved must-visits per site (bars) across the scenarios.
* ``report.html``: one file, no external JS/CSS: the KPI table, ``max_scale_95`` per site, and
  per scenario an inline SVG map (sites placed by lon/lat; sites with a quota coloured by peak
  utilisation - slot quota if any, else daily; other sites grey, sized by persons; lines for the
  20 busiest site-to-site legs, width by persons; a whole-region map and an old-town close-up)
  and the heatmap, embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

N_BUSIEST_OTHERS = 15
N_LEGS = 20
CITY_BBOX = (91.035, 91.165, 29.615, 29.712)  # lon_min, lon_max, lat_min, lat_max: the old town

KPI_SHOWN = ("scenario", "groups", "served_pct", "visitors", "visitors_served", "must_visits_unserved",
             "unserved_closed", "unserved_unreachable", "unserved_window", "unserved_quota", "unserved_time",
             "unserved_zone", "mean_score_per_visitor", "mean_wait_min", "peak_slot_util_max", "violations",
             "runtime_s")


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _read(out: Path) -> dict[str, Any]:
    for name in ("kpis.csv", "site_peaks.csv", "site_slot_usage_all.parquet", "sites.csv", "scenarios.json"):
        if not (out / name).exists():
            from optimizer.domain import InvalidInput
            raise InvalidInput("out_dir", str(out), f"missing {name}: run run_scenarios first")
    return {
        "kpis": pl.read_csv(out / "kpis.csv"),
        "peaks": pl.read_csv(out / "site_peaks.csv", schema_overrides={"slot_quota": pl.Int64, "daily_quota": pl.Int64,
                                                                      "peak_slot_util": pl.Float64,
                                                                      "daily_util": pl.Float64}),
        "usage": pl.read_parquet(out / "site_slot_usage_all.parquet"),
        "unserved": pl.read_csv(out / "unserved_by_site.csv", schema_overrides={"must_visits": pl.Int64,
                                                                               "persons": pl.Int64}),
        "legs": pl.read_csv(out / "legs.csv", schema_overrides={"persons": pl.Int64}),
        "sites": pl.read_csv(out / "sites.csv"),
        "max95": pl.read_csv(out / "max_scale_95.csv", schema_overrides={"max_scale_95": pl.Float64}),
        "meta": json.loads((out / "scenarios.json").read_text(encoding="utf-8")),
    }


# ---------------------------------------------------------------------------------------------
# PNGs


def heatmap(usage: pl.DataFrame, peaks: pl.DataFrame, title: str, path: Path) -> Path:
    """Site x hour heatmap of one scenario (see the module docstring)."""
    plt = _plt()
    u = usage.with_columns(((pl.col("slot_start").str.slice(0, 2).cast(pl.Int64))).alias("hour"))
    by = u.group_by(["site_id", "hour"]).agg(pl.col("persons").sum())
    slotted = peaks.filter(pl.col("slot_quota").is_not_null()).sort("site_id")
    quota = {r["site_id"]: r["slot_quota"] for r in slotted.iter_rows(named=True)}
    others = (peaks.filter(pl.col("slot_quota").is_null() & (pl.col("daily_persons") > 0))
              .sort(["daily_quota", "daily_persons"], descending=[False, True], nulls_last=True))
    daily_q = others.filter(pl.col("daily_quota").is_not_null())["site_id"].to_list()
    busiest = others.filter(pl.col("daily_quota").is_null()).head(N_BUSIEST_OTHERS)["site_id"].to_list()
    names = {r["site_id"]: r["site_name"] for r in peaks.iter_rows(named=True)}
    hours = list(range(6, 23))
    cell = {(r["site_id"], r["hour"]): r["persons"] for r in by.iter_rows(named=True)}
    top = list(quota)
    bottom = daily_q + busiest
    A = np.array([[cell.get((s, h), 0) / quota[s] if quota[s] else np.nan for h in hours] for s in top]) \
        if top else np.zeros((0, len(hours)))
    B = np.array([[cell.get((s, h), 0) for h in hours] for s in bottom], dtype=float) \
        if bottom else np.zeros((0, len(hours)))
    heights = [max(1, len(top)), max(1, len(bottom))]
    fig, axes = plt.subplots(2, 1, figsize=(10, 1.2 + 0.32 * (sum(heights) + 4)),
                             gridspec_kw={"height_ratios": heights})
    for ax, M, rows, label, cmap, vmax in (
        (axes[0], A, top, "slot-quota utilisation", "magma_r", max(1.0, float(np.nanmax(A)) if A.size else 1.0)),
        (axes[1], B, bottom, "persons entering per hour", "Blues", float(B.max()) if B.size and B.max() > 0 else 1.0),
    ):
        if not rows:
            ax.axis("off")
            ax.set_title(f"{label}: no sites")
            continue
        im = ax.imshow(M, aspect="auto", cmap=cmap, vmin=0, vmax=vmax)
        ax.set_yticks(range(len(rows)), [f"{names.get(s, s)[:34]}{' *' if s in daily_q else ''}" for s in rows],
                      fontsize=8)
        ax.set_xticks(range(len(hours)), [f"{h:02d}" for h in hours], fontsize=8)
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                v = M[i, j]
                if np.isfinite(v) and v > 0:
                    txt = f"{v:.2f}" if M is A else f"{int(v)}"
                    ax.text(j, i, txt, ha="center", va="center", fontsize=6,
                            color="white" if v > 0.6 * vmax else "black")
        fig.colorbar(im, ax=ax, label=label, fraction=0.03)
        ax.set_xlabel("hour of entry")
    axes[0].set_title(f"{title}: site x hour (* = daily quota only)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def unserved_chart(unserved: pl.DataFrame, scenarios: list[str], path: Path) -> Path:
    """Grouped bars: unserved must-visits per site, one bar colour per scenario."""
    plt = _plt()
    sites = sorted(set(unserved["site_id"].to_list())) if not unserved.is_empty() else []
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(sites) + 3), 4.5))
    if not sites:
        ax.text(0.5, 0.5, "every must-visit served in every scenario", ha="center", va="center")
        ax.axis("off")
    else:
        agg = unserved.group_by(["scenario", "site_id"]).agg(pl.col("must_visits").sum())
        val = {(r["scenario"], r["site_id"]): r["must_visits"] for r in agg.iter_rows(named=True)}
        width = 0.8 / max(1, len(scenarios))
        for k, sc in enumerate(scenarios):
            ax.bar([i + k * width for i in range(len(sites))], [val.get((sc, s), 0) for s in sites], width,
                   label=sc)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sites))], sites, rotation=30, ha="right")
        ax.set_ylabel("unserved must-visits (groups)")
        ax.legend(fontsize=7, ncol=2)
    ax.set_title("Unserved must-visits by site across scenarios")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------
# SVG map


def _colour(u: float) -> str:
    import matplotlib
    cm = matplotlib.colormaps["RdYlGn_r"]
    r, g, b, _ = cm(min(1.0, max(0.0, u)))
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def map_svg(sites: pl.DataFrame, peaks: pl.DataFrame, legs: pl.DataFrame, bbox: tuple[float, float, float, float]
            | None = None, width: int = 520, title: str = "") -> str:
    """An inline SVG of sites inside ``bbox`` (all sites if None) coloured by utilisation, and the
    ``N_LEGS`` busiest legs with both ends inside."""
    present = set(peaks["site_id"].to_list())
    # a POI missing from this scenario's peaks is a site another scenario added: not drawn here
    pos = {r["site_id"]: (r["lon"], r["lat"], r["name_en"]) for r in sites.iter_rows(named=True)
           if not r["is_poi"] or r["site_id"] in present}
    full_region = bbox is None
    if bbox is None:
        lons = [p[0] for p in pos.values()]
        lats = [p[1] for p in pos.values()]
        pad_lon, pad_lat = 0.05 * (max(lons) - min(lons) or 1), 0.05 * (max(lats) - min(lats) or 1)
        bbox = (min(lons) - pad_lon, max(lons) + pad_lon, min(lats) - pad_lat, max(lats) + pad_lat)
    x0, x1, y0, y1 = bbox
    kx = math.cos(math.radians((y0 + y1) / 2))
    height = int(width * (y1 - y0) / ((x1 - x0) * kx))

    def xy(sid: str) -> tuple[float, float]:
        lon, lat, _ = pos[sid]
        return (lon - x0) / (x1 - x0) * width, (y1 - lat) / (y1 - y0) * height

    inside = {s for s, (lon, lat, _) in pos.items() if x0 <= lon <= x1 and y0 <= lat <= y1}
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="background:#f7f7f2;border:1px solid #ccc">'),
             f'<text x="6" y="16" font-size="12" font-family="sans-serif">{html.escape(title)}</text>']
    top = legs.filter(pl.col("a").is_in(list(inside)) & pl.col("b").is_in(list(inside))) \
        .sort("persons", descending=True).head(N_LEGS)
    pmax = max(top["persons"].to_list(), default=1) or 1
    for r in top.iter_rows(named=True):
        (ax_, ay), (bx, by) = xy(r["a"]), xy(r["b"])
        w = 0.8 + 7.0 * r["persons"] / pmax
        parts.append(f'<line x1="{ax_:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#3366aa" '
                     f'stroke-opacity="0.55" stroke-width="{w:.1f}"><title>{html.escape(r["a"])} - '
                     f'{html.escape(r["b"])}: {r["persons"]} persons</title></line>')
    pk = {r["site_id"]: r for r in peaks.iter_rows(named=True)}
    dmax = max([r["daily_persons"] for r in pk.values()] + [1])
    for sid in sorted(inside):
        x, y = xy(sid)
        name = pos[sid][2]
        r = pk.get(sid)
        if r is None:  # hub
            parts.append(f'<rect x="{x - 2:.1f}" y="{y - 2:.1f}" width="4" height="4" fill="#888">'
                         f'<title>{html.escape(name)} (hub)</title></rect>')
            continue
        util = r["peak_slot_util"] if r["peak_slot_util"] is not None else r["daily_util"]
        rad = 4 + 10 * math.sqrt(r["daily_persons"] / dmax)
        tip = f"{name}: {r['daily_persons']} persons/day"
        if r.get("closed"):
            fill, tip = "#000000", tip + " (closed)"
        elif util is not None:
            fill, tip = _colour(util), tip + f", peak utilisation {util:.0%}"
        else:
            fill = "#bbbbbb"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{fill}" fill-opacity="0.85" '
                     f'stroke="#333" stroke-width="0.6"><title>{html.escape(tip)}</title></circle>')
        in_city = CITY_BBOX[0] <= pos[sid][0] <= CITY_BBOX[1] and CITY_BBOX[2] <= pos[sid][1] <= CITY_BBOX[3]
        if full_region and in_city:
            continue  # the old-town close-up labels these
        if util is not None or r["daily_persons"] >= 0.25 * dmax:
            parts.append(f'<text x="{x + rad + 2:.1f}" y="{y + 3:.1f}" font-size="9" font-family="sans-serif">'
                         f'{html.escape(name[:28])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# HTML


def _b64(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _table(df: pl.DataFrame) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"
        return html.escape(str(v))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in df.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:sans-serif;margin:20px;color:#222}table{border-collapse:collapse;font-size:12px;
margin:8px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}
td:first-child{text-align:left}h2{margin-top:28px;border-bottom:1px solid #ccc}.maps{display:flex;gap:12px;
flex-wrap:wrap}img{max-width:100%}.note{color:#555;font-size:12px}"""


def write_report(out_dir: Path | str) -> Path:
    """Write the PNGs and ``report.html`` into ``out_dir`` (after ``run_scenarios``); returns the HTML path."""
    out = Path(out_dir)
    d = _read(out)
    meta = d["meta"]
    names = [m["name"] for m in meta]
    pngs: dict[str, Path] = {}
    for m in meta:
        usage = d["usage"].filter(pl.col("scenario") == m["name"])
        peaks = d["peaks"].filter(pl.col("scenario") == m["name"])
        pngs[m["slug"]] = heatmap(usage, peaks, m["name"], out / f"heatmap_{m['slug']}.png")
    un_png = unserved_chart(d["unserved"], names, out / "unserved_by_site.png")

    kpis = d["kpis"].select([c for c in KPI_SHOWN if c in d["kpis"].columns]
                            + [c for c in d["kpis"].columns if c.startswith("peak_util_")])
    max95 = d["max95"]
    if not max95.is_empty():
        max95 = max95.pivot(on="family", index="site_id", values="max_scale_95").sort("site_id")
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lhasa scenario report</title>",
             f"<style>{CSS}</style></head><body><h1>Lhasa tour scenarios</h1>",
             ("<p class='note'>Served = a route with every original must-visit visited. Unserved reasons: closed "
             "(site closed by the scenario), unreachable (no open road), window, quota (every reachable entry "
             "slot full), time, zone. Peak utilisation = busiest entry slot / slot quota. violations must be 0 "
             "(independent verifier).</p>"),
             "<h2>KPIs</h2>", _table(kpis),
             "<h2>Scenarios</h2><ul>" + "".join(f"<li><b>{html.escape(m['name'])}</b>: {html.escape(m['changes'])}"
                                                  "</li>" for m in meta) + "</ul>",
             "<h2>Unserved must-visits by site</h2>", f"<img src='{_b64(un_png)}' alt='unserved by site'>",
             "<h2>Largest demand scale with &ge; 95 % of must-visit groups served</h2>",
             ("<p class='note'>Per scenario family (a demand_scale sweep, or one scenario): the largest scale "
             "tested at which at least 95 % of the groups that must see the site get it; empty = at none of "
             "the scales tested. Only meaningful across a sweep.</p>"), _table(max95)]
    for m in meta:
        peaks = d["peaks"].filter(pl.col("scenario") == m["name"])
        legs = d["legs"].filter(pl.col("scenario") == m["name"])
        sites = d["sites"]
        parts += [f"<h2>{html.escape(m['name'])}</h2><p class='note'>{html.escape(m['changes'])}</p>",
                  "<div class='maps'>", map_svg(sites, peaks, legs, None, 520, "Lhasa region"),
                  map_svg(sites, peaks, legs, CITY_BBOX, 520, "Old town"), "</div>",
                  ("<p class='note'>Circles: green to red = peak utilisation of a quota (0 to 100 %), grey = no "
                  "quota, black = closed; size = persons/day. Lines: the 20 busiest site-to-site legs, width "
                  "= persons. Squares: hubs.</p>"),
                  f"<img src='{_b64(pngs[m['slug']])}' alt='heatmap {html.escape(m['name'])}'>"]
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
