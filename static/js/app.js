// Behaviour shared by every page (issue 12, item 8: no inline scripts or on*= handlers under the CSP).
// <select data-autosubmit> submits its form when changed (dealership and language switchers, list filters);
// <form data-confirm="question"> asks before it is submitted.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
