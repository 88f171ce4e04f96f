// Issue 15 item 7: keyboard-wedge barcode scanning on the receiving, issuing and counting pages.
//
// A scanner "types" the code and presses Enter. In the scan field ([data-scan-input] inside [data-scan-box]) the code
// is looked up among the quantity inputs of the box's scope (data-scan-scope, a CSS selector of the form), which
// carry data-scan-part (the part number) and data-scan-barcode; one is added to the first matching line that is not
// complete yet (its max). A code not on the page is resolved through GET /parts/lookup/?code= (a barcode of a part
// whose line is there, or, on a single-part form, the part to enter). Unknown codes show an error and beep.
//
// Enter never submits a scanning form: neither in the scan field nor in any other field of a guarded form
// ([data-enter-guard], and every form a scan box works on); only its explicit submit buttons do.
(function () {
  "use strict";

  function compact(text) {
    return (text || "").replace(/\s+/g, "");
  }

  function format(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (_all, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function number(input) {
    const value = parseFloat((input.value || "").replace(",", "."));
    return isNaN(value) ? 0 : value;
  }

  function beep() {
    try {
      const AudioContext = window.AudioContext || window.webkitAudioContext;
      if (!AudioContext) return;
      const context = new AudioContext();
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = 220;
      gain.gain.value = 0.2;
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.35);
    } catch (error) {
      // no sound on this device: the message is still shown
    }
  }

  function guardEnter(form) {
    if (!form || form.dataset.enterGuarded) return;
    form.dataset.enterGuarded = "1";
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      const target = event.target;
      if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON") return;
      if (target.tagName === "INPUT" && (target.type === "submit" || target.type === "button")) return;
      event.preventDefault();
    });
  }

  function setupBox(box) {
    const input = box.querySelector("[data-scan-input]");
    const status = box.querySelector("[data-scan-status]");
    const scope = document.querySelector(box.dataset.scanScope) || document;
    if (scope.tagName === "FORM") guardEnter(scope);
    guardEnter(input.form);
    let cleared = false;

    function show(text, ok) {
      status.textContent = text;
      status.className = "mt-2 small scan-status fw-semibold " + (ok ? "text-success" : "text-danger");
      status.dataset.state = ok ? "ok" : "error";
      if (!ok) beep();
    }

    function targets() {
      return Array.prototype.slice.call(scope.querySelectorAll("input[data-scan-part]"));
    }

    function matching(code, part) {
      const upper = compact(code).toUpperCase();
      return targets().filter(function (target) {
        const barcode = compact(target.dataset.scanBarcode);
        return (
          compact(target.dataset.scanPart).toUpperCase() === upper ||
          (barcode && barcode === compact(code)) ||
          (part && compact(target.dataset.scanPart).toUpperCase() === part.number)
        );
      });
    }

    function clearPrefilled() {
      if (cleared || !box.dataset.scanReset) return false;
      cleared = true;
      targets().forEach(function (target) {
        target.value = "0";
      });
      return true;
    }

    function addOne(found, label) {
      const reset = clearPrefilled();
      const target = found.filter(function (candidate) {
        return !candidate.max || number(candidate) + 1 <= parseFloat(candidate.max);
      })[0];
      if (!target) {
        show(format(box.dataset.msgFull, { part: label }), false);
        return;
      }
      target.value = String(number(target) + 1);
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.dispatchEvent(new Event("change", { bubbles: true }));
      const row = target.closest("tr, .count-line, .mb-3") || target;
      row.classList.remove("scan-hit");
      void row.offsetWidth; // restart the highlight
      row.classList.add("scan-hit");
      const prefix = reset ? box.dataset.msgReset + " " : "";
      show(prefix + format(box.dataset.msgAdded, { part: label, quantity: target.value }), true);
    }

    function enterSingle(part) {
      // A single-part form (stock receipt or issue): the scan fills the part and counts the quantity.
      const names = box.dataset.scanSingle.split(",");
      const partField = scope.querySelector('[name="' + names[0] + '"]');
      const quantity = scope.querySelector('[name="' + names[1] + '"]');
      const current = compact(partField.value).toUpperCase();
      if (current && current !== part.number && compact(partField.value) !== part.barcode) {
        show(format(box.dataset.msgOther, { part: current }), false);
        return;
      }
      partField.value = part.number;
      quantity.value = String((current ? number(quantity) : 0) + 1);
      show(format(box.dataset.msgAdded, { part: part.number + " " + part.name, quantity: quantity.value }), true);
    }

    function lookup(code) {
      const url = box.dataset.lookupUrl + "?code=" + encodeURIComponent(code);
      return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : null;
      });
    }

    function scan(code) {
      const local = matching(code, null);
      if (local.length && !box.dataset.scanSingle) {
        addOne(local, local[0].dataset.scanPart);
        return;
      }
      lookup(code)
        .then(function (part) {
          if (!part) {
            show(format(box.dataset.msgUnknown, { code: code }), false);
            return;
          }
          if (box.dataset.scanSingle) {
            enterSingle(part);
            return;
          }
          const found = matching(code, part);
          if (found.length) addOne(found, part.number);
          else show(format(box.dataset.msgAbsent, { part: part.number + " " + part.name }), false);
        })
        .catch(function () {
          show(format(box.dataset.msgUnknown, { code: code }), false);
        });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      event.stopPropagation();
      const code = input.value.trim();
      input.value = "";
      if (code) scan(code);
    });
  }

  document.querySelectorAll("form[data-enter-guard]").forEach(guardEnter);
  document.querySelectorAll("[data-scan-box]").forEach(setupBox);
})();
