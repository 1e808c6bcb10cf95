// The case diagram: bpmn-js (NavigatedViewer) with the case's state drawn on it.
//
// The page provides
//   <div id="diagram" data-xml-url="..." data-state-url="..."></div>
// and, on the auditor's history page, optionally
//   <input type="range" id="history-step" data-state-url-template=".../diagram-state.json?step={step}">
// Both URLs are same-origin and answered with the session cookie. The state is
//   {"completed": [element ids], "active": [...], "overdue": [...]}
// Each listed element gets the CSS class diagram-<state> (canvas.addMarker) and a badge overlay;
// a legend follows the diagram. Optional attributes on the div: data-label-completed,
// data-label-active, data-label-overdue, data-label-error (legend and error texts; Russian or
// English defaults follow <html lang>).
//
// For tests and other scripts: window.caseDiagram = {ready, markers, state, step, setStep(n), refresh()}
// and, on the div, data-rendered="true" (or "error") and data-rendered-step="N" once step N is drawn.

import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const STATES = ["completed", "active", "overdue"];
const BADGES = { completed: "\u2713", active: "\u25CF", overdue: "!" };
const LABELS = {
  ru: {
    completed: "Выполнено",
    active: "В работе",
    overdue: "Просрочено",
    error: "Не удалось показать схему процесса.",
    legend: "Обозначения",
  },
  en: {
    completed: "Completed",
    active: "In progress",
    overdue: "Overdue",
    error: "The process diagram could not be shown.",
    legend: "Legend",
  },
};
const OVERLAY_TYPE = "case-state";
const NO_BADGE = new Set(["bpmn:Participant", "bpmn:Lane", "bpmn:Process", "bpmn:Collaboration", "label"]);
const STYLESHEETS = ["diagram-js.css", "bpmn-js.css", "case-diagram.css"];

// Where this bundle was loaded from: the stylesheets lie beside it.
const SCRIPT_SRC = document.currentScript ? document.currentScript.src : "";

function ensureStylesheets() {
  if (!SCRIPT_SRC) return;
  for (const name of STYLESHEETS) {
    const href = new URL(name, SCRIPT_SRC).href;
    const present = Array.from(document.querySelectorAll('link[rel="stylesheet"]')).some(
      (link) => link.href === href || (link.getAttribute("href") || "").endsWith("/" + name),
    );
    if (!present) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.appendChild(link);
    }
  }
}

function labels(container) {
  const lang = (document.documentElement.lang || "ru").slice(0, 2).toLowerCase();
  const base = LABELS[lang] || LABELS.en;
  const out = {};
  for (const key of Object.keys(base)) {
    out[key] = container.dataset["label" + key.charAt(0).toUpperCase() + key.slice(1)] || base[key];
  }
  return out;
}

async function fetchOk(url, accept) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: accept },
    cache: "no-store",
  });
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  return response;
}

function normaliseState(raw) {
  const state = {};
  for (const name of STATES) {
    const ids = raw && Array.isArray(raw[name]) ? raw[name] : [];
    state[name] = ids.filter((id) => typeof id === "string");
  }
  return state;
}

function buildLegend(container, text) {
  const existing = document.getElementById("diagram-legend");
  if (existing) return existing;
  const legend = document.createElement("ul");
  legend.id = "diagram-legend";
  legend.className = "diagram-legend";
  legend.setAttribute("aria-label", text.legend);
  for (const name of STATES) {
    const item = document.createElement("li");
    item.className = `diagram-legend-item diagram-legend-${name}`;
    const swatch = document.createElement("span");
    swatch.className = `diagram-badge diagram-badge-${name}`;
    swatch.setAttribute("aria-hidden", "true");
    swatch.textContent = BADGES[name];
    const label = document.createElement("span");
    label.textContent = text[name];
    item.append(swatch, label);
    legend.appendChild(item);
  }
  container.insertAdjacentElement("afterend", legend);
  return legend;
}

