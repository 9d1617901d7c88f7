/* The devices page: enrol a device (its credentials are shown once), bind, unbind, replace, rotate, revoke. */
"use strict";
(function () {
  const { api, toast } = window.Eldercare;

  function showCredential(username, secret) {
    document.getElementById("credential-username").textContent = username;
    document.getElementById("credential-secret").textContent = secret;
    document.getElementById("credentials").hidden = false;
  }

  function value(form, name) {
    const text = form.elements[name].value.trim();
    return text === "" ? null : text;
  }

  async function enrol(event) {
    event.preventDefault();
    const form = event.target;
    const elder = value(form, "elder_id");
    try {
      const answer = await api("POST", "/api/v1/devices", {
        type: value(form, "type"), serial: value(form, "serial"), device_id: value(form, "device_id"),
        elder_id: elder === null ? null : Number(elder),
      });
      showCredential(answer.credential.username, answer.credential.secret);
      form.reset();
    } catch (err) {
      toast(err.message, true);
    }
  }

  async function act(button) {
    const form = document.getElementById("manage-form");
    const device = value(form, "device_id");
    if (!form.reportValidity() || device === null) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const base = "/api/v1/devices/" + encodeURIComponent(device);
    const action = button.dataset.deviceAction;
    try {
      if (action === "bind") await api("POST", base + "/bind", { elder_id: Number(value(form, "elder_id")) });
      else if (action === "unbind") await api("POST", base + "/unbind");
      else if (action === "replace") await api("POST", base + "/replace", { new_device_id: value(form, "new_device_id") });
      else if (action === "revoke") await api("POST", base + "/credential/revoke");
      else if (action === "rotate") {
        const credential = await api("POST", base + "/credential/rotate");
        showCredential(credential.username, credential.secret);
      }
      toast(button.textContent + ": " + device);
    } catch (err) {
      toast(err.message, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("enrol-form").addEventListener("submit", enrol);
    document.querySelectorAll("[data-device-action]").forEach((button) => {
      button.addEventListener("click", () => act(button));
    });
  });
})();
