// Search-as-you-type pickers (issue 14 item 4): every <select data-picker="search"> rendered by
// dms.core.widgets.SearchSelect becomes a Tom Select searched on the server (data-url?q=…). No inline script (CSP):
// everything comes from data-* attributes.
//   data-depends-on="customer:customer"  → adds ?customer=<value of the form's "customer" field>, and empties this
//                                           picker when that field changes (a vehicle of another customer goes).
//   data-params="role=parts_manager"     → fixed query parameters.
// Keyboard: type, ↑/↓, Enter picks (and never submits the form from a picker); Tab moves on to the next field.
(function () {
  "use strict";
  if (typeof TomSelect === "undefined") return;

  // The same field of the same (formset) form: "lines-0-part" → "lines-0-" + name.
  function sibling(select, name) {
    const prefix = select.name.slice(0, select.name.lastIndexOf("-") + 1);
    const form = select.form;
    if (!form) return null;
    return form.elements.namedItem(prefix + name) || form.elements.namedItem(name);
  }

  function dependencies(select) {
    const spec = select.dataset.dependsOn || "";
    return spec.split(",").filter(Boolean).map(function (pair) {
      const parts = pair.split(":");
      return {param: parts[0], field: sibling(select, parts[1] || parts[0])};
    }).filter(function (dep) { return dep.field; });
  }

  function queryUrl(select, query) {
    const params = new URLSearchParams(select.dataset.params || "");
    params.set("q", query);
    for (const dep of dependencies(select)) {
      if (dep.field.value) params.set(dep.param, dep.field.value);
    }
    return select.dataset.url + "?" + params.toString();
  }

  // An answer that arrives after the user has moved on (picked, then tabbed or clicked into the next field) must
  // not open the list again over the fields below it.
  function closeUnlessFocused(ts) {
    if (!ts.isFocused) ts.close();
  }

  // The server's answer for the text typed has come: an Enter pressed while it was on its way picks now.
  function answered(ts, search, query) {
    if (search.waitingFor !== query) return;
    search.waitingFor = null;
    if (!search.enterPending) return;
    search.enterPending = false;
    const option = ts.activeOption || ts.selectable()[0];
    if (option) {
      ts.addItem(option.dataset.value);
      ts.close();
    }
  }

  function init(select) {
    if (select.tomselect || select.name.indexOf("__prefix__") !== -1) return;
    const search = {waitingFor: null, enterPending: false};
    const ts = new TomSelect(select, {
      valueField: select.dataset.valueField || "id",
      labelField: "text",
      searchField: [],
      // The server has searched already (a phone typed "8 916…" finds "+7 916…"): keep its order, drop nothing.
      score: function () { return function () { return 1; }; },
      maxOptions: 50,
      preload: "focus",
      loadThrottle: 250,
      selectOnTab: false,  // Tab always moves on to the next field; Enter (or a click) picks
      openOnFocus: true,
      // The empty <option> is no item: the placeholder shows; an optional field gets a × to clear it.
      plugins: select.required ? {} : {clear_button: {title: select.dataset.clear || ""}},
      placeholder: select.dataset.placeholder || "",
      shouldLoad: function () { return true; },
      load: function (query, callback) {
        const self = this;
        fetch(queryUrl(select, query), {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {results: []}; })
          .then(function (data) {
            // An answer to an older query (the preload on focus, a slower request) must not replace a newer one.
            if (query !== self.inputValue()) { callback(); return; }
            self.clearOptions();
            callback(data.results || []);
            closeUnlessFocused(self);
            answered(self, search, query);
          })
          .catch(function () {
            callback();
            closeUnlessFocused(self);
            if (search.waitingFor === query) search.waitingFor = null;
          });
      },
      render: {
        option: function (item, escape) {
          const detail = item.detail ? '<div class="small text-secondary">' + escape(item.detail) + "</div>" : "";
          return "<div><div>" + escape(item.text) + "</div>" + detail + "</div>";
        },
        item: function (item, escape) { return "<div>" + escape(item.text) + "</div>"; },
        no_results: function () {
          if (search.waitingFor !== null) {  // the list was emptied for a new text whose answer is on its way
            return '<div class="loading small text-secondary px-2">' + (select.dataset.loading || "") + "</div>";
          }
          return '<div class="no-results">' + (select.dataset.noResults || "") + "</div>";
        },
        loading: function () {
          return '<div class="loading small text-secondary px-2">' + (select.dataset.loading || "") + "</div>";
        },
      },
    });
    // The server searches, so options listed for an earlier text (the preload on focus) do not match what is typed
    // now: they go at the first keystroke, and an Enter pressed before the server has answered the text typed waits
    // for that answer and takes its first option — never a leftover of an earlier list.
    ts.control_input.addEventListener("input", function () {
      search.waitingFor = ts.inputValue();
      search.enterPending = false;
      ts.clearOptions();
    });
    ts.control_input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter picks (Tom Select) and never submits the form from inside a picker
      if (search.waitingFor !== null && search.waitingFor === ts.inputValue()) {
        event.stopImmediatePropagation();  // capture phase: before Tom Select picks from the old list
        search.enterPending = true;
      }
    }, true);
    for (const dep of dependencies(select)) {
      dep.field.addEventListener("change", function () {
        ts.clear(true);
        ts.clearOptions();
        ts.wrapper.classList.remove("preloaded");  // load the narrowed list on the next focus
        select.dispatchEvent(new Event("change", {bubbles: true}));
      });
    }
  }

  function initAll(root) {
    root.querySelectorAll('select[data-picker="search"]').forEach(init);
  }

  initAll(document);
  // Formset rows added on the page (order, sales, requisition lines) get their pickers too.
  new MutationObserver(function (mutations) {
    for (const mutation of mutations) {
      mutation.addedNodes.forEach(function (node) {
        if (node.nodeType === 1) {
          if (node.matches('select[data-picker="search"]')) init(node);
          else initAll(node);
        }
      });
    }
  }).observe(document.body, {childList: true, subtree: true});
})();
