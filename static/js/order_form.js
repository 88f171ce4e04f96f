// The customer order form (orders/order_form.html).
(function () {
  "use strict";
  // The vehicle picker lists only the chosen customer's vehicles (pickers.js; the server checks it again).
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
