/* Pickers instead of raw ids: an input that searches /api/v1/search and fills a hidden id field; and, on an
   order, the caregivers it may be reassigned to, eligible ones ranked, the others with their reasons. */
"use strict";
(function () {
  const { api, toast } = window.Eldercare;

  function option(text, detail, onPick, enabled) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pick";
    button.textContent = text;
    button.disabled = !enabled;
    button.addEventListener("click", onPick);
    item.append(button);
    if (detail) {
      const note = document.createElement("span");
      note.className = "muted";
      note.textContent = " " + detail;
      item.append(note);
    }
    return item;
  }

  // <div class="picker" data-kind="elder" data-target="elder_id"><input type="search"><ul></ul></div>
  function searchPicker(box) {
    const input = box.querySelector("input[type=search]");
    const list = box.querySelector("ul");
    const target = box.closest("form")[box.dataset.target];
    let timer = null, asked = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      target.value = "";
      timer = setTimeout(async () => {
        const q = input.value.trim();
        const mine = ++asked;
        if (!q) { list.replaceChildren(); return; }
        try {
          const hits = await api("GET", `/api/v1/search?kind=${box.dataset.kind}&q=${encodeURIComponent(q)}`);
          if (mine !== asked) return;
          list.replaceChildren(...hits.map((hit) => option(`${hit.name} ${hit.code}`, `${hit.detail} ${hit.phone || ""}`, () => {
            target.value = hit.id;
            input.value = `${hit.name} ${hit.code}`;
            list.replaceChildren();
          }, hit.active)));
        } catch (err) { toast(err.message, true); }
      }, 200);
    });
  }

  // <div class="candidates" data-order="ID" data-target="caregiver_id"><ul></ul></div>
  async function candidates(box) {
    const list = box.querySelector("ul");
    const target = box.closest("form")[box.dataset.target];
    try {
      const found = await api("GET", `/api/v1/orders/${box.dataset.order}/candidates`);
      list.replaceChildren(...found.map((v) => {
        const label = `${v.eligible ? "#" + v.rank : "✗"} ${v.name} ${v.code} · ${v.distance_km} km`;
        const why = v.eligible ? v.provider_name : v.reasons.map((r) => r.detail).join("; ");
        const item = option(label, why, () => {
          target.value = v.caregiver_id;
          list.querySelectorAll("li.picked").forEach((li) => li.classList.remove("picked"));
          item.classList.add("picked");
        }, v.eligible);
        item.className = v.eligible ? "eligible" : "ineligible";
        item.dataset.caregiver = v.caregiver_id;
        return item;
      }));
    } catch (err) { toast(err.message, true); }
  }

  document.querySelectorAll(".picker[data-kind]").forEach(searchPicker);
  document.querySelectorAll(".candidates[data-order]").forEach(candidates);
})();
