/* The roster's forms: a caregiver or a provider sent to the JSON API with everything matching needs, then
   what the new caregiver will be offered, or why not. */
"use strict";
(function () {
  const { api, toast } = window.Eldercare;
  const holder = document.getElementById("page-data");
  const words = holder ? JSON.parse(holder.textContent).words : {};

  function checked(form, name) {
    return Array.from(form.querySelectorAll(`input[name="${name}"]:checked`)).map((box) => box.value);
  }

  function caregiverBody(form) {
    const shifts = [];
    const slots = Number(form.querySelector("fieldset[data-slots]").dataset.slots);
    for (let day = 1; day <= 7; day++) {
      for (let n = 0; n < slots; n++) {
        const starts = form[`starts_${day}_${n}`].value, ends = form[`ends_${day}_${n}`].value;
        if (starts && ends) shifts.push({ weekday: day, starts, ends });
      }
    }
    const absences = [];
    const rows = Number(form.querySelector("fieldset[data-rows]").dataset.rows);
    for (let n = 0; n < rows; n++) {
      const kind = form[`absence_kind_${n}`].value;
      if (kind) absences.push({ kind, first_day: form[`absence_first_${n}`].value, last_day: form[`absence_last_${n}`].value });
    }
    const body = {
      provider_id: Number(form.provider_id.value), code: form.code.value, name: form.name.value,
      gender: form.gender.value, phone: form.phone.value.replace(/[\s-]/g, ""), language: form.language.value,
      home_lat: Number(form.home_lat.value), home_lon: Number(form.home_lon.value), travel_mode: form.travel_mode.value,
      max_load: Number(form.max_load.value), skills: checked(form, "skills"), shifts, absences,
    };
    if (form.dataset.caregiver) delete body.code;
    if (form.active) body.active = form.active.checked;
    return body;
  }

  function showReadiness(panel, caregiver, ready) {
    panel.hidden = false;
    panel.className = "readiness " + (ready.will_be_offered ? "ok" : "bad");
    panel.replaceChildren();
    const head = document.createElement("p");
    head.textContent = ready.will_be_offered
      ? `${words.will_be_offered}: ${ready.services.join(", ")} · ${ready.communities} ${words.communities}`
      : words.not_offered;
    panel.append(head);
    if (ready.reasons.length) {
      const list = document.createElement("ul");
      for (const reason of ready.reasons) {
        const item = document.createElement("li");
        item.dataset.reason = reason.code;
        item.textContent = reason.detail;
        list.append(item);
      }
      panel.append(list);
    }
    const link = document.createElement("a");
    link.href = `/providers/${caregiver.provider_id}/roster`;
    link.textContent = words.roster;
    panel.append(link);
  }

  const caregiverForm = document.getElementById("caregiver-form");
  if (caregiverForm) caregiverForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const editing = caregiverForm.dataset.caregiver;
      const caregiver = editing
        ? await api("PATCH", `/api/v1/caregivers/${editing}`, caregiverBody(caregiverForm))
        : await api("POST", "/api/v1/caregivers", caregiverBody(caregiverForm));
      const ready = await api("GET", `/api/v1/caregivers/${caregiver.id}/readiness`);
      toast(`${words.saved}: ${caregiver.code}`);
      showReadiness(document.getElementById("readiness"), caregiver, ready);
      caregiverForm.dataset.caregiver = caregiver.id;
      caregiverForm.code.readOnly = true;
    } catch (err) { toast(err.message, true); }
  });

  const providerForm = document.getElementById("provider-form");
  if (providerForm) providerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = providerForm;
    const services = checked(form, "services").map((service) => {
      const price = form[`price_${service}`].value;
      return { service, price_fen: price === "" ? null : Number(price) };
    });
    const communities = form.communities.value.split(/[,，\s]+/).filter(Boolean);
    // both empty: no kitchen; one alone is sent as it is, for the register to refuse with its reason
    const [lat, lon] = [form.kitchen_lat.value, form.kitchen_lon.value];
    const kitchen = lat === "" && lon === "" ? null
      : { lat: lat === "" ? null : Number(lat), lon: lon === "" ? null : Number(lon) };
    const body = {
      code: form.code.value, name: form.name.value, phone: form.phone.value.replace(/[\s-]/g, ""),
      manager_name: form.manager_name.value, manager_phone: form.manager_phone.value.replace(/[\s-]/g, ""),
      capacity: Number(form.capacity.value), services, area: { townships: checked(form, "townships"), communities },
      contract_starts: form.contract_starts.value || null, contract_ends: form.contract_ends.value || null,
      kitchen,
    };
    try {
      const editing = form.dataset.provider;
      if (editing) delete body.code;
      const provider = editing
        ? await api("PATCH", `/api/v1/providers/${editing}`, body)
        : await api("POST", "/api/v1/providers", body);
      location.href = `/providers?provider_id=${provider.id}`;
    } catch (err) { toast(err.message, true); }
  });
})();
