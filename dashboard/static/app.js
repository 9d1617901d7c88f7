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
      // what happened in the reader's language first; the server's detail (for the record) after it
      const words = document.getElementById("toast").dataset;
      const headline = words["status-" + response.status] || words.statusOther;
      throw new Error(headline + (detail ? ` (${detail})` : ""));
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

  /* Re-fetch a board's partial when the server says something changed; at most one fetch in flight. A board with a
     form in use (an operator writing a note) is left as it is and fetched again shortly; whether one is in use is
     asked once the new board has arrived, with nothing awaited between the asking and the replacing, so that a
     form opened while the board was on its way is not wiped out with the old board. */
  function liveRegion(container, kinds, after) {
    const indicator = document.getElementById("live");
    let busy = false, again = false;
    async function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      try {
        const response = await fetch(container.dataset.partial, { credentials: "same-origin" });
        const html = response.ok ? await response.text() : null;
        if (html !== null && !container.querySelector("form:focus-within")) {
          container.innerHTML = html;
          tickAges();
          if (after) after();
        } else if (html !== null) again = true;
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

  /* The desk: new critical alarms announce themselves (sound, notification, tab title) until acknowledged. */
  function announcer(board) {
    const sound = document.getElementById("alarm-sound");
    const button = document.getElementById("announce");
    const title = board.dataset.title;
    const announced = new Set();
    let repeat = null;
    function waiting() {
      const ids = new Set();
      board.querySelectorAll('[data-severity="critical"][data-status="open"]').forEach((el) => ids.add(el.dataset.alarmId));
      return ids;
    }
    function ring() { sound.currentTime = 0; const played = sound.play(); if (played) played.catch(() => {}); }
    function check() {
      const ids = waiting();
      const fresh = [...ids].filter((id) => !announced.has(id));
      fresh.forEach((id) => announced.add(id));
      document.title = ids.size ? `(${ids.size}) ⚠ ${title}` : title;
      if (fresh.length) {
        ring();
        if ("Notification" in window && Notification.permission === "granted") {
          const row = board.querySelector(`[data-alarm-id="${fresh[0]}"]`);
          const text = row ? row.querySelector(".atype").textContent + " · " + row.querySelector("a strong").textContent : "";
          new Notification(board.dataset.newCritical, { body: text, tag: "alarm-" + fresh[0] });
        }
      }
      if (ids.size && !repeat) repeat = setInterval(ring, 30000);
      if (!ids.size && repeat) { clearInterval(repeat); repeat = null; }
    }
    function showOn() { if (button) { button.textContent = button.dataset.on; button.disabled = true; } }
    if (button) {
      if ("Notification" in window && Notification.permission === "granted") showOn();
      button.addEventListener("click", async () => {
        sound.muted = false;
        if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
        showOn();
      });
    }
    return check;
  }

  function boardFilters(board) {
    const form = document.getElementById("alarm-filters");
    function apply() {
      const want = Object.fromEntries(new FormData(form));
      board.querySelectorAll("[data-alarm-id]").forEach((el) => {
        el.hidden = !Object.entries(want).every(([key, value]) => !value || el.dataset[key] === value);
      });
    }
    form.addEventListener("change", apply);
    return apply;
  }

  function alarmBoard() {
    const board = document.getElementById("alarm-board");
    const check = announcer(board);
    const filter = boardFilters(board);
    const refresh = liveRegion(board, ["alarm", "order"], () => { filter(); check(); });
    ages();
    check();
    const views = document.querySelectorAll(".view-switch [data-view]");
    function view(name) {
      board.dataset.view = name;
      views.forEach((b) => b.classList.toggle("active", b.dataset.view === name));
      try { localStorage.setItem("alarm-view", name); } catch (err) { /* private mode: not remembered */ }
    }
    views.forEach((b) => b.addEventListener("click", () => view(b.dataset.view)));
    try { view(localStorage.getItem("alarm-view") || "list"); } catch (err) { view("list"); }
    function attach(place, templateId, id) {
      if (place.querySelector("form")) return null;
      const form = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
      form.dataset.alarm = id;
      place.append(form);
      return form;
    }
    board.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-ack], [data-take], [data-note], [data-resolve]");
      if (!button) return;
      const actionsPlace = button.closest(".actions");
      const post = async (url) => {
        button.disabled = true;
        try { await api("POST", url, {}); refresh(); }
        catch (err) { toast(err.message, true); button.disabled = false; }
      };
      if (button.dataset.ack) await post(`/api/v1/alarms/${button.dataset.ack}/acknowledge`);
      else if (button.dataset.take) await post(`/api/v1/alarms/${button.dataset.take}/take`);
      else if (button.dataset.note) {
        const form = attach(actionsPlace, "note-template", button.dataset.note);
        if (form) form.querySelector("input").focus();
      } else {
        const form = attach(actionsPlace, "resolve-template", button.dataset.resolve);
        if (!form) return;
        const live = button.closest("[data-alarm-id]").dataset.orderLive;
        const stop = form.querySelector(".stop-order");
        form.outcome.addEventListener("change", () => { stop.hidden = !(live && form.outcome.value === "false_alarm"); });
        form.querySelector("select").focus();
      }
    });
    board.addEventListener("submit", async (event) => {
      const form = event.target.closest("form.resolve, form.add-note");
      if (!form) return;
      event.preventDefault();
      try {
        if (form.classList.contains("add-note")) {
          await api("POST", `/api/v1/alarms/${form.dataset.alarm}/notes`, { text: form.text.value });
        } else {
          const stop = !form.querySelector(".stop-order").hidden && form.stop_order.checked;
          const body = { outcome: form.outcome.value, note: form.note.value, stop_order: stop };
          await api("POST", `/api/v1/alarms/${form.dataset.alarm}/resolve`, body);
        }
        form.remove();
        refresh();
      } catch (err) { toast(err.message, true); }
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

  // times on charts in the reader's language and 24-hour clock, as the rest of the page
  const locale = lang === "zh" ? "zh-CN" : "en-GB";
  function timeFormat(withTime) {
    const f = new Intl.DateTimeFormat(locale, withTime
      ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }
      : { year: "numeric", month: "2-digit", day: "2-digit" });
    return (ts) => (ts === null || ts === undefined ? "–" : f.format(new Date(ts * 1000)));
  }

  function plot(id, data, series, opts, withTime) {
    const el = document.getElementById(id);
    if (!el) return;
    if (!window.uPlot) { el.innerHTML = '<p class="empty">chart library missing: run make install</p>'; return; }
    if (!data.t.length) { el.innerHTML = `<p class="empty">${el.dataset.empty}</p>`; return; }
    const width = el.clientWidth || 600;
    const fmt = timeFormat(withTime !== false);
    const x = { values: (u, splits) => splits.map(fmt), space: 90 };
    const options = Object.assign({ width, height: 240, series: [{ label: document.body.dataset.timeWord, value: (u, ts) => fmt(ts) }].concat(series),
      legend: { show: true }, axes: [x, {}] }, opts || {});
    if (opts && opts.axes) options.axes = [x].concat(opts.axes);
    new uPlot(options, [data.t].concat(series.map((s) => data[s.key])), el);
  }

  // one axis per kind of measure, each with its unit: heart rate on the left, SpO2 and blood pressure on the right
  function vitalsChart(id, data, fields, words) {
    const pad = (data.span[1] - data.span[0]) * 0.01; // so that the latest reading is not drawn on the edge
    // points always drawn: a device that has just started reporting has too few readings for a line
    const series = fields.map(([key, scale, stroke]) => ({ key, label: words[key], stroke, width: 1.5, spanGaps: true,
      scale, points: { show: true, size: 4 } }));
    const axes = [
      { scale: "hr", label: words.axis_hr, stroke: "#d33" },
      { scale: "spo2", label: words.axis_spo2, side: 1, stroke: "#26c", grid: { show: false } },
      { scale: "bp", label: words.axis_bp, side: 1, stroke: "#a5a", grid: { show: false } },
    ];
    plot(id, data, series, { axes, scales: { x: { time: true, range: [data.span[0], data.span[1] + pad] },
      spo2: { range: [80, 100] } } });
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
    const words = data.words || {};
    plot("chart-rates", days, rates.map((key) => ({ key, label: words[key] || key, stroke: colors[key], width: 1.5,
      spanGaps: true })), { scales: { x, y: { range: [0, 100] } } }, false);
    plot("chart-accept", days, [
      { key: "accept_p50", label: words.accept_p50 || "P50", stroke: "#0b6e8a", width: 1.5, spanGaps: true },
      { key: "accept_p90", label: words.accept_p90 || "P90", stroke: "#ef8f00", width: 1.5, spanGaps: true },
    ], { scales: { x } }, false);
  }

  function elderCharts(data) {
    const words = data.words;
    vitalsChart("chart-day", data.day, [["hr", "hr", "#d33"], ["spo2", "spo2", "#26c"], ["sbp", "bp", "#a5a"], ["dbp", "bp", "#c8c"]], words);
    vitalsChart("chart-month", data.month, [["hr_avg", "hr", "#d33"], ["hr_min", "hr", "#f99"], ["hr_max", "hr", "#900"], ["spo2_avg", "spo2", "#26c"], ["sbp_avg", "bp", "#a5a"]], words);
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
