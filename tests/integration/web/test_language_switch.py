"""The language switch is remembered: on the public pages a ``?lang=`` sets a cookie every later public
page follows (over the browser's language); a signed-in switch is stored on the user and sets it too."""

from __future__ import annotations

from tests.factories import db_value
from tests.integration.customers.pool.support import team
from tests.integration.web.support import htmx, sign_in

ENGLISH = {"accept-language": "en-US,en;q=0.9"}


async def test_a_public_pages_language_is_remembered(client):
    client.cookies.clear()
    r = await client.get("/forgot-password", headers=ENGLISH)
    assert "Forgot your password?" in r.text and "acre_lang" not in r.headers.get("set-cookie", "")
    r = await client.get("/login", params={"lang": "zh-CN"}, headers=ENGLISH)
    assert r.status_code == 200 and "登录" in r.text
    assert "acre_lang=zh-CN" in r.headers["set-cookie"] and "Max-Age=31536000" in r.headers["set-cookie"]
    r = await client.get("/forgot-password", headers=ENGLISH)  # no ?lang=: the cookie wins
    assert "忘记密码？" in r.text
    r = await client.get("/login", params={"lang": "en"}, headers=ENGLISH)
    assert "acre_lang=en" in r.headers["set-cookie"]
    r = await client.get("/forgot-password")
    assert "Forgot your password?" in r.text


async def test_an_unknown_language_changes_nothing(client):
    client.cookies.clear()
    r = await client.get("/login", params={"lang": "fr"}, headers=ENGLISH)
    assert r.status_code == 200 and "Sign in" in r.text
    assert "acre_lang" not in r.headers.get("set-cookie", "")
    client.cookies.set("acre_lang", "klingon")
    r = await client.get("/forgot-password", headers={"accept-language": "zh-CN"})
    assert "忘记密码？" in r.text  # a bad cookie falls back to the browser's language


async def test_a_signed_in_switch_is_stored_and_remembered_after_sign_out(client, admin_db):
    t = await team(client, admin_db, reps=1)
    csrf = await sign_in(client, t.reps[0])
    r = await client.post("/language", data={"locale": "zh-CN"}, headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    assert "acre_lang=zh-CN" in r.headers["set-cookie"]
    stored = await db_value(admin_db, "SELECT locale FROM users WHERE email = $1", t.reps[0].email)
    assert stored == "zh-CN"
    r = await client.post("/logout", headers=htmx(csrf))
    r = await client.get("/login", headers=ENGLISH)
    assert "登录" in r.text
