"""Login, logout, the session cookie, CSRF, login throttling and the per-user language."""

from __future__ import annotations

import re
from datetime import timedelta

from app.clock import FixedClock
from tests.conftest import DEMO_PASSWORD, Api


def _set_cookie(response, name: str) -> str:  # type: ignore[no-untyped-def]
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, response.headers.get_list("set-cookie")
    return found[-1]


def test_login_sets_an_httponly_lax_cookie_and_logout_revokes_it(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    browser = site()
    r = browser.get("/inbox", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Finbox")
    r = browser.login("mfa.officer")
    assert r.status_code == 303
    cookie = _set_cookie(r, "session").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    token = browser.client.cookies["session"]
    assert len(token) > 30
    assert browser.get("/inbox").status_code == 200

    r = browser.post_form("/logout", {}, page="/inbox")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'session=""' in _set_cookie(r, "session") or "max-age=0" in _set_cookie(r, "session").lower()
    # The token itself is revoked: replaying the old cookie (or using it as a bearer) is refused.
    replay = site()
    replay.client.cookies.set("session", token)
    assert replay.get("/inbox", follow_redirects=False).status_code == 303
    assert api.client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cookie_is_secure_over_https_and_behind_a_trusted_proxy(site, api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    r = site(base_url="https://testserver").login("mfa.officer")
    assert "secure" in _set_cookie(r, "session").lower()

    browser = site()
    token = browser.csrf("/login")
    forwarded = {"X-Forwarded-Proto": "https"}
    data = {"csrf_token": token, "username": "mfa.officer", "password": DEMO_PASSWORD}
    r = browser.client.post("/login", data=data, headers=forwarded, follow_redirects=False)
    assert "secure" not in _set_cookie(r, "session").lower()  # the header is not trusted by default
    settings = api.client.app.state.settings
    trusting = type(settings)(**{**settings.__dict__, "trust_forwarded_proto": True})
    monkeypatch.setattr(api.client.app.state, "settings", trusting)
    browser = site()
    token = browser.csrf("/login")
    r = browser.client.post("/login", data={**data, "csrf_token": token}, headers=forwarded, follow_redirects=False)
    assert "secure" in _set_cookie(r, "session").lower()


def test_wrong_password_is_refused_with_a_message(site) -> None:  # type: ignore[no-untyped-def]
    r = site().login("mfa.officer", "not-the-password")
    assert r.status_code == 401
    assert 'data-testid="login-error"' in r.text and "Неверное имя пользователя или пароль" in r.text
    assert 'value="mfa.officer"' in r.text  # the username is kept


def test_posts_without_the_csrf_token_are_refused(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    from tests import flow

    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    browser = site("mfa.officer")
    for data in ({}, {"csrf_token": "0" * 64}):
        r = browser.client.post(f"/tasks/{task['id']}/claim", data=data, follow_redirects=False)
        assert r.status_code == 403 and 'data-testid="error-page"' in r.text
        r = browser.client.post(f"/tasks/{task['id']}/complete", data={**data, "bodies": "MVD"}, follow_redirects=False)
        assert r.status_code == 403
        r = browser.client.post("/language", data={**data, "locale": "en"}, follow_redirects=False)
        assert r.status_code == 403
    assert flow.open_task(api, case["id"], "forward_communication")["assignee"] is None
    # Another user's token is no good either: the CSRF token is bound to the session.
    other = site("mfa.head")
    r = browser.client.post(
        f"/tasks/{task['id']}/claim", data={"csrf_token": other.csrf("/inbox")}, follow_redirects=False
    )
    assert r.status_code == 403
    # The login form has its own token (double submit): a foreign page cannot log a browser in.
    fresh = site()
    r = fresh.client.post("/login", data={"username": "mfa.officer", "password": DEMO_PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert browser.post_form(f"/tasks/{task['id']}/claim", {}, page="/inbox").status_code == 303


def test_logins_are_throttled_after_repeated_failures(site, api: Api, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    browser = site()
    for _ in range(5):
        assert browser.login("mvd.officer", "wrong-password-1").status_code == 401
    r = browser.login("mvd.officer")  # even the right password is not checked now
    assert r.status_code == 429 and 'data-testid="login-error"' in r.text
    assert "Слишком много неудачных попыток" in r.text
    # The JSON API shares the count and says when to come back.
    r = api.client.post("/api/auth/token", data={"username": "mvd.officer", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 15 * 60
    # Other users are not affected.
    assert site().login("minjust.officer").status_code == 303
    clock.advance(timedelta(minutes=14, seconds=59))
    assert browser.login("mvd.officer").status_code == 429
    clock.advance(timedelta(seconds=1))
    assert browser.login("mvd.officer").status_code == 303


def test_failures_spread_out_or_followed_by_success_do_not_lock(site, api: Api, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        assert site().login("pa.officer", "wrong-password-1").status_code == 401
    assert site().login("pa.officer").status_code == 303  # a success forgets the typos
    for _ in range(4):
        assert site().login("pa.officer", "wrong-password-1").status_code == 401
        clock.advance(timedelta(minutes=5))
    assert site().login("pa.officer", "wrong-password-1").status_code == 401  # the 1st is 20 minutes old
    assert site().login("pa.officer").status_code == 303
    r = api.client.post("/api/auth/token", data={"username": "nobody", "password": "x"})
    assert r.status_code == 401


def test_language_switch_is_remembered_per_user(site) -> None:  # type: ignore[no-untyped-def]
    browser = site("mfa.officer")
    r = browser.get("/inbox")
    assert '<html lang="ru">' in r.text and "Входящие" in r.text
    r = browser.post_form("/language", {"locale": "en", "next": "/cases"}, page="/inbox")
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    r = browser.get("/inbox")
    assert '<html lang="en">' in r.text and "Inbox" in r.text and "Входящие" not in r.text
    browser.post_form("/logout", {}, page="/inbox")
    # A new login, in another browser too: still English; other users keep Russian.
    assert '<html lang="en">' in site("mfa.officer").get("/inbox").text
    assert '<html lang="ru">' in site("mfa.head").get("/inbox").text
    r = browser.post_form("/language", {"locale": "xx"}, page="/inbox")
    assert r.status_code == 303  # not logged in any more: sent to the login page
    browser.login("mfa.officer")
    r = browser.post_form("/language", {"locale": "xx"}, page="/inbox")
    assert r.status_code == 422


def test_the_login_page_language_becomes_the_users_choice(site) -> None:  # type: ignore[no-untyped-def]
    browser = site()
    r = browser.get("/login?lang=en")
    assert '<html lang="en">' in r.text and "Username" in r.text and 'name="lang" value="en"' in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)[1]  # type: ignore[index]
    data = {"csrf_token": token, "username": "minjust.officer", "password": DEMO_PASSWORD, "lang": "en"}
    assert browser.client.post("/login", data=data, follow_redirects=False).status_code == 303
    assert '<html lang="en">' in browser.get("/inbox").text
    assert '<html lang="en">' in site("minjust.officer").get("/inbox").text
    # The next person on this browser did not choose: the page stays in English until they log
    # in (the lang cookie), but their own language is not changed by it.
    browser.post_form("/logout", {}, page="/inbox")
    assert '<html lang="en">' in browser.get("/login").text
    assert browser.login("pa.officer").status_code == 303
    assert '<html lang="ru">' in browser.get("/inbox").text


def test_open_redirects_are_not_followed(site) -> None:  # type: ignore[no-untyped-def]
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        browser = site()
        token = browser.csrf("/login")
        r = browser.client.post(
            "/login",
            data={"csrf_token": token, "username": "mfa.officer", "password": DEMO_PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/", target
