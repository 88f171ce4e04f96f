// The customer order form (orders/order_form.html).
(function () {
  "use strict";
  // Show only the chosen customer's vehicles (the server checks it again).
  const customer = document.getElementById("id_customer");
  const vehicle = document.getElementById("id_vehicle");
  function filterVehicles() {
    const chosen = customer.value;
    for (const option of vehicle.options) {
      if (!option.value) continue;
      const match = !chosen || option.dataset.customer === chosen;
      option.hidden = !match;
      option.disabled = !match;
      if (!match && option.selected) vehicle.value = "";
    }
  }
  if (customer && vehicle) {
    customer.addEventListener("change", filterVehicles);
    filterVehicles();
  }
  // More lines on demand.
  const total = document.getElementById("id_lines-TOTAL_FORMS");
  const addLine = document.getElementById("add-line");
  if (total && addLine) {
    addLine.addEventListener("click", function () {
      const html = document.getElementById("empty-line").innerHTML.replace(/__prefix__/g, total.value);
      document.getElementById("line-rows").insertAdjacentHTML("beforeend", html);
      total.value = parseInt(total.value, 10) + 1;
    });
  }
})();
