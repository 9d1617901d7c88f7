/* The age-allowance cross-check: the roll is sent to the JSON API and each mismatch listed by its line. */
"use strict";
(function () {
  const { toast } = window.Eldercare;
  const words = JSON.parse(document.getElementById("allowance-words").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const form = document.getElementById("allowance-form");

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    row.appendChild(td);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/api/v1/allowance-check", {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { toast(typeof data.detail === "string" ? data.detail : Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : response.statusText, true); return; }
    const rows = document.getElementById("allowance-rows");
    rows.replaceChildren();
    data.findings.forEach((f) => {
      const row = document.createElement("tr");
      row.dataset.kind = f.kind;
      [f.line, words["kind_" + f.kind] || f.kind, f.resident_id, f.name, f.detail].forEach((t) => cell(row, t));
      rows.appendChild(row);
    });
    document.getElementById("allowance-summary").textContent =
      `${words.rows}: ${data.rows} · ${words.findings}: ${data.findings.length}`;
    document.getElementById("allowance-result").hidden = false;
  });
})();
