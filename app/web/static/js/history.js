// The history page's step slider without a page load: the event rows after the chosen step are
// dimmed, the "after this step" lists are refilled from /cases/{id}/diagram-state.json?step=N
// (the same document the diagram script reads) and the address keeps ?step=N for a reload.
// Without JavaScript the slider's form does the same with a page load.
(function () {
  "use strict";
  var slider = document.getElementById("history-step");
  if (!slider) return;
  var output = document.getElementById("step-output");
  var template = slider.getAttribute("data-state-url-template");
  var label = slider.getAttribute("data-step-label") || "{n} / {m}";
  var names = {};
  try {
    names = JSON.parse(document.getElementById("element-names").textContent || "{}");
  } catch (e) {
    names = {};
  }
  var rows = document.querySelectorAll("tr[data-step]");
  var generation = 0;

  function fill(listId, ids) {
    var list = document.getElementById(listId);
    if (!list) return;
    list.textContent = "";
    if (!ids.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "\u2014";
      list.appendChild(none);
      return;
    }
    ids.forEach(function (id) {
      var item = document.createElement("li");
      item.setAttribute("data-element", id);
      item.textContent = names[id] || id;
      list.appendChild(item);
    });
  }

  function show(step) {
    var n = Number(step);
    output.textContent = label.replace("{n}", String(n)).replace("{m}", slider.max);
    rows.forEach(function (row) {
      var at = Number(row.getAttribute("data-step"));
      row.classList.toggle("future", at > n);
      row.classList.toggle("current", at === n);
    });
    if (window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("step", String(n));
      window.history.replaceState(null, "", url.toString());
    }
    if (!template || !window.fetch) return;
    var mine = ++generation;
    fetch(template.replace("{step}", encodeURIComponent(String(n))), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (state) {
        if (mine !== generation) return;
        fill("state-active", state.active || []);
        fill("state-overdue", state.overdue || []);
        fill("state-completed", state.completed || []);
        document.querySelector("[data-testid=step-state]").setAttribute("data-step", String(n));
      })
      .catch(function () { /* the lists keep the last state; the form still works */ });
  }

  slider.addEventListener("input", function () { show(slider.value); });
  slider.addEventListener("change", function () { show(slider.value); });
})();
