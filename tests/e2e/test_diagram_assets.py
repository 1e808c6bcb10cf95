"""The built case-diagram bundle on its own: a static page in Chromium, no application server.

Proves the contract the pages rely on (docs/web.md): the div's data attributes, the state JSON, the
markers and badges on the right BPMN element ids, the legend, the history slider, the error note,
and that nothing is fetched from anywhere but the page's own origin.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from tests.e2e.conftest import ASSETS, VIEWPORT

STATE = {
    "completed": [
        "start_communication_registered",
        "forward_communication",
        "flow_start_communication_registered_to_forward_communication",
    ],
    "active": ["hold_meeting", "ombudsman_acknowledge_communication"],
    "overdue": ["draft_reply", "no_such_element"],
}
STEPS = [
    {"completed": [], "active": ["start_communication_registered"], "overdue": []},
    {"completed": ["start_communication_registered"], "active": ["forward_communication"], "overdue": []},
    {"completed": ["start_communication_registered", "forward_communication"], "active": [], "overdue": []},
]


def _page(lang: str, *, state_url: str = "/state.json", slider: bool = True) -> str:
    slider_html = (
        '<label for="history-step">Step</label>'
        f'<input type="range" id="history-step" min="0" max="{len(STEPS) - 1}" value="{len(STEPS) - 1}"'
        ' data-state-url-template="/state/{step}.json">'
        if slider
        else ""
    )
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>diagram</title></head>
<body>
<div id="diagram" data-xml-url="/diagram.xml" data-state-url="{state_url}"></div>
{slider_html}
<script src="/static/build/case-diagram.js"></script>
</body></html>"""


@pytest.fixture(scope="module")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(ASSETS.parent, root / "static" / "build")
    shutil.copyfile(PROJECT_ROOT / "bpmn" / "communication.bpmn", root / "diagram.xml")
    (root / "state.json").write_text(json.dumps(STATE))
    (root / "state").mkdir()
    for i, step in enumerate(STEPS):
        (root / "state" / f"{i}.json").write_text(json.dumps(step))
    (root / "en.html").write_text(_page("en"))
    (root / "ru.html").write_text(_page("ru", slider=False))
    (root / "broken.html").write_text(_page("en", state_url="/missing.json", slider=False))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors


def _classes(page: Any, element_id: str) -> list[str]:
    return (page.locator(f'g.djs-element[data-element-id="{element_id}"]').get_attribute("class") or "").split()


def test_markers_badges_and_legend_on_the_right_elements(page: Any, static_site: str) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{static_site}/en.html")
    page.wait_for_selector('#diagram[data-rendered="true"]')

    markers = page.evaluate("window.caseDiagram.ready.then(api => api.markers)")
    assert markers == {
        "completed": STATE["completed"],
        "active": STATE["active"],
        "overdue": ["draft_reply"],
    }
    assert page.evaluate("window.caseDiagram.missing.overdue") == ["no_such_element"]
    assert "diagram-completed" in _classes(page, "forward_communication")
    assert "diagram-completed" in _classes(page, "flow_start_communication_registered_to_forward_communication")
    assert "diagram-active" in _classes(page, "hold_meeting")
    assert "diagram-overdue" in _classes(page, "draft_reply")
    assert not {"diagram-completed", "diagram-active", "diagram-overdue"} & set(_classes(page, "send_reply"))
    # A badge on each marked shape (not on the sequence flow), and the legend after the diagram.
    assert page.locator(".djs-overlay .diagram-badge-completed").count() == 2
    assert page.locator(".djs-overlay .diagram-badge-active").count() == 2
    assert page.locator(".djs-overlay .diagram-badge-overdue").count() == 1
    assert page.locator("#diagram-legend li").all_inner_texts() == ["✓\nCompleted", "●\nIn progress", "!\nOverdue"]
    # The markers are styled: the completed task's shape is filled green by case-diagram.css.
    fill = page.evaluate(
        """getComputedStyle(document.querySelector(
            'g.djs-element[data-element-id="forward_communication"] .djs-visual > :first-child')).fill"""
    )
    assert fill == "rgb(227, 244, 230)"
    # Only the page's own origin was asked for anything; the stylesheets were added beside the bundle.
    assert requests and all(url.startswith(static_site) for url in requests), requests
    hrefs = page.evaluate("Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => l.href)")
    assert [h.rsplit("/", 1)[1] for h in hrefs] == ["diagram-js.css", "bpmn-js.css", "case-diagram.css"]


def test_history_slider_redraws_each_step(page: Any, static_site: str) -> None:
    page.goto(f"{static_site}/en.html")
    page.wait_for_selector('#diagram[data-rendered="true"]')
    assert page.get_attribute("#diagram", "data-rendered-step") == "2"

    page.fill("#history-step", "0")
    page.wait_for_selector('#diagram[data-rendered-step="0"]')
    assert page.evaluate("window.caseDiagram.markers") == STEPS[0]
    assert "diagram-active" in _classes(page, "start_communication_registered")
    # The previous state's markers and badges are gone.
    assert "diagram-completed" not in _classes(page, "forward_communication")
    assert "diagram-active" not in _classes(page, "hold_meeting")
    assert page.locator(".djs-overlay .diagram-badge").count() == 1

    page.focus("#history-step")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('#diagram[data-rendered-step="1"]')
    assert page.evaluate("window.caseDiagram.markers") == STEPS[1]
    assert page.evaluate("window.caseDiagram.setStep(2)") == STEPS[2]
    assert page.input_value("#history-step") == "2"


def test_russian_legend_and_error_note(page: Any, static_site: str) -> None:
    page.goto(f"{static_site}/ru.html")
    page.wait_for_selector('#diagram[data-rendered="true"]')
    assert page.locator("#diagram-legend").inner_text().split("\n")[1::2] == ["Выполнено", "В работе", "Просрочено"]

    page.goto(f"{static_site}/broken.html")
    page.wait_for_selector('#diagram[data-rendered="error"]')
    assert page.locator(".diagram-error[role=alert]").inner_text() == "The process diagram could not be shown."
    assert "missing.json" in page.evaluate("window.caseDiagram.error")
