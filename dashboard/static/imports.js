/* The import page: check a spreadsheet (dry run), show its problems by row and column, then import it. */
"use strict";
(function () {
  const { toast } = window.Eldercare;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.body.dataset.lang;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? 0));
  }

  function rows(table, lines) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const cells of lines) {
      const tr = document.createElement("tr");
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.hidden = lines.length === 0;
  }

  function show(report) {
    const section = document.getElementById("import-report");
    const words = section.dataset;
    const values = { rows: report.rows, problems: report.problems.length, ...report.counts };
    const template = report.problems.length ? words.refused : report.committed ? words.committed : words.checked;
    document.getElementById("import-summary").textContent = fill(template, values);
    rows(document.getElementById("import-problems"),
      report.problems.map((p) => [p.row === null ? "–" : String(p.row), p.header, p.message]));
    const credentials = document.getElementById("import-credentials");
    rows(credentials.querySelector("table"), report.credentials.map((c) => [c.username, c.secret]));
    credentials.hidden = report.credentials.length === 0;
    section.hidden = false;
  }

  async function send(form, commit) {
    const data = new FormData();
    data.append("file", form.elements.file.files[0]);
    const url = `/api/v1/imports/${form.elements.kind.value}?dry_run=${commit ? "false" : "true"}&language=${lang}`;
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", body: data,
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(typeof answer.detail === "string" ? answer.detail : response.statusText);
    return answer;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("import-form");
    const commit = form.querySelector('[data-mode="commit"]');
    form.addEventListener("change", () => { commit.disabled = true; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const committing = event.submitter && event.submitter.dataset.mode === "commit";
      if (!form.reportValidity()) return;
      try {
        const report = await send(form, committing);
        show(report);
        commit.disabled = committing || report.problems.length > 0;
      } catch (err) {
        toast(err.message, true);
      }
    });
  });
})();