function createController(container) {
  const text = labels(container);
  const api = {
    ready: null,
    markers: { completed: [], active: [], overdue: [] },
    missing: { completed: [], active: [], overdue: [] },
    state: null,
    step: null,
    error: null,
    viewer: null,
    setStep: null,
    refresh: null,
  };
  window.caseDiagram = api;

  const viewer = new NavigatedViewer({ container });
  api.viewer = viewer;
  const canvas = viewer.get("canvas");
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");

  function clearMarkers() {
    for (const name of STATES) {
      for (const id of api.markers[name]) {
        canvas.removeMarker(id, `diagram-${name}`);
      }
    }
    overlays.remove({ type: OVERLAY_TYPE });
  }

  function applyState(raw) {
    const state = normaliseState(raw);
    clearMarkers();
    const markers = { completed: [], active: [], overdue: [] };
    const missing = { completed: [], active: [], overdue: [] };
    for (const name of STATES) {
      for (const id of state[name]) {
        const element = registry.get(id);
        if (!element) {
          missing[name].push(id);
          continue;
        }
        canvas.addMarker(id, `diagram-${name}`);
        markers[name].push(id);
        if (!element.waypoints && !NO_BADGE.has(element.type)) {
          overlays.add(id, OVERLAY_TYPE, {
            position: { top: -10, right: 10 },
            html: `<span class="diagram-badge diagram-badge-${name}" title="${text[name]}">${BADGES[name]}</span>`,
          });
        }
      }
    }
    api.markers = markers;
    api.missing = missing;
    api.state = state;
  }

  async function loadState(url) {
    const response = await fetchOk(url, "application/json");
    return response.json();
  }

  // The slider: each input fetches that step's state; a late answer to an older step is dropped.
  let generation = 0;
  async function showStep(step, template) {
    const mine = ++generation;
    const url = template.replace("{step}", encodeURIComponent(String(step)));
    const raw = await loadState(url);
    if (mine !== generation) return false;
    applyState(raw);
    api.step = Number(step);
    container.dataset.renderedStep = String(step);
    container.dispatchEvent(new CustomEvent("diagram:step", { detail: { step: api.step, state: api.state } }));
    return true;
  }

  function showError(error) {
    api.error = String(error && error.message ? error.message : error);
    container.dataset.rendered = "error";
    const note = document.createElement("p");
    note.className = "diagram-error";
    note.setAttribute("role", "alert");
    note.textContent = text.error;
    container.insertAdjacentElement("beforebegin", note);
  }

  api.ready = (async () => {
    const [xml, state] = await Promise.all([
      fetchOk(container.dataset.xmlUrl, "application/xml, text/xml").then((r) => r.text()),
      container.dataset.stateUrl ? loadState(container.dataset.stateUrl) : Promise.resolve({}),
    ]);
    await viewer.importXML(xml);
    canvas.zoom("fit-viewport", "auto");
    applyState(state);
    buildLegend(container, text);

    const slider = document.getElementById("history-step");
    if (slider && slider.dataset.stateUrlTemplate) {
      const template = slider.dataset.stateUrlTemplate;
      let timer = null;
      const onInput = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          showStep(slider.value, template).catch((error) => {
            api.error = String(error);
            container.dataset.renderedStep = "error";
          });
        }, 60);
      };
      slider.addEventListener("input", onInput);
      slider.addEventListener("change", onInput);
      api.setStep = async (step) => {
        slider.value = String(step);
        await showStep(slider.value, template);
        return api.markers;
      };
      // The page may open on a step other than the last: draw that one.
      if (slider.value && !container.dataset.stateUrl) {
        await showStep(slider.value, template);
      } else {
        api.step = Number(slider.value);
        container.dataset.renderedStep = String(slider.value);
      }
    }
    api.refresh = async () => {
      if (slider && slider.dataset.stateUrlTemplate) {
        await showStep(slider.value, slider.dataset.stateUrlTemplate);
      } else if (container.dataset.stateUrl) {
        applyState(await loadState(container.dataset.stateUrl));
      }
      return api.markers;
    };
    container.dataset.rendered = "true";
    container.dispatchEvent(new CustomEvent("diagram:ready", { detail: { markers: api.markers } }));
    return api;
  })();
  api.ready.catch(showError);
  return api;
}

function start() {
  const container = document.getElementById("diagram");
  if (!container || !container.dataset.xmlUrl) return;
  ensureStylesheets();
  createController(container);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
