"""A browser-like client for the pages: its own cookies, logs in through the login form, and reads
each form's CSRF token from the page, as a person's browser would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_PASSWORD, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Browser:
    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, base_url=base_url)
        self.username: str | None = None

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def csrf(self, url: str) -> str:
        r = self.client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:500])
        found = CSRF.search(r.text)
        assert found, f"no CSRF token on {url}"
        return found[1]

    def post_form(self, url: str, data: dict[str, Any], page: str | None = None, **kw: Any) -> Any:
        """POST as the form on `page` (default: `url`) would, with that page's CSRF token."""
        token = self.csrf(page or url)
        return self.client.post(url, data={"csrf_token": token, **data}, follow_redirects=False, **kw)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> Any:
        token = self.csrf("/login")
        r = self.client.post(
            "/login",
            data={"csrf_token": token, "username": username, "password": password},
            follow_redirects=False,
        )
        if r.status_code == 303:
            self.username = username
        return r


@pytest.fixture
def site(api: Api) -> Any:
    """Open browsers on the same app the `api` fixture drives: site(user) is logged in as user."""

    def open_as(username: str | None = None, base_url: str = "http://testserver") -> Browser:
        browser = Browser(api.client.app, base_url)
        if username:
            r = browser.login(username)
            assert r.status_code == 303, r.text[:1000]
        return browser

    return open_as
