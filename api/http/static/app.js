/* lhasa-ops planner: one Leaflet map, panels beside it (Day plan, Scenarios, Stations, Low altitude,
 * Week: multi-day itineraries, Live day: bookings and disruptions on a stored day plan).
 * Plain JavaScript, no build step; every request goes to this server (the background tiles are an
 * opt-in layer, used only when the browser is online). Charts are inline SVG drawn here. */
"use strict";
(() => {
  const S = {
    lang: localStorage.getItem("lhasa.lang") === "zh" ? "zh" : "en", page: "day", layers: null, siteById: {},
    day: null, dayGroup: null, sc: { form: null, job: null, results: [], headlines: [], doc: null, pick: null },
    st: { siting: null, charge: null, oxygen: null }, air: { drones: null, products: null, schedule: null },
    wk: { places: null, plan: null, day: 0, group: null }, lv: { day: null, versions: [], last: null, bookMsg: null, eventMsg: null },
  };
  window.lhasaApp = S; // for debugging in the console
  const $ = (sel) => document.querySelector(sel);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // ------------------------------------------------------------------ words and numbers
  function t(key, vars) {
    let s = (I18N[S.lang] && I18N[S.lang][key]) ?? I18N.en[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, v);
    return s;
  }
  function num(x, digits = 0) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    return new Intl.NumberFormat(S.lang === "zh" ? "zh-CN" : "en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(x);
  }
  const hhmm = (m) => { if (m === null || m === undefined) return "–"; const r = Math.round(m); return `${String(Math.floor(r / 60)).padStart(2, "0")}:${String(r % 60).padStart(2, "0")}`; };
  function siteName(id) { const s = S.siteById[id]; return s ? (S.lang === "zh" ? s.name_zh : s.name_en) : id; }
  function applyLang() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("#lang").textContent = S.lang === "zh" ? "English" : "中文";
    document.title = t("title");
  }
  function setStatus(msg, ok) { const el = $("#status"); el.textContent = msg || ""; el.className = ok ? "ok" : ""; }

  // ------------------------------------------------------------------ server
  async function api(method, url, body, raw) {
    const headers = {};
    const key = sessionStorage.getItem("lhasa.key");
    if (key) headers["X-API-Key"] = key;
    let payload;
    if (raw !== undefined) { payload = raw; headers["Content-Type"] = "application/octet-stream"; }
    else if (body !== undefined) { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
    const r = await fetch(url, { method, headers, body: payload });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const msg = data && data.message ? `${data.message}${data.field ? ` [${data.field}]` : ""}` : `HTTP ${r.status}`;
      const err = new Error(msg); err.status = r.status; err.body = data; // the page reads code/alternatives
      throw err;
    }
    return data;
  }
  async function busy(button, fn) {
    button.disabled = true; setStatus(t("running"));
    try { await fn(); setStatus(t("done"), true); } catch (e) { setStatus(`${t("failed")}: ${e.message}`); console.error(e); } finally { button.disabled = false; }
  }

  // ------------------------------------------------------------------ downloads
  function download(name, content, mime) {
    const blob = content instanceof Blob ? content : new Blob([content], { type: mime || "text/plain" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; document.body.appendChild(a); a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function toCsv(rows, cols) {
    const q = (v) => { const s = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
    return [cols.join(","), ...rows.map((r) => cols.map((c) => q(r[c])).join(","))].join("\n") + "\n";
  }
  function svgImage(svg) {
    return new Promise((resolve, reject) => {
      const clone = svg.cloneNode(true);
      clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      const w = svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal.width : svg.clientWidth;
      const h = svg.viewBox.baseVal && svg.viewBox.baseVal.height ? svg.viewBox.baseVal.height : svg.clientHeight;
      clone.setAttribute("width", w); clone.setAttribute("height", h);
      const img = new Image();
      img.onload = () => resolve({ img, w, h });
      img.onerror = reject;
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(clone));
    });
  }
  async function chartsPng(container, name) {
    const svgs = [...container.querySelectorAll("svg")];
    if (!svgs.length) return;
    const imgs = await Promise.all(svgs.map(svgImage));
    const W = Math.max(...imgs.map((i) => i.w)), H = imgs.reduce((a, i) => a + i.h + 10, 0);
    const c = document.createElement("canvas"); c.width = W; c.height = H;
    const g = c.getContext("2d"); g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    let y = 0; for (const i of imgs) { g.drawImage(i.img, 0, y, i.w, i.h); y += i.h + 10; }
    c.toBlob((b) => download(name, b, "image/png"));
  }
  async function mapPng() {
    const box = $("#map").getBoundingClientRect();
    const c = document.createElement("canvas"); c.width = box.width; c.height = box.height;
    const g = c.getContext("2d"); g.fillStyle = "#e9ecef"; g.fillRect(0, 0, c.width, c.height);
    for (const svg of document.querySelectorAll("#map .leaflet-overlay-pane svg")) {
      const r = svg.getBoundingClientRect();
      const clone = svg.cloneNode(true);
      clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      clone.setAttribute("width", r.width); clone.setAttribute("height", r.height);
      clone.style.transform = "";
      const img = new Image();
      await new Promise((res) => { img.onload = res; img.onerror = res; img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(clone)); });
      g.drawImage(img, r.left - box.left, r.top - box.top, r.width, r.height);
    }
    g.fillStyle = "#222"; g.font = "12px sans-serif";
    for (const el of document.querySelectorAll("#map .site-label")) {
      if (el.style.visibility === "hidden") continue;
      const r = el.getBoundingClientRect();
      if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) continue;
      g.fillText(el.textContent, r.left - box.left + 3, r.top - box.top + 12);
    }
    c.toBlob((b) => download(`lhasa-map-${S.page}.png`, b, "image/png"));
  }

  // ------------------------------------------------------------------ charts (inline SVG)
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  function utilColour(u) { // 0 green -> 0.5 yellow -> 1 red
    const x = Math.max(0, Math.min(1, u)); const hue = 120 * (1 - x);
    return `hsl(${hue}, 70%, ${x > 0.98 ? 45 : 55}%)`;
  }
  function barChart({ title, labels, values, unit = "", max = null, colours = null, width = 300 }) {
    const bh = 20, left = Math.min(150, 8 + 7 * Math.max(...labels.map((l) => String(l).length))), top = 24;
    const h = top + labels.length * (bh + 6) + 8;
    const vmax = max ?? Math.max(1e-9, ...values.map((v) => v || 0));
    const plotW = width - left - 60;
    let s = `<svg viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="12">`;
    s += `<rect width="100%" height="100%" fill="#fff"/><text x="4" y="15" font-weight="bold">${esc(title)}</text>`;
    labels.forEach((l, i) => {
      const y = top + i * (bh + 6); const v = values[i] || 0; const w = Math.max(0, plotW * v / vmax);
      s += `<text x="${left - 4}" y="${y + 14}" text-anchor="end">${esc(l)}</text>`;
      s += `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bh}" fill="${colours ? colours[i] : PALETTE[0]}"><title>${esc(l)}: ${num(v, 1)} ${esc(unit)}</title></rect>`;
      s += `<text x="${left + w + 4}" y="${y + 14}">${num(v, v < 10 ? 1 : 0)}${esc(unit)}</text>`;
    });
    return s + "</svg>";
  }
  function lineChart({ title, series, xLabels, yUnit = "", width = 560, height = 220 }) {
    const L = 46, R = 10, T = 24, B = 36, W = width - L - R, H = height - T - B;
    const n = Math.max(...series.map((s) => s.values.length), 1);
    const ymax = Math.max(1e-9, ...series.flatMap((s) => s.values.map((v) => v || 0)));
    const x = (i) => L + (n === 1 ? W / 2 : (W * i) / (n - 1)), y = (v) => T + H - (H * (v || 0)) / ymax;
    let s = `<svg viewBox="0 0 ${width} ${height + 16 * Math.ceil(series.length / 4)}" width="${width}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`;
    s += `<rect width="100%" height="100%" fill="#fff"/><text x="4" y="15" font-weight="bold" font-size="12">${esc(title)}</text>`;
    for (let k = 0; k <= 4; k++) { const v = (ymax * k) / 4; s += `<line x1="${L}" x2="${L + W}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${L - 4}" y="${y(v) + 4}" text-anchor="end">${num(v, v < 10 ? 1 : 0)}</text>`; }
    const step = Math.max(1, Math.ceil(n / 12));
    for (let i = 0; i < n; i += step) s += `<text x="${x(i)}" y="${T + H + 14}" text-anchor="middle">${esc(xLabels ? xLabels[i] : i)}</text>`;
    series.forEach((se, k) => {
      const pts = se.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      s += `<polyline fill="none" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="2" points="${pts}"><title>${esc(se.name)}</title></polyline>`;
      const lx = L + (k % 4) * (W / 4), ly = height + 4 + 16 * Math.floor(k / 4) - 8;
      s += `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${lx + 14}" y="${ly + 1}">${esc(se.name)}</text>`;
    });
    s += `<text x="${L}" y="${T - 2}" fill="#555">${esc(yUnit)}</text>`;
    return s + "</svg>";
  }
  const textWidth = (text) => [...String(text)].reduce((a, c) => a + (c.charCodeAt(0) > 0x2e80 ? 11 : 6.5), 0); // 11 px font
  function gantt({ title, rows, t0, t1, width = 560 }) { // rows: [{label, bars: [{a, b, colour, text, tip}]}]
    const L = 110, R = 10, T = 28, rh = 22, W = width - L - R, h = T + rows.length * rh + 24;
    const x = (m) => L + (W * (m - t0)) / Math.max(1, t1 - t0);
    let s = `<svg viewBox="0 0 ${width} ${h}" width="${width}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`;
    s += `<rect width="100%" height="100%" fill="#fff"/><text x="4" y="15" font-weight="bold" font-size="12">${esc(title)}</text>`;
    for (let m = Math.ceil(t0 / 60) * 60; m <= t1; m += 60) s += `<line x1="${x(m)}" x2="${x(m)}" y1="${T - 4}" y2="${h - 20}" stroke="#eee"/><text x="${x(m)}" y="${h - 6}" text-anchor="middle">${hhmm(m)}</text>`;
    rows.forEach((r, i) => {
      const y = T + i * rh;
      s += `<text x="${L - 4}" y="${y + 14}" text-anchor="end">${esc(r.label)}</text>`;
      for (const b of r.bars) {
        const w = Math.max(1, x(b.b) - x(b.a));
        s += `<rect x="${x(b.a).toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rh - 6}" fill="${b.colour}" stroke="#fff" stroke-width="0.5"><title>${esc(b.tip || b.text || "")}</title></rect>`;
        if (b.text && w > textWidth(b.text) + 4) s += `<text x="${(x(b.a) + w / 2).toFixed(1)}" y="${y + 14}" text-anchor="middle" fill="#fff">${esc(b.text)}</text>`;
      }
    });
    return s + "</svg>";
  }

  // ------------------------------------------------------------------ map
  const map = L.map("map", { keyboard: true, zoomSnap: 0.5, attributionControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  const base = { roads: L.layerGroup(), zones: L.layerGroup(), sites: L.layerGroup(), stations: L.layerGroup(), nofly: L.layerGroup() };
  const overlay = L.layerGroup().addTo(map);
  let tiles = null;
  const layerControl = L.control.layers(null, {}, { collapsed: true }).addTo(map);
  const siteMarkers = {};

  function drawBase() {
    const ly = S.layers;
    L.geoJSON(ly.roads, { style: { color: "#8a8a8a", weight: 1.5, opacity: 0.8 } ,
      onEachFeature: (f, l) => l.bindTooltip(() => `${esc(f.properties.name)}<br>${siteName(f.properties.a)} – ${siteName(f.properties.b)}: ${num(f.properties.length_km, 1)} ${t("km")}, ${num(f.properties.travel_min)} ${t("minutes")}`, { sticky: true }) }).addTo(base.roads);
    L.geoJSON(ly.zones, { style: (f) => f.properties.kind === "ring" ? { color: "#6a3d9a", weight: 2, dashArray: "6 4", fill: false } : { color: "#b15928", weight: 1, fillOpacity: 0.05, dashArray: "2 4" },
      onEachFeature: (f, l) => l.bindTooltip(esc(f.properties.name), { sticky: true }) }).addTo(base.zones);
    L.geoJSON(ly.no_fly, { style: { color: "#c00", weight: 1.5, fillColor: "#f33", fillOpacity: 0.18 },
      onEachFeature: (f, l) => l.bindTooltip(`${esc(f.properties.name)}<br>${esc(f.properties.reason || "")}`, { sticky: true }) }).addTo(base.nofly);
    for (const f of ly.stations.features) {
      const [lon, lat] = f.geometry.coordinates, p = f.properties;
      L.circleMarker([lat, lon], { radius: 7, color: "#0b5394", weight: 2, fill: false, dashArray: p.status === "existing" ? null : "2 2" })
        .bindTooltip(() => `${siteName(p.site_id)}: ${t(p.kind === "charger" ? "charger" : "oxygen")} (${p.status})`).addTo(base.stations);
    }
    for (const f of ly.sites.features) {
      const p = f.properties, [lon, lat] = f.geometry.coordinates;
      const m = L.circleMarker([lat, lon], { radius: p.hub ? 3 : 4.5, color: "#333", weight: 1, fillColor: p.hub ? "#999" : "#fff", fillOpacity: 1, className: "site-dot" });
      m.bindPopup(() => `<b>${esc(siteName(p.id))}</b><br>${esc(p.kind)} · ${p.open}–${p.close}` + (p.slot_quota ? `<br>${t("sc_slot")}: ${num(p.slot_quota)} ${t("persons")}` : "") + (p.daily_quota ? `<br>${t("sc_daily")}: ${num(p.daily_quota)} ${t("persons")}` : ""));
      if (!p.hub) m.bindTooltip(siteName(p.id), { permanent: true, direction: "right", offset: [5, 0], className: "site-label" });
      m.addTo(base.sites); siteMarkers[p.id] = m;
    }
    for (const [k, g] of Object.entries(base)) { g.addTo(map); }
    layerControl.addOverlay(base.roads, "Roads 道路"); layerControl.addOverlay(base.zones, "Rings & circles 三环八圈");
    layerControl.addOverlay(base.sites, "Sites 景点"); layerControl.addOverlay(base.stations, "Stations 站点");
    layerControl.addOverlay(base.nofly, "No-fly 禁飞区");
    const b = ly.bbox; map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [10, 10] });
  }
  function relabel() {
    for (const [id, m] of Object.entries(siteMarkers)) if (m.getTooltip()) m.setTooltipContent(siteName(id));
    declutter();
  }
  function placeTooltip(m, dir) {
    const tt = m.getTooltip();
    if (tt.options.direction !== dir) { tt.options.direction = dir; tt.options.offset = dir === "left" ? [-5, 0] : [5, 0]; tt.update(); }
  }
  function declutter() { // labels neither overlap (higher score first) nor leave the map: right, else left, else hidden
    if (!S.layers) return;
    const order = [...S.layers.sites.features].filter((f) => !f.properties.hub).sort((a, b) => b.properties.score - a.properties.score);
    const box = $("#map").getBoundingClientRect();
    const shown = [];
    for (const f of order) {
      const m = siteMarkers[f.properties.id]; const tt = m && m.getTooltip(); const el = tt && tt.getElement();
      if (!el) continue;
      el.style.visibility = "visible";
      let ok = false;
      for (const dir of ["right", "left"]) {
        placeTooltip(m, dir);
        const r = el.getBoundingClientRect();
        const inside = r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        const hit = shown.some((o) => !(r.right < o.left || r.left > o.right || r.bottom < o.top || r.top > o.bottom));
        if (inside && !hit) { shown.push(r); ok = true; break; }
      }
      if (!ok) { placeTooltip(m, "right"); el.style.visibility = "hidden"; }
    }
  }
  map.on("zoomend moveend", () => requestAnimationFrame(declutter));
  function legend(items) { $("#legend").innerHTML = items.map(([sw, text]) => `<div><span class="sw" style="${sw}"></span>${esc(text)}</div>`).join(""); }
  function showBase(names) {
    for (const [k, g] of Object.entries(base)) { if (names.includes(k)) { if (!map.hasLayer(g)) g.addTo(map); } else if (map.hasLayer(g)) map.removeLayer(g); }
    requestAnimationFrame(declutter);
  }
  const ll = ([lon, lat]) => [lat, lon];

  // ------------------------------------------------------------------ pages
  function showPage(page) {
    S.page = page;
    document.querySelectorAll("nav [role=tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.page === page)));
    document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== `page-${page}`; });
    overlay.clearLayers(); legend([]);
    if (page === "day") { showBase(["roads", "zones", "sites"]); drawDayMap(); }
    if (page === "scenarios") { showBase(["roads", "zones", "sites"]); drawScenarioMap(); }
    if (page === "stations") { showBase(["roads", "sites", "stations"]); drawStationsMap(); }
    if (page === "air") { showBase(["sites", "nofly"]); drawAirMap(); }
    if (page === "week") { showBase(["roads", "sites"]); drawWeekMap(); }
    if (page === "live") { showBase(["roads", "sites"]); liveForm(); drawLiveMap(); }
  }
  document.querySelectorAll("nav [role=tab]").forEach((b, i, all) => {
    b.addEventListener("click", () => showPage(b.dataset.page));
    b.addEventListener("keydown", (e) => { // arrow keys move between tabs
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      const j = (i + (e.key === "ArrowRight" ? 1 : all.length - 1)) % all.length; all[j].focus(); all[j].click();
    });
  });

  // ------------------------------------------------------------------ day plan
  $("#day-run").addEventListener("click", (e) => busy(e.target, async () => {
    let groups = null;
    if (document.querySelector("input[name=day-source]:checked").value === "file") {
      const f = $("#day-file").files[0];
      if (!f) throw new Error(t("upload_demand"));
      groups = (await api("POST", `/v1/web/demand-file?filename=${encodeURIComponent(f.name)}`, undefined, await f.arrayBuffer())).groups;
    }
    const body = { groups, iterations: Number($("#day-iter").value), time_limit_s: Number($("#day-time").value), seed: Number($("#day-seed").value) };
    S.day = await api("POST", "/v1/web/day-plan", body);
    S.dayGroup = null; renderDay(); drawDayMap();
  }));
  $("#day-file").addEventListener("change", () => { document.querySelector("input[name=day-source][value=file]").checked = true; });
  function routeColour(i) { return `hsl(${(i * 137.5) % 360}, 65%, 42%)`; }
  function renderDay() {
    const d = S.day; if (!d) return;
    $("#day-result").hidden = false;
    const k = d.kpis;
    const rows = [
      [t("k_groups_served"), `${num(k.groups_served)} ${t("of")} ${num(k.groups)} ${t("groups_u")} (${num(k.served_pct, 1)}%)`],
      [t("k_visitors_served"), `${num(k.visitors_served)} ${t("of")} ${num(k.visitors)} ${t("persons")}`],
      [t("k_visits"), `${num(k.visits)} ${t("visits_u")}`],
      [t("k_wait"), `${num(k.mean_wait_min, 1)} ${t("min_per_visit")}`],
      [t("k_travel"), `${num(k.total_travel_min / 60)} ${t("hours")} · ${num(k.total_distance_km)} ${t("km")}`],
      [t("k_must"), `${num(k.must_visits_unserved)} ${t("of")} ${num(k.must_visits)}`],
      [t("k_score"), num(k.mean_score_per_visitor, 1)],
      [t("k_solve"), `${num(d.runtime_s, 1)} ${t("seconds")} · ${num(d.iterations)} ${t("iterations_u")}`],
      [t("k_verifier"), d.violations.length ? `${d.violations.length} ${t("violations_n")}` : t("violations_0")],
    ];
    $("#day-kpis").innerHTML = rows.map(([a, b]) => `<dt>${esc(a)}</dt><dd>${esc(b)}</dd>`).join("");
    const sel = $("#day-group");
    sel.innerHTML = d.routes.map((r) => `<option value="${esc(r.group_id)}">${esc(t("group_option", { id: r.group_id, n: r.size, v: r.visits.length }))}</option>`).join("");
    if (!S.dayGroup && d.routes.length) S.dayGroup = d.routes[0].group_id;
    sel.value = S.dayGroup || "";
    renderTimeline(); renderUsage();
    $("#day-unserved").innerHTML = d.unserved.length ? `<table><tr><th>${t("pick_group")}</th><th>${t("sc_site")}</th><th>${t("reason")}</th></tr>` +
      d.unserved.map((u) => `<tr><td>${esc(u.group_id)}</td><td>${esc(u.site_id ? siteName(u.site_id) : "–")}</td><td title="${esc(u.detail)}">${esc(I18N.en["reason_" + u.reason] ? t("reason_" + u.reason) : u.reason)}</td></tr>`).join("") + "</table>" : `<p>${t("none")}</p>`;
  }
  $("#day-group").addEventListener("change", (e) => { S.dayGroup = e.target.value; renderTimeline(); highlightRoute(); });
  function renderTimeline() {
    const d = S.day; const r = d && d.routes.find((x) => x.group_id === S.dayGroup);
    if (!r) { $("#day-timeline").innerHTML = ""; return; }
    const bars = []; let tprev = r.depart;
    r.visits.forEach((v, i) => {
      if (v.arrival > tprev) bars.push({ a: tprev, b: v.arrival, colour: "#9aa3ad", tip: `${t("travel")} ${hhmm(tprev)}–${hhmm(v.arrival)}` });
      if (v.wait > 0) bars.push({ a: v.arrival, b: v.start, colour: "#f2c14e", tip: `${t("wait")} ${num(v.wait)} ${t("minutes")}` });
      bars.push({ a: v.start, b: v.departure, colour: PALETTE[i % PALETTE.length], text: siteName(v.site_id), tip: `${siteName(v.site_id)} ${hhmm(v.start)}–${hhmm(v.departure)}` });
      tprev = v.departure;
    });
    if (r.arrive_end > tprev) bars.push({ a: tprev, b: r.arrive_end, colour: "#9aa3ad", tip: `${t("travel")} ${hhmm(tprev)}–${hhmm(r.arrive_end)}` });
    const rowsG = [{ label: `${r.group_id} (${r.size})`, bars }];
    const list = r.visits.map((v) => `<li>${hhmm(v.start)}–${hhmm(v.departure)} ${esc(siteName(v.site_id))}${v.wait > 0 ? ` (${t("wait")} ${num(v.wait)} ${t("minutes")})` : ""}</li>`).join("");
    $("#day-timeline").innerHTML = gantt({ title: `${r.group_id}: ${t("start")} ${hhmm(r.depart)}, ${t("end")} ${hhmm(r.arrive_end)}`, rows: rowsG, t0: Math.floor(r.depart / 60) * 60, t1: Math.ceil(r.arrive_end / 60) * 60 }) +
      `<ol class="note">${list}</ol>`;
  }
  function renderUsage() {
    const u = S.day.usage; const bySite = {};
    for (const row of u) (bySite[row.site_id] ||= []).push(row);
    const slots = [...new Set(u.map((r) => r.slot))].sort((a, b) => a - b);
    const total = (id) => bySite[id].reduce((a, r) => a + r.persons, 0);
    const ids = Object.keys(bySite).sort((a, b) => (bySite[b][0].slot_quota ? 1 : 0) - (bySite[a][0].slot_quota ? 1 : 0) || total(b) - total(a)).slice(0, 16);
    const pmax = Math.max(1, ...u.map((r) => r.persons));
    let h = `<table class="usage"><tr><th>${t("sc_site")}</th>${slots.map((s) => `<th>${esc(u.find((r) => r.slot === s).slot_start)}</th>`).join("")}</tr>`;
    for (const id of ids) {
      const q = bySite[id][0].slot_quota;
      h += `<tr><td>${esc(siteName(id))}${q ? ` <small>(${t("sc_slot")} ${num(q)})</small>` : ""}</td>`;
      for (const s of slots) {
        const r = bySite[id].find((x) => x.slot === s);
        if (!r) { h += "<td></td>"; continue; }
        const bg = r.utilisation !== null ? utilColour(r.utilisation) : `rgba(31,119,180,${(0.1 + 0.5 * r.persons / pmax).toFixed(2)})`;
        const tip = r.utilisation !== null ? `${num(r.persons)} / ${num(q)} (${num(100 * r.utilisation)}%)` : `${num(r.persons)} ${t("persons")}`;
        h += `<td style="background:${bg}" title="${esc(tip)}">${num(r.persons)}</td>`;
      }
      h += "</tr>";
    }
    $("#day-usage").innerHTML = h + "</table>";
  }
  const routeLines = {};
  function drawDayMap() {
    if (S.page !== "day") return;
    overlay.clearLayers(); for (const k of Object.keys(routeLines)) delete routeLines[k];
    const d = S.day; if (!d) { legend([]); return; }
    const feats = d.geojson.features;
    let i = 0;
    for (const f of feats.filter((x) => x.properties.kind === "route")) {
      const p = f.properties;
      const line = L.polyline(f.geometry.coordinates.map(ll), { color: routeColour(i++), weight: 1.6, opacity: 0.5, className: "route-line" });
      line.bindTooltip(`${esc(p.group_id)}: ${p.size} ${t("persons")}, ${p.depart}–${p.arrive_end}`, { sticky: true });
      line.on("click", () => { S.dayGroup = p.group_id; $("#day-group").value = p.group_id; renderTimeline(); highlightRoute(); });
      line.addTo(overlay); routeLines[p.group_id] = line;
    }
    const vmax = Math.max(1, ...feats.filter((x) => x.properties.kind === "site").map((x) => x.properties.visitors));
    const peak = {};
    for (const r of d.usage) if (r.utilisation !== null) peak[r.site_id] = Math.max(peak[r.site_id] || 0, r.utilisation);
    for (const f of feats.filter((x) => x.properties.kind === "site")) {
      const p = f.properties;
      L.circleMarker(ll(f.geometry.coordinates), { radius: 4 + 14 * Math.sqrt(p.visitors / vmax), color: "#333", weight: 1, fillColor: peak[p.site_id] !== undefined ? utilColour(peak[p.site_id]) : "#1f77b4", fillOpacity: 0.55 })
        .bindTooltip(`${esc(siteName(p.site_id))}: ${num(p.visitors)} ${t("persons")}, ${num(p.groups)} ${t("groups_u")}` + (peak[p.site_id] !== undefined ? ` · ${num(100 * peak[p.site_id])}%` : ""), { sticky: true }).addTo(overlay);
    }
    highlightRoute();
    legend([["background:hsl(200,65%,42%);height:3px", t("legend_routes")], ["background:#1f77b4;border-radius:50%", t("legend_sites")], ["background:linear-gradient(90deg,hsl(120,70%,55%),hsl(60,70%,55%),hsl(0,70%,45%))", t("legend_util")]]);
  }
  function highlightRoute() {
    for (const [g, l] of Object.entries(routeLines)) l.setStyle(g === S.dayGroup ? { weight: 5, opacity: 1 } : { weight: 1.6, opacity: 0.5 });
    const l = routeLines[S.dayGroup]; if (l) l.bringToFront();
  }
  $("#dl-day-visits").addEventListener("click", () => {
    if (!S.day) return; const rows = [];
    for (const r of S.day.routes) r.visits.forEach((v, i) => rows.push({ group_id: r.group_id, size: r.size, seq: i + 1, site_id: v.site_id, site_name: siteName(v.site_id), arrival: v.arrival_hhmm, start: v.start_hhmm, departure: v.departure_hhmm, wait_min: v.wait, slot: v.slot }));
    download("visits.csv", toCsv(rows, ["group_id", "size", "seq", "site_id", "site_name", "arrival", "start", "departure", "wait_min", "slot"]), "text/csv");
  });
  $("#dl-day-usage").addEventListener("click", () => { if (S.day) download("site_slot_usage.csv", toCsv(S.day.usage, ["site_id", "site_name", "slot", "slot_start", "persons", "slot_quota", "utilisation"]), "text/csv"); });
  $("#dl-day-geojson").addEventListener("click", () => { if (S.day) download("routes.geojson", JSON.stringify(S.day.geojson), "application/geo+json"); });

  // ------------------------------------------------------------------ scenarios
  function newScenario(name, scale) { return { name, scale, closed_sites: [], closed_roads: [], quota: { site: "", daily: "", slot: "" }, add: { id: "", name: "", lat: "", lon: "", to: "", km: "" }, zone: { id: "", members: "" } }; }
  S.sc.form = [newScenario("demand", "1, 1.5, 2"), newScenario("potala 6500", "2")];
  S.sc.form[1].quota = { site: "potala", daily: "6500", slot: "1084" };
  function siteOptions(selected, multiple) {
    const feats = S.layers ? S.layers.sites.features : [];
    return (multiple ? "" : `<option value="">–</option>`) + feats.map((f) => f.properties.id).map((id) => `<option value="${esc(id)}" ${(multiple ? selected.includes(id) : selected === id) ? "selected" : ""}>${esc(siteName(id))}</option>`).join("");
  }
  function roadOptions(selected) {
    const feats = S.layers ? S.layers.roads.features : [];
    return feats.map((f) => `${f.properties.a}|${f.properties.b}`).filter((v, i, a) => a.indexOf(v) === i)
      .map((v) => { const [a, b] = v.split("|"); return `<option value="${esc(v)}" ${selected.includes(v) ? "selected" : ""}>${esc(siteName(a))} – ${esc(siteName(b))}</option>`; }).join("");
  }
  function renderScenarioForm() {
    const zones = S.layers ? S.layers.zones.features.map((f) => f.properties.zone_id) : [];
    $("#sc-list").innerHTML = S.sc.form.map((s, i) => `
      <fieldset class="scenario" data-i="${i}"><legend>${t("scenario")} ${i + 1}</legend>
        <div class="head"><label>${t("sc_name")} <input data-k="name" value="${esc(s.name)}"></label>
        <label>${t("sc_scale")} <input data-k="scale" value="${esc(s.scale)}" size="10"></label>
        <button type="button" data-remove="${i}">${t("sc_remove")}</button></div>
        <label class="multi">${t("sc_closed_sites")}<br><select multiple data-k="closed_sites">${siteOptions(s.closed_sites, true)}</select></label>
        <label class="multi">${t("sc_closed_roads")}<br><select multiple data-k="closed_roads">${roadOptions(s.closed_roads)}</select></label>
        <div class="row"><span>${t("sc_quota")}:</span><label>${t("sc_site")} <select data-k="quota.site">${siteOptions(s.quota.site)}</select></label>
        <label>${t("sc_daily")} <input type="number" min="0" data-k="quota.daily" value="${esc(s.quota.daily)}"></label>
        <label>${t("sc_slot")} <input type="number" min="0" data-k="quota.slot" value="${esc(s.quota.slot)}"></label></div>
        <details><summary>${t("sc_new_site")} · ${t("sc_zone")}</summary>
        <div class="row"><label>${t("sc_new_id")} <input data-k="add.id" value="${esc(s.add.id)}" size="8"></label><label>${t("sc_name")} <input data-k="add.name" value="${esc(s.add.name)}" size="10"></label>
        <label>${t("sc_lat")} <input type="number" step="0.001" data-k="add.lat" value="${esc(s.add.lat)}"></label><label>${t("sc_lon")} <input type="number" step="0.001" data-k="add.lon" value="${esc(s.add.lon)}"></label>
        <label>${t("sc_connect")} <select data-k="add.to">${siteOptions(s.add.to)}</select></label><label>${t("sc_km")} <input type="number" min="0" data-k="add.km" value="${esc(s.add.km)}"></label></div>
        <div class="row"><label>${t("sc_zone")} <select data-k="zone.id"><option value="">–</option>${zones.map((z) => `<option ${s.zone.id === z ? "selected" : ""}>${esc(z)}</option>`).join("")}</select></label>
        <label>${t("sc_members")} <input data-k="zone.members" value="${esc(s.zone.members)}" size="30"></label></div></details>
      </fieldset>`).join("");
    updateDoc();
  }
  $("#sc-list").addEventListener("input", (e) => {
    const el = e.target, box = el.closest(".scenario"); if (!box || !el.dataset.k) return;
    const s = S.sc.form[Number(box.dataset.i)];
    const v = el.multiple ? [...el.selectedOptions].map((o) => o.value) : el.value;
    const [a, b] = el.dataset.k.split("."); if (b) s[a][b] = v; else s[a] = v;
    updateDoc();
  });
  $("#sc-list").addEventListener("click", (e) => { const i = e.target.dataset.remove; if (i !== undefined) { S.sc.form.splice(Number(i), 1); renderScenarioForm(); } });
  $("#sc-add").addEventListener("click", () => { S.sc.form.push(newScenario(`scenario ${S.sc.form.length + 1}`, "1")); renderScenarioForm(); });
  ["#sc-groups", "#sc-profile", "#sc-iter", "#sc-seed"].forEach((id) => $(id).addEventListener("input", updateDoc));
  function buildDoc() {
    const scenario = S.sc.form.map((s) => {
      const o = { name: s.name.trim() };
      const scales = String(s.scale).split(/[,\s]+/).filter(Boolean).map(Number);
      if (scales.length === 1) o.demand_scale = scales[0]; else if (scales.length > 1) o.demand_scale = scales;
      if (s.closed_sites.length) o.closed_sites = s.closed_sites;
      if (s.closed_roads.length) o.closed_roads = s.closed_roads.map((v) => v.split("|"));
      if (s.quota.site && (s.quota.daily !== "" || s.quota.slot !== "")) {
        const q = {}; if (s.quota.daily !== "") q.daily = Number(s.quota.daily); if (s.quota.slot !== "") q.slot = Number(s.quota.slot);
        o.quota = { [s.quota.site]: q };
      }
      if (s.add.id) {
        o.add_site = [{ id: s.add.id, name_en: s.add.name || s.add.id, name_zh: s.add.name || s.add.id, lat: s.add.lat === "" ? null : Number(s.add.lat), lon: s.add.lon === "" ? null : Number(s.add.lon), kind: "park", rating: "unk", score: 40, visit_min: 60, open: "09:00", close: "18:00",
          roads: s.add.to ? [{ to: s.add.to, length_km: Number(s.add.km || 5), speed_kmh: 30 }] : [] }];
      }
      if (s.zone.id && s.zone.members.trim()) o.zones = { [s.zone.id]: s.zone.members.split(/[,\s]+/).filter(Boolean) };
      return o;
    });
    return { base: { seed: Number($("#sc-seed").value), iterations: Number($("#sc-iter").value), demand: { profile: $("#sc-profile").value, groups: Number($("#sc-groups").value), seed: 2026 } }, scenario };
  }
  function updateDoc() { if (!$("#sc-use-doc").checked) $("#sc-doc").value = JSON.stringify(buildDoc(), null, 2); }
  $("#sc-file").addEventListener("change", async (e) => {
    const f = e.target.files[0]; if (!f) return;
    try {
      const r = await api("POST", `/v1/web/scenario-file?filename=${encodeURIComponent(f.name)}`, undefined, await f.arrayBuffer());
      $("#sc-doc").value = JSON.stringify(r.document, null, 2); $("#sc-use-doc").checked = true; $("#sc-doc").closest("details").open = true; setStatus(f.name, true);
    } catch (err) { setStatus(`${t("failed")}: ${err.message}`); }
  });
  $("#sc-run").addEventListener("click", (e) => busy(e.target, async () => {
    let doc;
    try { doc = $("#sc-use-doc").checked ? JSON.parse($("#sc-doc").value) : buildDoc(); } catch (err) { throw new Error(`JSON: ${err.message}`); }
    S.sc.doc = doc; S.sc.results = []; S.sc.headlines = []; S.sc.finished = false;
    const job = await api("POST", "/v1/scenarios", doc);
    S.sc.job = job.id; $("#sc-job").hidden = false; $("#sc-result").hidden = true;
    for (;;) {
      const st = await api("GET", `/v1/scenarios/${job.id}`);
      const pr = st.progress || { done: 0, total: 1 };
      $("#sc-progress").max = Math.max(1, pr.total); $("#sc-progress").value = pr.done;
      S.sc.progress = { done: pr.done, total: pr.total, status: st.status }; renderProgress();
      S.sc.results = st.results || [];
      if (S.sc.results.length) renderScenarioResults();
      if (st.status === "failed") throw new Error(st.error || "failed");
      if (st.status === "done") break;
      await new Promise((r) => setTimeout(r, 600));
    }
    S.sc.headlines = (await api("GET", `/v1/web/scenarios/${job.id}/headlines`)).headlines;
    S.sc.finished = true; renderScenarioResults(); renderProgress();
  }));
  function renderProgress() {
    const p = S.sc.progress; if (!p) return;
    const word = { running: "job_running", queued: "queued", done: "done", failed: "failed" }[p.status] || p.status;
    $("#sc-status").textContent = `${t("sc_progress", { d: p.done, t: p.total })} (${t(word)})${S.sc.finished ? " ✓" : ""}`;
  }
  const KPI_ROWS = [["served_pct", "c_served_pct", 1], ["groups", "c_groups", 0], ["visitors", "c_visitors", 0], ["visitors_served", "c_visitors_served", 0],
    ["must_visits_unserved", "c_must_unserved", 0], ["unserved_closed", "c_unserved_closed", 0], ["unserved_unreachable", "c_unserved_unreachable", 0],
    ["unserved_window", "c_unserved_window", 0], ["unserved_quota", "c_unserved_quota", 0], ["unserved_time", "c_unserved_time", 0], ["unserved_zone", "c_unserved_zone", 0],
    ["mean_wait_min", "c_mean_wait", 1], ["peak_slot_util_max", "c_peak", 0, 100], ["mean_score_per_visitor", "c_score", 1], ["total_travel_min", "c_travel", 0],
    ["violations", "c_violations", 0], ["runtime_s", "c_runtime", 1]];
  function renderScenarioResults() {
    const R = S.sc.results; if (!R.length) return;
    $("#sc-result").hidden = false;
    $("#sc-headlines").innerHTML = S.sc.headlines.map((h) => `<li>${esc(S.lang === "zh" ? h.zh : h.en)}</li>`).join("");
    const names = R.map((r) => r.scenario);
    $("#sc-charts").innerHTML = [
      barChart({ title: t("c_served_pct"), labels: names, values: R.map((r) => r.served_pct), unit: "%", max: 100, colours: R.map((r) => utilColour(1 - r.served_pct / 100)) }),
      barChart({ title: t("c_peak"), labels: names, values: R.map((r) => 100 * (r.peak_slot_util_max || 0)), unit: "%", max: 100, colours: R.map((r) => utilColour(r.peak_slot_util_max || 0)) }),
      barChart({ title: t("c_mean_wait"), labels: names, values: R.map((r) => r.mean_wait_min), unit: "" }),
    ].map((s) => `<div class="chart">${s}</div>`).join("");
    const peakKeys = Object.keys(R[0]).filter((k) => k.startsWith("peak_util_"));
    let h = `<table><thead><tr><th></th>${names.map((n) => `<th scope="col">${esc(n)}</th>`).join("")}</tr></thead><tbody>`;
    h += `<tr><th scope="row">${t("c_changes")}</th>${R.map((r) => `<td style="white-space:normal;text-align:left;max-width:16em">${esc(r.changes)}</td>`).join("")}</tr>`;
    for (const [k, label, dg, mul] of KPI_ROWS) h += `<tr><th scope="row">${esc(t(label))}</th>${R.map((r) => `<td>${num(r[k] === null || r[k] === undefined ? null : r[k] * (mul || 1), dg)}</td>`).join("")}</tr>`;
    for (const k of peakKeys) { const id = k.slice(10); h += `<tr><th scope="row">${esc(t("peak_of", { site: siteName(id) }))}</th>${R.map((r) => `<td>${num(r[k] === null ? null : 100 * r[k])}</td>`).join("")}</tr>`; }
    $("#sc-table").innerHTML = h + "</tbody></table>";
    const sel = $("#sc-pick"); const prev = S.sc.pick;
    sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join("");
    S.sc.pick = names.includes(prev) ? prev : names[names.length - 1]; sel.value = S.sc.pick;
    drawScenarioMap();
  }
  $("#sc-pick").addEventListener("change", (e) => { S.sc.pick = e.target.value; drawScenarioMap(); });
  function drawScenarioMap() {
    if (S.page !== "scenarios") return;
    overlay.clearLayers();
    const r = S.sc.results.find((x) => x.scenario === S.sc.pick);
    const doc = S.sc.doc || buildDoc();
    const spec = r ? (doc.scenario || []).find((s) => s.name === r.family || s.name === r.scenario) : null;
    const bySite = Object.fromEntries(S.layers.sites.features.map((f) => [f.properties.id, f]));
    if (spec) {
      for (const [a, b] of spec.closed_roads || []) if (bySite[a] && bySite[b]) L.polyline([ll(bySite[a].geometry.coordinates), ll(bySite[b].geometry.coordinates)], { color: "#d00", weight: 5, dashArray: "8 6", className: "closed-road" }).bindTooltip(`${siteName(a)} – ${siteName(b)}`).addTo(overlay);
      for (const id of spec.closed_sites || []) if (bySite[id]) L.circleMarker(ll(bySite[id].geometry.coordinates), { radius: 9, color: "#000", fillColor: "#000", fillOpacity: 0.8 }).bindTooltip(siteName(id)).addTo(overlay);
      for (const a of spec.add_site || []) if (Number.isFinite(a.lat) && Number.isFinite(a.lon)) L.circleMarker([a.lat, a.lon], { radius: 8, color: "#1a7f37", weight: 3, fill: false }).bindTooltip(a.name_en).addTo(overlay);
    }
    if (r) for (const k of Object.keys(r).filter((x) => x.startsWith("peak_util_"))) {
      const id = k.slice(10); if (!bySite[id] || r[k] === null) continue;
      L.circleMarker(ll(bySite[id].geometry.coordinates), { radius: 12, color: "#333", weight: 1, fillColor: utilColour(r[k]), fillOpacity: 0.85 })
        .bindTooltip(`${siteName(id)}: ${num(100 * r[k])}%`, { sticky: true }).addTo(overlay);
    }
    legend([["background:linear-gradient(90deg,hsl(120,70%,55%),hsl(60,70%,55%),hsl(0,70%,45%))", t("legend_util")], ["background:#d00;height:3px", t("legend_closed")]]);
  }
  $("#dl-sc-csv").addEventListener("click", () => { const R = S.sc.results; if (R.length) download("scenario_kpis.csv", toCsv(R, Object.keys(R[0])), "text/csv"); });
  $("#dl-sc-png").addEventListener("click", () => chartsPng($("#sc-charts"), "scenario_charts.png"));

  // ------------------------------------------------------------------ stations
  $("#st-run").addEventListener("click", (e) => busy(e.target, async () => {
    const kind = $("#st-kind").value, p = Number($("#st-p").value);
    const body = { kind, p, p_max: Math.max(p, 8), iterations: 1000, time_limit_s: 30 };
    if (kind === "oxygen") body.threshold_min = Number($("#st-threshold").value);
    S.st.siting = await api("POST", "/v1/stations/siting", body); renderSiting(); drawStationsMap();
  }));
  function renderSiting() {
    const d = S.st.siting; if (!d) return; $("#st-result").hidden = false;
    $("#st-kpis").innerHTML = [[t("st_chosen"), d.chosen.map(siteName).join(", ")], [t("st_covered"), `${num(d.covered_pct, 1)}% (${num(d.covered)} / ${num(d.total)} ${d.unit})`],
      [t("st_status"), `${d.status} · ${d.verifier}`]].map(([a, b]) => `<dt>${esc(a)}</dt><dd>${esc(b)}</dd>`).join("");
    const m = d.marginal || [];
    $("#st-marginal").innerHTML = barChart({ title: t("st_cov_pct"), labels: m.map((r) => `p = ${r.p}`), values: m.map((r) => r.covered_pct), unit: "%", max: 100, colours: m.map((r) => (r.p === d.p ? "#7a1f1f" : "#1f77b4")) }) +
      barChart({ title: `${t("st_gain")} (${d.unit})`, labels: m.map((r) => `p = ${r.p}`), values: m.map((r) => r.gain), colours: m.map((r) => (r.p === d.p ? "#7a1f1f" : "#2ca02c")) });
    $("#st-table").innerHTML = `<table><tr><th>${t("st_chosen")}</th><th>${d.unit}</th><th>${t("sc_site")}</th></tr>` + d.stations.map((s) => `<tr><td>${esc(siteName(s.site_id))}</td><td>${num(s.demand)}</td><td style="white-space:normal;text-align:left">${esc((s.demand_sites || []).map(siteName).join(", "))}</td></tr>`).join("") + "</table>";
  }
  function drawStationsMap() {
    if (S.page !== "stations") return; overlay.clearLayers();
    const bySite = Object.fromEntries(S.layers.sites.features.map((f) => [f.properties.id, f]));
    const d = S.st.siting;
    if (d) {
      d.stations.forEach((s, i) => {
        const c = bySite[s.site_id]; if (!c) return;
        for (const ds of s.demand_sites || []) if (bySite[ds]) L.polyline([ll(c.geometry.coordinates), ll(bySite[ds].geometry.coordinates)], { color: PALETTE[i % PALETTE.length], weight: 1.5, opacity: 0.7 }).addTo(overlay);
        L.circleMarker(ll(c.geometry.coordinates), { radius: 11, color: "#fff", weight: 2, fillColor: PALETTE[i % PALETTE.length], fillOpacity: 1, className: "station-chosen" }).bindTooltip(`${siteName(s.site_id)}: ${num(s.demand)} ${d.unit}`).addTo(overlay);
      });
      for (const u of d.unserved || []) if (bySite[u.item_id]) L.circleMarker(ll(bySite[u.item_id].geometry.coordinates), { radius: 7, color: "#d00", weight: 2, fill: false }).bindTooltip(u.detail).addTo(overlay);
    }
    const ox = S.st.oxygen;
    if (ox) {
      ox.routes.forEach((r) => {
        const pts = [ox.depot, ...r.stops, ox.depot].filter((id) => bySite[id]).map((id) => ll(bySite[id].geometry.coordinates));
        L.polyline(pts, { color: PALETTE[r.day % PALETTE.length], weight: 2, opacity: 0.6, dashArray: "4 3" }).bindTooltip(`${t("day")} ${r.day + 1}, ${t("truck")} ${r.truck + 1}: ${r.stops.map(siteName).join(" → ")}`, { sticky: true }).addTo(overlay);
      });
    }
    legend([["background:#7a1f1f;border-radius:50%", t("legend_station")], ["border:2px dashed #0b5394;border-radius:50%;background:none", t("legend_existing")], ["border:2px solid #d00;border-radius:50%;background:none", t("legend_uncovered")]]);
  }
  $("#st-charge").addEventListener("click", (e) => busy(e.target, async () => { S.st.charge = await api("POST", "/v1/stations/charging-schedule", { time_limit_s: 20 }); renderOps(); }));
  $("#st-oxygen").addEventListener("click", (e) => busy(e.target, async () => { S.st.oxygen = await api("POST", "/v1/stations/oxygen-plan", { time_limit_s: 20 }); renderOps(); drawStationsMap(); }));
  function renderOps() {
    let h = "";
    const c = S.st.charge;
    if (c) {
      const n = Math.max(...Object.values(c.station_load_kw).map((v) => v.length));
      const total = Array.from({ length: n }, (_, i) => Object.values(c.station_load_kw).reduce((a, v) => a + (v[i] || 0), 0));
      const labels = Array.from({ length: n }, (_, i) => hhmm(i * c.slot_min));
      h += `<h3>${t("st_charge")}</h3><dl class="kpis"><dt>${t("ch_served")}</dt><dd>${num(c.coaches.served)} ${t("of")} ${num(c.coaches.total)}</dd><dt>${t("ch_stranded")}</dt><dd>${num(c.coaches.stranded)}</dd><dt>${t("ch_cost")}</dt><dd>${num(c.energy_cost_cny)} ${t("cny")}</dd></dl>`;
      h += `<div class="chart">${lineChart({ title: t("ch_load"), series: [{ name: t("ch_load"), values: total }, { name: t("ch_tariff") + " ×100", values: c.tariff.map((x) => x * 100) }], xLabels: labels, yUnit: "kW" })}</div>`;
      if (c.unserved.length) h += `<table><tr><th>EV</th><th>${t("reason")}</th></tr>${c.unserved.map((u) => `<tr><td>${esc(u.vehicle)}</td><td style="white-space:normal;text-align:left">${esc(u.reason)}: ${esc(u.detail)}</td></tr>`).join("")}</table>`;
    }
    const o = S.st.oxygen;
    if (o) {
      const top = Object.entries(o.stock).sort((a, b) => Math.max(...b[1]) - Math.max(...a[1])).slice(0, 8);
      h += `<h3>${t("st_oxygen")}</h3><dl class="kpis"><dt>${t("ox_cost")}</dt><dd>${num(o.total_cost_cny)} ${t("cny")}</dd><dt>${t("ox_stockout")}</dt><dd>${num(o.stockout_cylinders)}</dd></dl>`;
      h += `<div class="chart">${lineChart({ title: t("ox_stock"), series: top.map(([id, v]) => ({ name: siteName(id), values: v })), xLabels: top[0][1].map((_, i) => `${t("day")} ${i + 1}`) })}</div>`;
      h += `<div class="scroll"><table><tr><th>${t("day")}</th><th>${t("truck")}</th><th>${t("stops")}</th><th>${t("km")}</th></tr>${o.routes.map((r) => `<tr><td>${r.day + 1}</td><td>${r.truck + 1}</td><td style="white-space:normal;text-align:left">${esc(r.stops.map(siteName).join(" → "))}</td><td>${num(r.km, 1)}</td></tr>`).join("")}</table></div>`;
    }
    $("#st-ops").innerHTML = h;
  }
  $("#dl-st-csv").addEventListener("click", () => { const d = S.st.siting; if (d) download("stations.csv", toCsv(d.stations.map((s) => ({ site_id: s.site_id, name: siteName(s.site_id), demand: s.demand, unit: d.unit, demand_sites: (s.demand_sites || []).join(" ") })), ["site_id", "name", "demand", "unit", "demand_sites"]), "text/csv"); });
  $("#dl-st-geojson").addEventListener("click", () => {
    const d = S.st.siting; if (!d) return; const bySite = Object.fromEntries(S.layers.sites.features.map((f) => [f.properties.id, f]));
    download("stations.geojson", JSON.stringify({ type: "FeatureCollection", features: d.stations.filter((s) => bySite[s.site_id]).map((s) => ({ type: "Feature", geometry: bySite[s.site_id].geometry, properties: { site_id: s.site_id, kind: d.kind, demand: s.demand, unit: d.unit, demand_sites: s.demand_sites } })) }), "application/geo+json");
  });
  $("#dl-st-png").addEventListener("click", () => chartsPng($("#page-stations"), "stations_charts.png"));

  // ------------------------------------------------------------------ low altitude
  $("#air-drones").addEventListener("click", (e) => busy(e.target, async () => {
    const dl = (await api("GET", "/v1/web/demo-deliveries")).deliveries;
    S.air.drones = await api("POST", "/v1/drones/delivery-plan", { deliveries: dl, time_limit_s: 20 }); renderAir(); drawAirMap();
    if (S.air.layer && S.air.layer.getBounds().isValid()) map.fitBounds(S.air.layer.getBounds(), { padding: [20, 20] });
  }));
  $("#air-products").addEventListener("click", (e) => busy(e.target, async () => { S.air.products = await api("POST", "/v1/flights/products", { time_limit_s: 30 }); renderAir(); drawAirMap(); }));
  $("#air-schedule").addEventListener("click", (e) => busy(e.target, async () => {
    const bk = (await api("GET", "/v1/web/demo-bookings")).bookings;
    S.air.schedule = await api("POST", "/v1/flights/schedule", { bookings: bk, time_limit_s: 10 }); renderAir();
  }));
  function renderAir() {
    let h = "";
    const d = S.air.drones;
    if (d) {
      h += `<h3>${t("air_drones")}</h3><dl class="kpis"><dt>${t("dr_served")}</dt><dd>${num(d.served)} ${t("of")} ${num(d.deliveries)}</dd><dt>${t("dr_trips")}</dt><dd>${num(d.trips.length)}</dd><dt>${t("dr_energy")}</dt><dd>${num(d.total_energy_wh)} ${t("wh")}</dd><dt>${t("dr_flight")}</dt><dd>${num(d.total_flight_min)} ${t("minutes")}</dd><dt>${t("k_verifier")}</dt><dd>${d.violations.length ? d.violations.length + " " + t("violations_n") : t("violations_0")}</dd></dl>`;
      if (d.unserved.length) h += `<details><summary>${t("dr_unserved")} (${d.unserved.length})</summary><table>${d.unserved.map((u) => `<tr><td>${esc(u.delivery)}</td><td style="white-space:normal;text-align:left">${esc(u.reason)}</td></tr>`).join("")}</table></details>`;
    }
    const p = S.air.products;
    if (p) h += `<h3>${t("fl_products")}</h3><div class="scroll"><table><tr><th>id</th><th>${t("fl_block")}</th><th>${t("fl_seats")}</th><th>${t("km")}</th><th>${t("fl_viewpoints")}</th></tr>${p.products.map((x) => `<tr><td>${esc(x.id)}</td><td>${num(x.block_min)}</td><td>${num(x.seats)}</td><td>${num(x.distance_km, 1)}</td><td style="white-space:normal;text-align:left">${esc(x.viewpoints.join(", "))}</td></tr>`).join("")}</table></div>`;
    const s = S.air.schedule;
    if (s) {
      const k = s.kpis; const ac = [...new Set(s.departures.map((x) => x.aircraft_id))].sort();
      const cls = (pid) => (pid.endsWith("_15") ? "#2ca02c" : pid.endsWith("_30") ? "#1f77b4" : "#d62728");
      const rows = ac.map((a) => ({ label: a, bars: s.departures.filter((x) => x.aircraft_id === a).map((x) => ({ a: x.start_min, b: x.land_min, colour: cls(x.product_id), text: `${x.passengers}`, tip: `${x.product_id} ${x.start}–${x.land}: ${x.passengers}/${x.seats} (${x.booking_ids.join(", ")})` })) }));
      const t0 = Math.min(...s.departures.map((x) => x.start_min)), t1 = Math.max(...s.departures.map((x) => x.land_min));
      h += `<h3>${t("air_schedule")}</h3><dl class="kpis"><dt>${t("fl_served")}</dt><dd>${num(k.bookings_served)} ${t("of")} ${num(k.bookings)}</dd><dt>${t("fl_pax")}</dt><dd>${num(k.passengers)} ${t("of")} ${num(k.passengers_requested)}</dd><dt>${t("fl_deps")}</dt><dd>${num(k.departures)}</dd><dt>${t("fl_load")}</dt><dd>${num(100 * k.seat_load_factor)}%</dd></dl>`;
      h += `<div class="chart">${gantt({ title: t("fl_gantt"), rows, t0: Math.floor(t0 / 60) * 60, t1: Math.ceil(t1 / 60) * 60 })}</div><p class="note"><span style="color:#2ca02c">■</span> 15 <span style="color:#1f77b4">■</span> 30 <span style="color:#d62728">■</span> 60 · ${esc(t("fl_classes"))}</p>`;
    }
    $("#air-result").innerHTML = h;
  }
  function drawAirMap() {
    if (S.page !== "air") return; overlay.clearLayers();
    const d = S.air.drones;
    if (d && d.map) S.air.layer = L.geoJSON(d.map, {
      filter: (f) => f.properties.kind !== "no_fly",
      style: (f) => ({ color: PALETTE[(f.properties.trip || 0) % PALETTE.length], weight: 2, opacity: 0.8 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: f.properties.kind === "hub" ? 8 : 4, color: f.properties.kind === "hub" ? "#000" : (f.properties.served === false ? "#d00" : "#1a7f37"), weight: 2, fillOpacity: 0.7 }),
      onEachFeature: (f, l) => l.bindTooltip(esc(Object.entries(f.properties).filter(([k, v]) => typeof v !== "object").map(([k, v]) => `${k}: ${v}`).join(", ")), { sticky: true }),
    }).addTo(overlay);
    const p = S.air.products;
    if (p) p.products.forEach((x, i) => L.polyline(x.path.map(ll), { color: PALETTE[i % PALETTE.length], weight: 2, dashArray: "5 4" }).bindTooltip(`${x.id}: ${x.viewpoints.join(", ")}`, { sticky: true }).addTo(overlay));
    legend([["background:#f33;opacity:.5", t("legend_nofly")]]);
  }
  $("#dl-air-csv").addEventListener("click", () => {
    const s = S.air.schedule, d = S.air.drones;
    if (s) download("departures.csv", toCsv(s.departures.map((x) => ({ ...x, booking_ids: x.booking_ids.join(" ") })), ["aircraft_id", "product_id", "vertiport_id", "start", "land", "seats", "passengers", "booking_ids"]), "text/csv");
    else if (d) download("drone_trips.csv", toCsv(d.trips.map((x) => ({ ...x, stops: x.stops.map((s) => s.delivery).join(" ") })), ["drone", "type", "hub", "depart", "return", "stops", "payload_kg", "energy_wh", "reserve_margin_wh", "km"]), "text/csv");
  });
  $("#dl-air-geojson").addEventListener("click", () => {
    const d = S.air.drones, p = S.air.products;
    const feats = [...(d && d.map ? d.map.features : []), ...(p ? p.products.map((x) => ({ type: "Feature", geometry: { type: "LineString", coordinates: x.path }, properties: { kind: "flight_product", id: x.id, block_min: x.block_min } })) : [])];
    download("low_altitude.geojson", JSON.stringify({ type: "FeatureCollection", features: feats }), "application/geo+json");
  });
  $("#dl-air-png").addEventListener("click", () => chartsPng($("#air-result"), "low_altitude_charts.png"));

  // ------------------------------------------------------------------ week (multi-day itineraries, 行程)
  const WEEKDAYS = { en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], zh: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"] };
  function dateLabel(iso) { const d = new Date(`${iso}T00:00:00Z`); return `${WEEKDAYS[S.lang][d.getUTCDay()]} ${iso.slice(5)}`; }
  function placeName(id) {
    const P = S.wk.places && S.wk.places.places; if (!P) return id;
    const p = P[id] || P[String(id).replace(/_terminal$/, "")];
    return p ? (S.lang === "zh" ? p.name_zh : p.name_en) : id;
  }
  function place(id) { const P = S.wk.places.places; return P[id] || P[String(id).replace(/_terminal$/, "")] || null; }
  const capAt = (list, k) => (list && list.length ? list[Math.min(k, list.length) - 1] : null); // rule value of day/night k (1-based)
  function reasonWord(r) { return I18N.en["reason_" + r] ? t("reason_" + r) : r; }
  function weekDates(p) { const out = []; const d = new Date(`${p.start}T00:00:00Z`); for (let i = 0; i < p.days; i++) { out.push(d.toISOString().slice(0, 10)); d.setUTCDate(d.getUTCDate() + 1); } return out; }
  $("#wk-file").addEventListener("change", () => { document.querySelector("input[name=wk-source][value=file]").checked = true; });
  $("#wk-groups").addEventListener("input", () => { document.querySelector("input[name=wk-source][value=sample]").checked = true; });
  document.querySelector("input[name=wk-source][value=demo]").addEventListener("change", () => { if (Number($("#wk-time").value) < 60) $("#wk-time").value = 60; }); // the demo week's own setting (README)
  $("#wk-run").addEventListener("click", (e) => busy(e.target, async () => {
    if (!S.wk.places) S.wk.places = await api("GET", "/v1/web/week-places");
    const src = document.querySelector("input[name=wk-source]:checked").value;
    let groups = null;
    if (src === "sample") {
      const n = Number($("#wk-groups").value);
      if (!Number.isInteger(n) || n < 1 || n > 1500) throw new Error(t("wk_bad_n"));
      groups = (await api("GET", `/v1/web/demo-week?groups=${n}`)).groups;
    } else if (src === "file") {
      const f = $("#wk-file").files[0];
      if (!f) throw new Error(t("upload_week"));
      groups = (await api("POST", `/v1/web/week-file?filename=${encodeURIComponent(f.name)}`, undefined, await f.arrayBuffer())).groups;
    }
    const body = { groups, time_limit_s: Number($("#wk-time").value), seed: Number($("#wk-seed").value) };
    S.wk.plan = null; $("#wk-result").hidden = true;
    let plan = await api("POST", "/v1/itineraries/plan", body);
    if (plan && plan.status_url) { // queued as a job (the demo week, > 100 groups)
      $("#wk-job").hidden = false; const t0 = Date.now();
      for (;;) {
        const st = await api("GET", plan.status_url);
        $("#wk-status").textContent = `${t(st.status === "queued" ? "queued" : st.status === "done" ? "done" : "job_running")} · ${num((Date.now() - t0) / 1000)} ${t("seconds")}`;
        if (st.status === "failed") throw new Error(st.error || "failed");
        if (st.status === "done") { plan = st.result || await api("GET", plan.result_url); break; }
        await new Promise((r) => setTimeout(r, 1000));
      }
      $("#wk-job").hidden = true;
    }
    S.wk.plan = plan; S.wk.day = 0; S.wk.group = plan.itineraries.length ? plan.itineraries[0].group : null;
    const dates = weekDates(plan); const busiest = dates.map((d) => plan.itineraries.filter((it) => it.days.some((x) => x.date === d)).length);
    S.wk.day = Math.max(0, busiest.indexOf(Math.max(...busiest)));
    renderWeek(); drawWeekMap();
  }));
  function renderWeek() {
    const p = S.wk.plan; if (!p) return;
    $("#wk-result").hidden = false;
    const unserved = Object.entries(p.unserved_by_reason || {});
    const hotels = Object.entries(p.hotels || {}).filter(([, h]) => h.room_nights > 0).sort((a, b) => b[1].room_nights - a[1].room_nights);
    const potala = (p.quota_sites || {}).potala || [];
    const rows = [
      [t("k_groups_served"), `${num(p.groups_served)} ${t("of")} ${num(p.groups)} ${t("groups_u")} (${num(p.groups ? 100 * p.groups_served / p.groups : 100, 1)}%)`],
      [t("wk_k_planned"), `${num(p.groups_planned)} ${t("of")} ${num(p.groups)} ${t("groups_u")}`],
      [t("k_visitors_served"), `${num(p.persons_served)} ${t("of")} ${num(p.persons)} ${t("persons")}`],
      [t("wk_k_dates"), `${p.start} – ${p.end} (${num(p.days)} ${t("wk_days_u")})`],
      [t("wk_k_unserved"), unserved.length ? unserved.map(([r, n]) => `${reasonWord(r)} ${num(n)}`).join(" · ") : t("none")],
      [t("wk_k_rooms"), `${num(hotels.reduce((a, [, h]) => a + h.room_nights, 0))} ${t("wk_room_nights")}` + (hotels.length ? ` · ${t("wk_busiest")} ${placeName(hotels[0][0])} ${num(hotels[0][1].peak_rooms)} / ${num(hotels[0][1].rooms)} ${t("wk_rooms_u")}` : "")],
      ...(potala.length ? [[t("wk_k_potala"), `${t("wk_most")} ${num(Math.max(...potala.map((r) => r.persons)))} / ${num(potala[0].daily_quota)} ${t("persons")} ${t("wk_per_day")}`]] : []),
      [t("wk_k_accl"), p.acclimatization.respected ? t("wk_accl_ok") : `${num(p.acclimatization.n_breaks)} ${t("violations_n")}`],
      [t("k_solve"), `${num(p.runtime_s.total, 1)} ${t("seconds")} · ${num(p.iterations)} ${t("iterations_u")}`],
      [t("k_verifier"), p.violations.length ? `${p.violations.length} ${t("violations_n")}` : t("violations_0")],
    ];
    $("#wk-kpis").innerHTML = rows.map(([a, b]) => `<dt>${esc(a)}</dt><dd>${esc(b)}</dd>`).join("");
    const dates = weekDates(p);
    $("#wk-days").innerHTML = dates.map((d, i) => {
      const n = p.itineraries.filter((it) => it.days.some((x) => x.date === d)).length;
      return `<button type="button" data-day="${i}" aria-pressed="${i === S.wk.day}" title="${esc(`${n} ${t("groups_u")}`)}">${esc(dateLabel(d))}<small>${num(n)}</small></button>`;
    }).join("");
    const sel = $("#wk-group");
    sel.innerHTML = p.itineraries.map((it) => `<option value="${esc(it.group)}">${esc(t("wk_group_option", { id: it.group, n: it.size, d: it.days.length }))}</option>`).join("");
    sel.value = S.wk.group || "";
    renderWeekGroup();
    $("#wk-unserved").innerHTML = p.unserved.length ? `<table><tr><th>${t("pick_group")}</th><th>${t("sc_site")}</th><th>${t("reason")}</th></tr>` +
      p.unserved.map((u) => { const [g, s] = u.item.split("/"); return `<tr><td>${esc(g)}</td><td>${esc(s ? placeName(s) : "–")}</td><td style="white-space:normal;text-align:left" title="${esc(u.detail)}">${esc(reasonWord(u.reason))}</td></tr>`; }).join("") + "</table>" : `<p>${t("none")}</p>`;
  }
  $("#wk-days").addEventListener("click", (e) => { const b = e.target.closest("[data-day]"); if (!b) return; S.wk.day = Number(b.dataset.day); document.querySelectorAll("#wk-days button").forEach((x) => x.setAttribute("aria-pressed", String(x === b))); drawWeekMap(); });
  $("#wk-group").addEventListener("change", (e) => { S.wk.group = e.target.value; renderWeekGroup(); drawWeekMap(); });
  function groupAltitudes(it) { // per stay day k: highest altitude reached (m), its cap, the night's sleeping altitude and cap
    const R = S.wk.places.rules;
    return it.days.map((d) => {
      const stops = [d.from, ...d.visits.map((v) => v.site), d.to].map(place).filter(Boolean);
      const reached = Math.max(...stops.map((x) => x.reach_m));
      const night = it.nights.find((n) => n.date === d.date);
      const k = d.day;
      return { day: d, k, reached, cap: capAt(R.max_visit_altitude_m, k), night, sleep: night ? place(night.hotel).elevation_m : null, sleepCap: night ? capAt(R.max_sleep_altitude_m, k) : null };
    });
  }
  function renderWeekGroup() {
    const p = S.wk.plan; const it = p && p.itineraries.find((x) => x.group === S.wk.group);
    if (!it) { $("#wk-alt").innerHTML = ""; $("#wk-timeline").innerHTML = ""; return; }
    const A = groupAltitudes(it), R = S.wk.places.rules;
    // the altitude chart: bars = highest point reached each day, line = sleeping altitude, dashed = the rules' caps
    const W = 560, H = 210, L = 52, Rm = 10, T = 26, B = 40, pw = W - L - Rm, ph = H - T - B;
    const vals = A.flatMap((a) => [a.reached, a.cap, a.sleep, a.sleepCap]).filter((v) => v !== null && v !== undefined);
    const lo = 3000, hi = Math.max(5200, ...vals) + 100;
    const n = A.length, bw = pw / n, y = (v) => T + ph - (ph * (Math.min(hi, v) - lo)) / (hi - lo), x = (i) => L + bw * i;
    let s = `<svg viewBox="0 0 ${W} ${H}" width="${W}" role="img" aria-label="${esc(t("wk_alt_title"))}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#fff"/>`;
    s += `<text x="4" y="15" font-weight="bold" font-size="12">${esc(`${it.group}: ${t("wk_alt_title")}`)}</text>`;
    for (let v = 3000; v <= hi; v += 500) s += `<line x1="${L}" x2="${L + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${L - 4}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`;
    s += `<text x="${L}" y="${T - 4}" fill="#555">m</text>`;
    A.forEach((a, i) => {
      const over = a.cap !== null && a.reached > a.cap + 1e-6;
      s += `<rect class="alt-bar" x="${(x(i) + bw * 0.2).toFixed(1)}" y="${y(a.reached).toFixed(1)}" width="${(bw * 0.6).toFixed(1)}" height="${(y(lo) - y(a.reached)).toFixed(1)}" fill="${over ? "#d62728" : "#8fb3d9"}"><title>${esc(`${t("day_n", { k: a.k })}: ${t("wk_reached")} ${num(a.reached)} m, ${t("wk_allowed")} ${num(a.cap)} m`)}</title></rect>`;
      if (a.cap !== null) s += `<line x1="${x(i).toFixed(1)}" x2="${(x(i) + bw).toFixed(1)}" y1="${y(a.cap)}" y2="${y(a.cap)}" stroke="#d62728" stroke-dasharray="5 3" stroke-width="1.5"/>`;
      s += `<text x="${(x(i) + bw / 2).toFixed(1)}" y="${T + ph + 14}" text-anchor="middle">${esc(t("day_n", { k: a.k }))}</text><text x="${(x(i) + bw / 2).toFixed(1)}" y="${T + ph + 27}" text-anchor="middle" fill="#555">${esc(a.day.date.slice(5))}</text>`;
    });
    const sl = A.map((a, i) => (a.sleep !== null ? `${(x(i) + bw / 2).toFixed(1)},${y(a.sleep).toFixed(1)}` : null)).filter(Boolean);
    if (sl.length) s += `<polyline fill="none" stroke="#7a1f1f" stroke-width="2" points="${sl.join(" ")}"/>`;
    A.forEach((a, i) => { if (a.sleep !== null) s += `<circle cx="${(x(i) + bw / 2).toFixed(1)}" cy="${y(a.sleep).toFixed(1)}" r="4" fill="#7a1f1f"><title>${esc(`${t("wk_night")} ${a.k}: ${placeName(a.night.hotel)} ${num(a.sleep)} m (${t("wk_allowed")} ${num(a.sleepCap)} m)`)}</title></circle>`; });
    s += "</svg>";
    $("#wk-alt").innerHTML = s + `<p class="note"><span class="sw" style="background:#8fb3d9"></span> ${esc(t("wk_leg_reached"))} · <span class="sw" style="border-top:2px dashed #d62728;height:0"></span> ${esc(t("wk_leg_cap"))} · <span style="color:#7a1f1f">●—</span> ${esc(t("wk_leg_sleep"))}</p>`;
    // day by day: route, night's hotel and altitude, what the rule allowed
    const high = (it.days.flatMap((d) => d.visits.map((v) => ({ v, d }))).filter(({ v }) => place(v.site) && place(v.site).reach_m > capAt(R.max_visit_altitude_m, 1)));
    let h = "";
    for (const a of A) { // one card per day: date, the night's hotel and altitude, the route, what the rule allowed
      const d = a.day;
      const route = [`${d.depart} ${placeName(d.from)}`, ...d.visits.map((v) => `${v.start}–${v.end} ${placeName(v.site)}`), `${d.return} ${placeName(d.to)}`];
      const night = a.night ? `${esc(t("wk_night_at"))} ${esc(placeName(a.night.hotel))} · <b>${num(a.sleep)} m</b> <small>(${esc(t("wk_sleep_cap"))} ${num(a.sleepCap)} m)</small>` : `<i>${esc(t("wk_leaves"))}</i>`;
      const over = a.cap !== null && a.reached > a.cap + 1e-6;
      h += `<div class="stay-day"><div class="stay-head"><b>${esc(t("day_n", { k: a.k }))}</b> <span>${esc(dateLabel(d.date))}</span> <span class="stay-night">${night}</span></div>` +
        `<div class="stay-route">${route.map(esc).join(" → ")}${d.lunch ? ` <small>(${esc(t("wk_lunch"))} ${esc(d.lunch)})</small>` : ""}</div>` +
        `<div class="stay-rule${over ? " over" : ""}">${esc(t("wk_rule_line", { r: num(a.reached), c: num(a.cap) }))}</div></div>`;
    }
    const notes = [];
    for (const { v, d } of high) {
      const reach = place(v.site).reach_m; const first = (R.max_visit_altitude_m.findIndex((c) => c >= reach - 1e-6) + 1) || null;
      notes.push(t("wk_high_visit", { site: placeName(v.site), m: num(reach), first: first ?? "–", k: d.day }));
    }
    for (const u of p.unserved.filter((u) => u.item.split("/")[0] === it.group)) notes.push(`${u.item.split("/")[1] ? placeName(u.item.split("/")[1]) : it.group}: ${reasonWord(u.reason)} (${u.detail})`);
    $("#wk-timeline").innerHTML = h + (notes.length ? `<ul class="note" id="wk-notes">${notes.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : "");
  }
  function drawWeekMap() {
    if (S.page !== "week") return; overlay.clearLayers();
    const p = S.wk.plan; if (!p) { legend([]); return; }
    const date = weekDates(p)[S.wk.day]; let i = 0, sel = null; const hotelPersons = {};
    for (const it of p.itineraries) {
      const d = it.days.find((x) => x.date === date); const k = i++;
      if (!d) continue;
      const pts = [d.from, ...d.visits.map((v) => v.site), d.to].map(place).filter(Boolean).map((x) => [x.lat, x.lon]);
      const mine = it.group === S.wk.group;
      const line = L.polyline(pts, { color: mine ? "#7a1f1f" : routeColour(k), weight: mine ? 5 : 1.6, opacity: mine ? 1 : 0.5, className: "week-route" });
      line.bindTooltip(`${esc(it.group)}: ${it.size} ${t("persons")} · ${esc(d.visits.map((v) => placeName(v.site)).join(", ") || "–")}`, { sticky: true });
      line.on("click", () => { S.wk.group = it.group; $("#wk-group").value = it.group; renderWeekGroup(); drawWeekMap(); });
      line.addTo(overlay); if (mine) sel = line;
      const night = it.nights.find((n) => n.date === date);
      if (night) hotelPersons[night.hotel] = (hotelPersons[night.hotel] || 0) + it.size;
    }
    for (const [hid, q] of Object.entries(hotelPersons)) {
      const h = place(hid); if (!h) continue;
      L.marker([h.lat, h.lon], { icon: L.divIcon({ className: "hotel-icon", html: "H", iconSize: [16, 16] }), keyboard: false })
        .bindTooltip(`${esc(placeName(hid))}: ${num(q)} ${t("persons")}, ${num(h.elevation_m)} m`).addTo(overlay);
    }
    if (sel) sel.bringToFront();
    legend([["background:hsl(200,65%,42%);height:3px", `${t("wk_legend_routes")} ${dateLabel(date)}`], ["background:#7a1f1f;height:4px", t("wk_legend_sel")], ["background:#0b5394;color:#fff", t("wk_legend_hotel")]]);
  }

  // ------------------------------------------------------------------ live day (当日运营)
  const EVENT_FIELDS = { site_closed: ["site_id"], road_closed: ["road"], quota_cut: ["site_id", "quota"], group_delayed: ["group_id", "delay_min"], group_cancelled: ["group_id"] };
  function liveForm() { // options that depend on the map layers and the language
    if (!S.layers) return;
    const pois = S.layers.sites.features.filter((f) => !f.properties.hub).map((f) => f.properties.id);
    const all = S.layers.sites.features.map((f) => f.properties.id);
    const keep = (el, fill) => { const v = [...el.selectedOptions].map((o) => o.value); el.innerHTML = fill; for (const o of el.options) o.selected = v.includes(o.value); if (!el.multiple && v.length && v[0]) el.value = v[0]; };
    keep($("#lv-b-start"), all.map((id) => `<option value="${esc(id)}">${esc(siteName(id))}</option>`).join(""));
    if (!$("#lv-b-start").value || !$("#lv-b-start").dataset.set) { $("#lv-b-start").value = all.includes("lhasa_railway") ? "lhasa_railway" : all[0]; $("#lv-b-start").dataset.set = "1"; }
    keep($("#lv-b-sites"), pois.map((id) => `<option value="${esc(id)}">${esc(siteName(id))}</option>`).join(""));
    if (!$("#lv-b-sites").selectedOptions.length) $("#lv-b-sites").value = "potala";
    const slots = []; for (let m = 8 * 60; m <= 18 * 60; m += (S.lv.day ? S.lv.day.slot_min : 60)) slots.push(hhmm(m));
    keep($("#lv-b-slot"), `<option value="">${esc(t("lv_any_slot"))}</option>` + slots.map((x) => `<option>${x}</option>`).join(""));
    keep($("#lv-e-site"), pois.map((id) => `<option value="${esc(id)}">${esc(siteName(id))}</option>`).join(""));
    keep($("#lv-e-road"), roadOptions([]));
    const gs = S.lv.day ? S.lv.day.groups.filter((g) => !g.cancelled).map((g) => g.group_id) : [];
    keep($("#lv-e-group"), gs.map((g) => `<option>${esc(g)}</option>`).join(""));
    syncEventFields();
  }
  function syncEventFields() { const k = $("#lv-e-kind").value; document.querySelectorAll("#lv-event [data-ev]").forEach((el) => { el.hidden = !el.dataset.ev.split(" ").includes(k); }); }
  $("#lv-e-kind").addEventListener("change", syncEventFields);
  const lvDate = () => $("#lv-date").value;
  async function loadDay(fit) {
    const date = lvDate();
    S.lv.day = await api("GET", `/v1/days/${encodeURIComponent(date)}`);
    const n = S.lv.day.version, from = Math.max(1, n - 29);
    S.lv.versions = await Promise.all(Array.from({ length: n - from + 1 }, (_, i) => api("GET", `/v1/days/${encodeURIComponent(date)}/versions/${n - i}`)));
    if (!$("#lv-b-id").value || S.lv.day.groups.some((g) => g.group_id === $("#lv-b-id").value)) {
      let k = 1; while (S.lv.day.groups.some((g) => g.group_id === `B${String(k).padStart(3, "0")}`)) k++;
      $("#lv-b-id").value = `B${String(k).padStart(3, "0")}`;
    }
    renderLive(); drawLiveMap();
    if (fit) { const b = L.featureGroup(overlay.getLayers().filter((l) => l instanceof L.Polyline)).getBounds(); if (b.isValid()) map.fitBounds(b, { padding: [30, 30], maxZoom: 14 }); }
  }
  $("#lv-create").addEventListener("click", (e) => busy(e.target, async () => {
    const n = Number($("#lv-groups").value);
    if (!Number.isInteger(n) || n < 0 || n > 320) throw new Error(t("lv_bad_n"));
    const groups = n ? (await api("GET", "/v1/web/demo-demand")).groups.slice(0, n) : [];
    try {
      await api("POST", "/v1/days", { date: lvDate(), groups, time_limit_s: Number($("#lv-time").value) });
    } catch (err) {
      if (err.body && err.body.code === "day_exists") { await loadDay(true); throw new Error(t("lv_exists", { date: lvDate() })); }
      throw err;
    }
    S.lv.last = null; S.lv.bookMsg = null; S.lv.eventMsg = null; renderBookOut(); renderEventOut();
    await loadDay(true);
  }));
  $("#lv-load").addEventListener("click", (e) => busy(e.target, () => loadDay(true)));
  function renderLive() {
    const d = S.lv.day; if (!d) return;
    $("#lv-result").hidden = false;
    const k = d.kpis;
    const rows = [
      [t("lv_version"), `${num(d.version)} · ${d.date}` + (d.events.length ? ` · ${t("lv_clock")} ${d.clock_hhmm}` : "")],
      [t("k_groups_served"), `${num(k.groups_served)} ${t("of")} ${num(k.groups)} ${t("groups_u")} (${num(k.served_pct, 1)}%)`],
      [t("k_visitors_served"), `${num(k.visitors_served)} ${t("of")} ${num(k.visitors)} ${t("persons")}`],
      [t("k_visits"), `${num(k.visits)} ${t("visits_u")}`],
      [t("k_must"), num(k.must_visits_unserved)],
      [t("lv_k_cancelled"), num(k.groups_cancelled)],
      [t("lv_k_events"), d.events.length ? d.events.map(eventWords).join("; ") : t("lv_no_events")],
    ];
    $("#lv-kpis").innerHTML = rows.map(([a, b]) => `<dt>${esc(a)}</dt><dd>${esc(b)}</dd>`).join("");
    liveForm(); renderVersions(); renderBookOut(); renderEventOut();
  }
  function eventWords(ev) {
    const what = t("ev_" + ev.kind);
    const obj = ev.site_id ? siteName(ev.site_id) : ev.road ? `${siteName(ev.road[0])} – ${siteName(ev.road[1])}` : ev.group_id || "";
    const extra = ev.kind === "quota_cut" ? `, ${num(ev.quota)} ${t("persons")}/${t("lv_slot_u")}` : ev.kind === "group_delayed" ? `, ${num(ev.delay_min)} ${t("minutes")}` : "";
    return `${ev.at_hhmm} ${what}: ${obj}${extra}`;
  }
  const signed = (x) => (Math.round(x) > 0 ? "+" : Math.round(x) < 0 ? "−" : "±") + num(Math.abs(x));
  const visitsWords = (vs) => vs.map((v) => `${v.start_hhmm} ${siteName(v.site_id)}`).join(", ") || "–";
  function renderVersions() {
    const V = S.lv.versions || [];
    $("#lv-versions").innerHTML = `<ol class="versions" reversed>` + V.map((v) => {
      const d = v.diff || {}; let head = "", body = "";
      if (v.kind === "create") head = t("lv_v_create", { n: num(d.groups || 0) });
      else if (v.kind === "booking") {
        const r = d.segment && d.segment.route;
        head = t("lv_v_book", { g: d.group ? d.group.id : "", n: d.group ? num(d.group.size) : "" });
        body = r ? visitsWords(r.visits.map(([s, , , st]) => ({ site_id: s, start_hhmm: hhmm(st) }))) : "";
        if ((d.moved || []).length) body += ` · ${t("lv_moved")}: ${d.moved.map((m) => m.group_id).join(", ")}`;
      } else if (v.kind === "cancel") head = t("lv_v_cancel", { g: d.group_id });
      else if (v.kind === "event") {
        const ch = d.changed || []; const lost = ch.flatMap((c) => c.lost.map((x) => ({ ...x, group_id: c.group_id })));
        head = `${eventWords({ ...d.event, at_hhmm: d.event.at_hhmm || hhmm(d.event.at) })} — ${t("lv_v_event", { c: num(ch.length), l: num(lost.length) })}`;
        body = ch.length ? `<table><tr><th>${t("pick_group")}</th><th>${t("lv_before")}</th><th>${t("lv_after")}</th><th>${t("lv_lost")}</th></tr>` + ch.slice(0, 40).map((c) => `<tr><td>${esc(c.group_id)}</td><td style="white-space:normal;text-align:left">${esc(visitsWords(c.before))}</td><td style="white-space:normal;text-align:left">${esc(visitsWords(c.after))}</td><td style="white-space:normal;text-align:left">${esc(c.lost.map((x) => `${siteName(x.site_id)} (${reasonWord(x.reason)})`).join(", ") || "–")}</td></tr>`).join("") + "</table>" + (ch.length > 40 ? `<p class="note">+${ch.length - 40}</p>` : "") : "";
        return `<li value="${v.version}"><details><summary><b>v${v.version}</b> ${esc(head)}</summary><div class="scroll">${body}</div></details></li>`;
      } else head = v.reason;
      return `<li value="${v.version}"><b>v${v.version}</b> ${esc(head)}${body ? `<br><small>${esc(body)}</small>` : ""}</li>`;
    }).join("") + "</ol>";
  }
  function bookingBody(over) {
    const sites = [...$("#lv-b-sites").selectedOptions].map((o) => o.value);
    const start = $("#lv-b-start").value, slot = $("#lv-b-slot").value;
    const group = { group_id: $("#lv-b-id").value.trim(), size: Number($("#lv-b-size").value), start, end: start, day_window: [$("#lv-b-open").value, $("#lv-b-close").value], must_visit: sites, interests: {} };
    const body = { group, wanted_slots: slot && sites.length ? { [sites[0]]: slot } : {}, alternatives: 3 };
    if (over) { body.group.must_visit = over.must_visit; body.wanted_slots = over.wanted_slots; }
    return body;
  }
  function renderBookOut() { // the answer to the last booking (kept, so that the language switch redraws it)
    const m = S.lv.bookMsg, out = $("#lv-book-out"); if (!m) { out.innerHTML = ""; return; }
    if (m.kind === "booked") {
      const r = m.data;
      out.innerHTML = `<p class="ok">${esc(t("lv_booked", { g: r.group_id, v: r.version }))}</p><ol class="note">${r.route.visits.map((v) => `<li>${v.start_hhmm}–${v.departure_hhmm} ${esc(siteName(v.site_id))}</li>`).join("")}</ol>`;
    } else if (m.kind === "full") {
      const alts = m.data.alternatives || [];
      out.innerHTML = `<p class="warn">${esc(t("lv_full", { g: m.group }))}</p>` + (alts.length ? `<table class="alts"><tr><th>${t("lv_alt")}</th><th>${t("lv_slot_h")}</th><th>${t("lv_costs")}</th><th></th></tr>` +
        alts.map((a, i) => `<tr><td><b>${i + 1}.</b> ${esc(t(a.kind === "slot" ? "lv_alt_slot" : "lv_alt_site"))}<br>${esc(siteName(a.site_id))}${a.kind === "site" ? ` <small>(${t("lv_instead")} ${esc(siteName(a.replaces))})</small>` : ""}</td><td>${esc(a.slot_hhmm)}</td>` +
          `<td>${esc(t("lv_score_loss"))} ${num(a.score_loss, 1)}<br>${esc(t("lv_extra_travel"))} ${signed(a.extra_travel_min)} ${t("minutes")} · ${esc(t("lv_extra_wait"))} ${signed(a.extra_wait_min)} ${t("minutes")}</td><td><button type="button" data-alt="${i}">${esc(t("lv_take"))}</button></td></tr>`).join("") + "</table>" : `<p>${esc(t("lv_no_alt"))}</p>`);
    } else if (m.kind === "unservable") {
      out.innerHTML = `<p class="warn">${esc(t("lv_unservable"))}</p><ul>${(m.data.unserved || []).map((u) => `<li>${esc(u.site_id ? siteName(u.site_id) : u.group_id)}: ${esc(reasonWord(u.reason))} (${esc(u.detail)})</li>`).join("")}</ul>`;
    } else out.innerHTML = `<p class="error" role="alert">${esc(t("lv_refused"))}: ${esc(m.message)}</p>`;
  }
  function renderEventOut() {
    const m = S.lv.eventMsg, out = $("#lv-event-out"); if (!m) { out.innerHTML = ""; return; }
    if (m.error) { out.innerHTML = `<p class="error" role="alert">${esc(m.error)}</p>`; return; }
    const r = m.data;
    out.innerHTML = `<p class="ok">${esc(t("lv_replanned", { v: r.version, c: num(r.groups_changed), l: num(r.lost_visits.length), s: num(r.solve.runtime_s, 1) }))}</p>` +
      (r.lost_visits.length ? `<ul class="note">${r.lost_visits.slice(0, 20).map((x) => `<li>${esc(x.group_id)}: ${esc(siteName(x.site_id))} (${esc(reasonWord(x.reason))})</li>`).join("")}</ul>` : "");
  }
  async function submitBooking(over) {
    const body = bookingBody(over);
    try {
      const r = await api("POST", `/v1/days/${encodeURIComponent(lvDate())}/bookings`, body);
      S.lv.last = { kind: "booked", group: r.group_id, route: r.route }; S.lv.bookMsg = { kind: "booked", data: r }; renderBookOut();
      await loadDay();
    } catch (err) {
      const b = err.body || {};
      if (b.code === "full") {
        S.lv.last = { kind: "full", alternatives: b.alternatives || [], body };
        S.lv.bookMsg = { kind: "full", data: b, group: body.group.group_id }; renderBookOut();
        drawLiveMap(); $("#lv-book-out").scrollIntoView({ block: "nearest" }); throw new Error(t("lv_full", { g: body.group.group_id }));
      }
      S.lv.bookMsg = b.code === "unservable" ? { kind: "unservable", data: b } : { kind: "error", message: err.message };
      renderBookOut(); throw err;
    }
  }
  $("#lv-book").addEventListener("submit", (e) => { e.preventDefault(); busy($("#lv-b-go"), () => submitBooking(null)); });
  $("#lv-book-out").addEventListener("click", (e) => {
    const i = e.target.dataset.alt; if (i === undefined || !S.lv.last || S.lv.last.kind !== "full") return;
    const a = S.lv.last.alternatives[Number(i)];
    busy(e.target, () => submitBooking({ must_visit: a.must_visit, wanted_slots: a.wanted_slots }));
  });
  $("#lv-event").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("#lv-e-go"), async () => {
      const kind = $("#lv-e-kind").value; const body = { kind, at: $("#lv-e-at").value, time_limit_s: 5 };
      for (const f of EVENT_FIELDS[kind]) {
        if (f === "site_id") body.site_id = $("#lv-e-site").value;
        if (f === "road") body.road = $("#lv-e-road").value.split("|");
        if (f === "quota") body.quota = Number($("#lv-e-quota").value);
        if (f === "group_id") body.group_id = $("#lv-e-group").value;
        if (f === "delay_min") body.delay_min = Number($("#lv-e-delay").value);
      }
      try {
        const r = await api("POST", `/v1/days/${encodeURIComponent(lvDate())}/events`, body);
        S.lv.last = { kind: "event", changed: r.changed.map((c) => c.group_id), event: r.event };
        S.lv.eventMsg = { data: r }; renderEventOut();
        await loadDay();
      } catch (err) { S.lv.eventMsg = { error: err.message }; renderEventOut(); throw err; }
    });
  });
  function drawLiveMap() {
    if (S.page !== "live") return; overlay.clearLayers();
    const d = S.lv.day; if (!d) { legend([]); return; }
    const bySite = Object.fromEntries(S.layers.sites.features.map((f) => [f.properties.id, f]));
    const hl = S.lv.last && S.lv.last.kind === "booked" ? [S.lv.last.group] : S.lv.last && S.lv.last.kind === "event" ? S.lv.last.changed : [];
    let i = 0; const top = [];
    for (const g of d.groups) {
      const k = i++; if (g.cancelled) continue;
      const pts = g.visits.filter((v) => bySite[v.site_id]).map((v) => ll(bySite[v.site_id].geometry.coordinates));
      if (pts.length < 2) continue;
      const mine = hl.includes(g.group_id);
      const line = L.polyline(pts, { color: mine ? "#7a1f1f" : routeColour(k), weight: mine ? 4 : 1.5, opacity: mine ? 1 : 0.45, className: "live-route" })
        .bindTooltip(`${esc(g.group_id)}: ${g.size} ${t("persons")} · ${esc(visitsWords(g.visits))}`, { sticky: true }).addTo(overlay);
      if (mine) top.push(line);
    }
    top.forEach((l) => l.bringToFront());
    for (const ev of d.events) {
      if (ev.road && bySite[ev.road[0]] && bySite[ev.road[1]]) L.polyline([ll(bySite[ev.road[0]].geometry.coordinates), ll(bySite[ev.road[1]].geometry.coordinates)], { color: "#d00", weight: 5, dashArray: "8 6", className: "closed-road" }).bindTooltip(eventWords(ev)).addTo(overlay);
      if (ev.site_id && bySite[ev.site_id]) L.circleMarker(ll(bySite[ev.site_id].geometry.coordinates), { radius: 10, color: ev.kind === "site_closed" ? "#000" : "#f08c00", weight: 3, fillColor: ev.kind === "site_closed" ? "#000" : "#f08c00", fillOpacity: ev.kind === "site_closed" ? 0.8 : 0.2, className: "event-site" }).bindTooltip(eventWords(ev)).addTo(overlay);
    }
    const alts = S.lv.last && S.lv.last.kind === "full" ? S.lv.last.alternatives : [];
    alts.forEach((a, j) => { if (bySite[a.site_id]) L.circleMarker(ll(bySite[a.site_id].geometry.coordinates), { radius: 12, color: "#1a7f37", weight: 3, fill: false, className: "alt-site" }).bindTooltip(`${j + 1}. ${siteName(a.site_id)} ${a.slot_hhmm}`, { permanent: true, direction: "top", className: "site-label" }).addTo(overlay); });
    legend([["background:hsl(200,65%,42%);height:3px", t("lv_legend_routes")], ["background:#7a1f1f;height:4px", t("lv_legend_sel")], ["background:#d00;height:3px", t("legend_closed")], ["border:2px solid #1a7f37;border-radius:50%;background:none", t("lv_legend_alt")]]);
  }

  // ------------------------------------------------------------------ header tools
  $("#lang").addEventListener("click", () => {
    S.lang = S.lang === "zh" ? "en" : "zh"; localStorage.setItem("lhasa.lang", S.lang);
    applyLang(); setStatus(""); relabel(); renderScenarioForm(); renderProgress(); renderDay(); renderScenarioResults(); renderSiting(); renderOps(); renderAir(); renderWeek(); renderLive(); showPage(S.page);
  });
  $("#api-key").value = sessionStorage.getItem("lhasa.key") || "";
  $("#api-key").addEventListener("change", (e) => sessionStorage.setItem("lhasa.key", e.target.value.trim()));
  function syncTiles() {
    const cb = $("#tiles"); cb.disabled = !navigator.onLine;
    if (cb.checked && navigator.onLine) {
      if (!tiles) tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 18, attribution: "© OpenStreetMap contributors" });
      if (!map.hasLayer(tiles)) tiles.addTo(map);
    } else if (tiles && map.hasLayer(tiles)) map.removeLayer(tiles);
  }
  $("#tiles").addEventListener("change", syncTiles);
  window.addEventListener("online", syncTiles); window.addEventListener("offline", syncTiles);
  $("#dl-map-png").addEventListener("click", mapPng);
  const fitRegion = () => { const b = S.layers.bbox; map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [10, 10] }); };
  $("#zoom-region").addEventListener("click", fitRegion);
  $("#zoom-town").addEventListener("click", () => map.fitBounds([[29.615, 91.035], [29.712, 91.165]])); // the old town (scenario report's CITY_BBOX)

  // ------------------------------------------------------------------ start
  applyLang(); syncTiles();
  api("GET", "/v1/web/layers").then((ly) => {
    S.layers = ly; for (const f of ly.sites.features) S.siteById[f.properties.id] = f.properties;
    drawBase(); renderScenarioForm(); showPage("day"); document.body.dataset.ready = "1";
  }).catch((e) => setStatus(`${t("failed")}: ${e.message}`));
})();
