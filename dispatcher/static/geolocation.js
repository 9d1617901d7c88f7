// The caregiver's page: arriving and finishing send the phone's location, asked for with the browser's own
// prompt. A refusal or a failure still sends the form (with the reason), since no location is an exception
// for the platform to check, never a refusal.
(function () {
  "use strict";
  var note = document.getElementById("locating");
  function send(form, fields) {
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) { input.value = fields[name]; }
    });
    form.submit();
  }
  document.querySelectorAll("form[data-locate]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.querySelector("button").disabled = true;
      if (note) { note.hidden = false; }
      if (!navigator.geolocation) {
        send(form, { geo_error: "geolocation unsupported" });
        return;
      }
      navigator.geolocation.getCurrentPosition(
        function (position) {
          send(form, {
            lat: String(position.coords.latitude),
            lon: String(position.coords.longitude),
            accuracy: String(position.coords.accuracy),
          });
        },
        function (error) {
          send(form, { geo_error: "geolocation error " + error.code + ": " + error.message });
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
      );
    });
  });
})();
