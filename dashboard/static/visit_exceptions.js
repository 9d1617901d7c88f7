/* Verified visits in the UI, through the JSON API: confirm or reject a visit exception with a reason; issue a
   new visit card code on an elder's page; confirm and approve a provider's monthly settlement; edit the
   entitlement table. */
"use strict";
(function () {
  const { api, toast } = window.Eldercare;

  document.querySelectorAll("form.resolve-form").forEach((form) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { resolution: event.submitter ? event.submitter.value : "confirmed", reason: form.reason.value };
    try {
      await api("POST", `/api/v1/visit-exceptions/${form.dataset.exception}/resolve`, body);
      location.reload();
    } catch (err) { toast(err.message, true); }
  }));

  document.querySelectorAll("form.card-code-form").forEach((form) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const card = await api("POST", `/api/v1/elders/${form.dataset.elder}/card-code`);
      document.getElementById("card-code").textContent = card.code;
    } catch (err) { toast(err.message, true); }
  }));

  const settled = document.getElementById("settlement");
  document.querySelectorAll("button.settlement-step").forEach((button) => button.addEventListener("click", async () => {
    try {
      await api("POST", `/api/v1/settlements/${settled.dataset.provider}/${settled.dataset.month}/${button.dataset.step}`);
      location.reload();
    } catch (err) { toast(err.message, true); }
  }));

  document.querySelectorAll("form.entitlement-form").forEach((form) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      category: form.category.value, min_ability_level: Number(form.min_ability_level.value),
      service_type: form.service_type.value, unit: form.unit.value, monthly_amount: Number(form.monthly_amount.value),
      subsidy_share: Number(form.subsidy_share.value), note: form.note.value,
    };
    const id = form.dataset.entitlement;
    try {
      await api(id ? "PUT" : "POST", id ? `/api/v1/entitlements/${id}` : "/api/v1/entitlements", body);
      location.reload();
    } catch (err) { toast(err.message, true); }
  }));
})();
