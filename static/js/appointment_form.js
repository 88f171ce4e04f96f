// The appointment form (service/appointment_form.html): the vehicle check (R15) as the VIN is typed.
(function () {
  "use strict";
  const input = document.getElementById("id_vin");
  const box = document.getElementById("vin-check");
  if (!input || !box) return;
  const url = box.dataset.url;
  function check() {
    const vin = input.value.trim();
    if (vin.length < 17) return;
    fetch(url + "?vin=" + encodeURIComponent(vin), {credentials: "same-origin"})
      .then(r => r.text()).then(html => { box.innerHTML = html; });
  }
  input.addEventListener("change", check);
  input.addEventListener("input", check);
  check();
})();
