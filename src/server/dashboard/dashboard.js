// The live dashboard: fetches /dashboard/summary.json once a second (the
// next fetch starts only when the last one ended, and none while the tab
// is hidden) and redraws. Every value is set with textContent, never as
// markup: ticket fields are citizens' input.
"use strict";

(function () {
  const REFRESH_MS = 1000;
  let lastDistricts = "";
  let seen = new Set();
  let first = true;

  function $(id) { return document.getElementById(id); }

  function text(id, value) { $(id).textContent = value; }

  function cell(row, value, cls) {
    const td = document.createElement("td");
    td.textContent = value === null || value === undefined ? "—" : String(value);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function fill(id, rows, columns, empty, make) {
    const body = $(id);
    const out = document.createDocumentFragment();
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(tr, empty);
      td.colSpan = columns;
      out.appendChild(tr);
    }
    for (const r of rows) {
      const tr = document.createElement("tr");
      make(tr, r);
      out.appendChild(tr);
    }
    body.replaceChildren(out);
  }

  function pct(r) { return r === null || r === undefined ? "—" : (r * 100).toFixed(1) + "%"; }

  function age(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + "天" + h + "时";
    if (h > 0) return h + "时" + m + "分";
    return m + "分";
  }

  function clock(at) { return at ? at.slice(11, 19) : "—"; }

  function render(s) {
    text("now", s.now.replace("T", " ").slice(0, 19));
    text("computed", s.computed_at.replace("T", " ").slice(0, 19));
    text("received", s.today.received);
    text("no-district", s.today.no_district);
    const most = s.today.categories.length ? s.today.categories[0].count : 1;
    fill("categories", s.today.categories, 3, "今日暂无 none yet", (tr, c) => {
      tr.title = c.code;
      cell(tr, c.name);
      cell(tr, c.count, "n");
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = Math.max(2, Math.round(100 * c.count / most)) + "%";
      cell(tr, "", "bar-cell").appendChild(bar);
    });

    const districts = JSON.stringify(s.today.districts);
    if (districts !== lastDistricts) {
      lastDistricts = districts;
      if (!first) $("map").src = "/dashboard/map.svg?v=" + s.version;
    }

    fill("latest", s.latest, 5, "暂无工单 no tickets", (tr, t) => {
      if (!first && !seen.has(t.id)) tr.className = "fresh";
      cell(tr, t.id);
      cell(tr, clock(t.at));
      cell(tr, t.category_name).title = t.category;
      cell(tr, t.district_name || "未定位 unlocated");
      cell(tr, t.agency_name || t.agency).title = t.agency || "";
    });
    seen = new Set(s.latest.map((t) => t.id));

    const w = s.work_lists;
    text("open", w.open);
    text("agencies", w.agencies);
    fill("lists", w.top, 4, "无在办工单 nothing open", (tr, a) => {
      cell(tr, a.name).title = a.agency;
      cell(tr, a.open, "n");
      cell(tr, age(a.oldest_seconds), "n");
      cell(tr, a.overdue, a.overdue > 0 ? "n late" : "n");
    });

    text("overdue-count", s.overdue.count);
    fill("overdue", s.overdue.oldest, 4, "无超期 none overdue", (tr, o) => {
      cell(tr, o.id);
      cell(tr, o.agency_name).title = o.agency;
      cell(tr, o.category_name).title = o.category;
      cell(tr, age(o.late_seconds), "n late");
    });

    const r = s.rates;
    text("month", r.month);
    text("rate-response", pct(r.city.response));
    text("rate-resolution", pct(r.city.resolution));
    text("rate-satisfaction", pct(r.city.satisfaction));
    text("evaluated", r.city.evaluated);
    text("month-received", r.city.received);
    text("min-evaluated", r.min_evaluated);
    fill("worst", r.worst, 5, "回访不足 too few call-backs", (tr, a) => {
      cell(tr, a.name).title = a.key;
      cell(tr, pct(a.response), "n");
      cell(tr, pct(a.resolution), "n");
      cell(tr, pct(a.satisfaction), "n");
      cell(tr, a.evaluated, "n");
    });

    fill("alerts", s.alerts, 4, "暂无预警 no alerts", (tr, a) => {
      cell(tr, clock(a.at));
      cell(tr, a.street_name ? a.district_name + " " + a.street_name : a.district_name);
      cell(tr, a.category_name).title = a.category;
      cell(tr, a.count + " / " + a.expected.toFixed(1), "n late");
    });
    first = false;
  }

  function status(cls, label) {
    const el = $("status");
    el.className = "dot " + cls;
    el.textContent = label;
  }

  async function refresh() {
    try {
      if (!document.hidden || first) {
        const response = await fetch("/dashboard/summary.json", { cache: "no-store" });
        if (!response.ok) throw new Error("HTTP " + response.status);
        render(await response.json());
        status("live", "实时 live");
      }
    } catch (e) {
      status("down", "数据获取失败 fetch failed");
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
