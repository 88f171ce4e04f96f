// Issue 17 item 4: the public booking page. Without JavaScript the day is chosen by the "Show times" button (a GET);
// with it, changing the day reloads only the list of times from the public API and keeps what was typed.
(function () {
  "use strict";
  var form = document.getElementById("booking-form");
  var dayInput = document.getElementById("booking-date");
  var list = document.getElementById("booking-slots");
  if (!form || !dayInput || !list) return;
  var button = document.getElementById("booking-show-times");
  if (button) button.hidden = true;

  function render(slots) {
    list.textContent = "";
    if (!slots.length) {
      var p = document.createElement("p");
      p.className = "text-secondary small mb-0";
      p.textContent = list.dataset.empty;
      list.appendChild(p);
      return;
    }
    slots.forEach(function (slot, index) {
      var input = document.createElement("input");
      input.className = "btn-check";
      input.type = "radio";
      input.name = "slot";
      input.id = "slot-" + (index + 1);
      input.value = slot.value;
      var label = document.createElement("label");
      label.className = "btn btn-outline-primary btn-sm";
      label.htmlFor = input.id;
      label.textContent = slot.time;
      list.appendChild(input);
      list.appendChild(label);
    });
  }

  dayInput.addEventListener("change", function () {
    var day = dayInput.value;
    if (!day) return;
    document.getElementById("booking-form-date").value = day;
    var label = document.getElementById("booking-day-label");
    if (label) label.textContent = day.split("-").reverse().join(".");
    fetch(form.dataset.slotsUrl + "?date=" + encodeURIComponent(day), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) { render(data.slots || []); })
      .catch(function () {
        // The API refused (throttled, a bad date): the plain form still works.
        document.getElementById("booking-day").submit();
      });
  });
})();
