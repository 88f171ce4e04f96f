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

// Issue 14 item 4: the hand-over time proposes the advisor's first free slot after the reception and follows a
// changed arrival (advisor, date, time, duration); the advisor may still change it by hand afterwards.
(function () {
  "use strict";
  const form = document.getElementById("appointment-form");
  if (!form || !form.dataset.handoverUrl) return;
  const field = function (name) { return form.elements.namedItem(name); };
  const handoverDate = field("handover_date");
  const handoverTime = field("handover_time");
  if (!handoverDate || !handoverTime) return;
  let asked = 0;
  function propose() {
    const params = new URLSearchParams();
    for (const name of ["advisor", "date", "time", "duration_minutes"]) {
      const input = field(name);
      if (!input || !input.value) return;
      params.set(name === "duration_minutes" ? "duration" : name, input.value);
    }
    const ticket = ++asked;
    fetch(form.dataset.handoverUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (slot) {
        if (ticket !== asked || !slot || !slot.date) return;  // a later change asked again, or no free slot
        handoverDate.value = slot.date;
        handoverTime.value = slot.time;
        handoverTime.dispatchEvent(new Event("change", {bubbles: true}));
      })
      .catch(function () {});
  }
  for (const name of ["advisor", "date", "time", "duration_minutes"]) {
    const input = field(name);
    if (input) input.addEventListener("change", propose);
  }
  if (form.hasAttribute("data-propose-handover")) propose();
})();
