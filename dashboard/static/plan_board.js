/* The plan board: places each planned visit along the caregiver's day from its data-left / data-width (percent
   of the axis, computed on the server; the CSP allows no style attributes), pins a visit to a caregiver and plans
   the day now, through the JSON API. */
"use strict";
(function () {
  const { api, toast } = window.Eldercare;

  document.querySelectorAll(".plan-box, .plan-tick").forEach((el) => {
    el.style.left = `${el.dataset.left}%`;
    if (el.dataset.width !== undefined) el.style.width = `${el.dataset.width}%`;
  });

  document.querySelectorAll("form.pin-form").forEach((form) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.caregiver_id.value;
    const body = { caregiver_id: chosen ? Number(chosen) : null };
    try {
      await api("POST", `/api/v1/plans/${form.dataset.day}/visits/${form.dataset.visit}/pin`, body);
      toast(document.getElementById("plan-board").dataset.pinned);
      form.closest("tr").dataset.pinned = chosen;
    } catch (err) { toast(err.message, true); }
  }));

  const planNow = document.getElementById("plan-now");
  if (planNow) planNow.addEventListener("click", async () => {
    planNow.disabled = true;
    try {
      await api("POST", "/api/v1/plans", { day: planNow.dataset.day });
      location.reload();
    } catch (err) { toast(err.message, true); planNow.disabled = false; }
  });
})();
