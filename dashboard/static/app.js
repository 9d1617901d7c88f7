/* The dashboard's behaviour: live boards over server-sent events, actions through the JSON API, charts. */
"use strict";
window.Eldercare = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.body.dataset.lang;

  function toast(text, bad) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.className = "show" + (bad ? " bad" : "");
    clearTimeout(el._timer);
    el._timer = setTimeout(() => { el.className = ""; }, bad ? 6000 : 2500);
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      let detail = data.detail;
      if (Array.isArray(detail)) detail = detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
      throw new Error(detail || response.statusText);
    }
    return data;
  }

  function formatAge(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h >= 24) return Math.floor(h / 24) + (lang === "zh" ? "天" : "d") + " " + (h % 24) + (lang === "zh" ? "时" : "h");
    if (h > 0) return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    return m + ":" + String(s).padStart(2, "0");
  }

  function tickAges() {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = formatAge((now - Date.parse(el.dataset.since)) / 1000);
    });
  }

  function ages() {
    tickAges();
    setInterval(tickAges, 1000);
  }

  /* Re-fetch a board's partial when the server says something changed; at most one fetch in flight. */
  function liveRegion(container, kinds) {
    const indicator = document.getElementById("live");
    let busy = false, again = false;
    async function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      try {
        const response = await fetch(container.dataset.partial, { credentials: "same-origin" });
        if (response.ok && !container.querySelector("form.resolve:focus-within")) {
          container.innerHTML = await response.text();
          tickAges();
        } else if (response.ok) again = true;
      } finally {
        busy = false;
        if (again) { again = false; setTimeout(refresh, 300); }
      }
    }
    const source = new EventSource("/events");
    kinds.concat(["ready"]).forEach((kind) => source.addEventListener(kind, refresh));
    source.onopen = () => { if (indicator) { indicator.classList.remove("down"); indicator.textContent = indicator.dataset.online; } };
    source.onerror = () => { if (indicator) { indicator.classList.add("down"); indicator.textContent = indicator.dataset.offline; } };
    return refresh;
  }

  function alarmBoard() {
    const board = document.getElementById("alarm-board");
    const refresh = liveRegion(board, ["alarm"]);
    ages();
    board.addEventListener("click", async (event) => {
      const ack = event.target.closest("[data-ack]");
      const resolve = event.target.closest("[data-resolve]");
      if (ack) {
        ack.disabled = true;
        try { await api("POST", `/api/v1/alarms/${ack.dataset.ack}/acknowledge`, {}); refresh(); }
        catch (err) { toast(err.message, true); ack.disabled = false; }
      } else if (resolve) {
        const card = resolve.closest(".alarm");
        if (card.querySelector("form.resolve")) return;
        const form = document.getElementById("resolve-template").content.firstElementChild.cloneNode(true);
        form.dataset.alarm = resolve.dataset.resolve;
        card.appendChild(form);
        form.querySelector("select").focus();
      }
    });
    board.addEventListener("submit", async (event) => {
      const form = event.target.closest("form.resolve");
      if (!form) return;
      event.preventDefault();
      const body = { outcome: form.outcome.value, note: form.note.value };
      try { await api("POST", `/api/v1/alarms/${form.dataset.alarm}/resolve`, body); form.remove(); refresh(); }
      catch (err) { toast(err.message, true); }
    });
  }

  function orderBoard() { liveRegion(document.getElementById("order-board"), ["order"]); }

  function localInput(value) { return value ? new Date(value).toISOString() : undefined; }

  function newOrder() {
    const form = document.getElementById("order-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        elder_id: Number(form.elder_id.value), service_type: form.service_type.value, notes: form.notes.value,
        window_start: localInput(form.window_start.value), window_end: localInput(form.window_end.value),
      };
      try { const order = await api("POST", "/api/v1/orders", body); location.href = `/orders/${order.id}`; }
      catch (err) { toast(err.message, true); }
    });
  }

  function orderPage() {
    const cancel = document.getElementById("cancel-form");
    const reassign = document.getElementById("reassign-form");
    if (cancel) cancel.addEventListener("submit", async (event) => {
      event.preventDefault();
      try { await api("POST", `/api/v1/orders/${cancel.dataset.order}/cancel`, { reason: cancel.reason.value }); location.reload(); }
      catch (err) { toast(err.message, true); }
    });
    if (reassign) reassign.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = reassign.caregiver_id.value ? Number(reassign.caregiver_id.value) : null;
      try { await api("POST", `/api/v1/orders/${reassign.dataset.order}/reassign`, { caregiver_id: id }); location.reload(); }
      catch (err) { toast(err.message, true); }
    });
  }

  function visits() {
    document.querySelectorAll("form.review-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { satisfaction: Number(form.satisfaction.value), note: form.note.value };
      try { await api("POST", `/api/v1/orders/${form.dataset.order}/review`, body); location.reload(); }
      catch (err) { toast(err.message, true); }
    }));
  }

  function providers() {
    document.querySelectorAll("form.standing-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { standing: form.standing.value, standing_note: form.standing_note.value };
      try { await api("PATCH", `/api/v1/providers/${form.dataset.provider}`, body); toast("✓"); }
      catch (err) { toast(err.message, true); }
    }));
  }

  function plot(id, data, series, opts) {
    const el = document.getElementById(id);
    if (!el) return;
    if (!window.uPlot) { el.innerHTML = '<p class="empty">chart library missing: run make install</p>'; return; }
    if (!data.t.length) { el.innerHTML = `<p class="empty">${el.dataset.empty}</p>`; return; }
    const width = el.clientWidth || 600;
    new uPlot(Object.assign({ width, height: 240, series: [{}].concat(series), legend: { show: true } }, opts || {}),
      [data.t].concat(series.map((s) => data[s.key])), el);
  }

  function vitalsChart(id, data, fields) {
    const pad = (data.span[1] - data.span[0]) * 0.01; // so that the latest reading is not drawn on the edge
    // points always drawn: a device that has just started reporting has too few readings for a line
    const series = fields.map(([key, label, stroke]) => ({ key, label, stroke, width: 1.5, spanGaps: true,
      points: { show: true, size: 4 } }));
    plot(id, data, series, { scales: { x: { time: true, range: [data.span[0], data.span[1] + pad] } } });
  }

  function kpiCharts(data) {
    const unix = (ordinal) => (ordinal - 719163) * 86400; // Python's date.toordinal() of 1970-01-01 is 719163
    const days = { t: data.t.map(unix) };
    const x = { time: true, range: [unix(data.span[0]) - 43200, unix(data.span[1]) + 43200] };
    const rates = ["ack_60", "ack_180", "arrived_45", "fulfilment"];
    rates.forEach((k) => { days[k] = data[k].map((v) => (v === null ? null : v * 100)); });
    days.accept_p50 = data.accept_p50.map((v) => (v === null ? null : v / 60));
    days.accept_p90 = data.accept_p90.map((v) => (v === null ? null : v / 60));
    const colors = { ack_60: "#c62828", ack_180: "#ef8f00", arrived_45: "#0b6e8a", fulfilment: "#2e7d32" };
    plot("chart-rates", days, rates.map((key) => ({ key, label: key, stroke: colors[key], width: 1.5, spanGaps: true })),
      { scales: { x, y: { range: [0, 100] } } });
    plot("chart-accept", days, [
      { key: "accept_p50", label: "p50", stroke: "#0b6e8a", width: 1.5, spanGaps: true },
      { key: "accept_p90", label: "p90", stroke: "#ef8f00", width: 1.5, spanGaps: true },
    ], { scales: { x } });
  }

  function elderCharts(data) {
    vitalsChart("chart-day", data.day, [["hr", "HR", "#d33"], ["spo2", "SpO2", "#26c"], ["sbp", "SBP", "#a5a"], ["dbp", "DBP", "#c8c"]]);
    vitalsChart("chart-month", data.month, [["hr_avg", "HR avg", "#d33"], ["hr_min", "HR min", "#f99"], ["hr_max", "HR max", "#900"], ["spo2_avg", "SpO2", "#26c"], ["sbp_avg", "SBP", "#a5a"]]);
  }

  // The elder form: a click on the offline map of townships and communities fills in the latitude and longitude.
  function elderForm(data) {
    const map = document.getElementById("pick-map");
    const p = data && data.projection;
    if (!map || !p) return;
    const marker = document.getElementById("pick-marker");
    const form = document.getElementById("elder-form");
    function place(lat, lon) {
      marker.setAttribute("cx", p.off_x + (lon - p.min_lon) * p.x_scale * p.scale);
      marker.setAttribute("cy", p.height - p.off_y - (lat - p.min_lat) * p.scale);
    }
    const lat0 = parseFloat(form.lat.value), lon0 = parseFloat(form.lon.value);
    if (!Number.isNaN(lat0) && !Number.isNaN(lon0)) place(lat0, lon0);
    map.addEventListener("click", (event) => {
      const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(map.getScreenCTM().inverse());
      const lon = p.min_lon + (at.x - p.off_x) / (p.x_scale * p.scale);
      const lat = p.min_lat + (p.height - p.off_y - at.y) / p.scale;
      form.lat.value = lat.toFixed(6);
      form.lon.value = lon.toFixed(6);
      place(lat, lon);
    });
  }

  // Each page names itself in <body data-page> and carries its data in <script type="application/json" id="page-data">:
  // no inline script, so the Content-Security-Policy can refuse every script the app did not serve as a file.
  const pages = {
    alarms: alarmBoard, orders: orderBoard, devices: ages, order: orderPage, order_new: newOrder,
    providers, visits, kpis: kpiCharts, elder: elderCharts, elder_form: elderForm,
  };
  document.addEventListener("DOMContentLoaded", () => {
    const start = pages[document.body.dataset.page];
    const holder = document.getElementById("page-data");
    if (start) start(holder ? JSON.parse(holder.textContent) : undefined);
  });

  return { api, toast, ages, alarmBoard, orderBoard, orderPage, newOrder, visits, providers, vitalsChart, kpiCharts };
})();
