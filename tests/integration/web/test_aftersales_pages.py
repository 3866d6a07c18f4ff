"""The deal page's acceptance and maintenance section: offered once the contract is signed, the
acceptance note prepared from it, the service period corrected through the service (refusals
inline), and another tenant's deal 404."""

from __future__ import annotations

from app.localtime import local_today
from tests.integration.deals.support import deal, world
from tests.integration.deals.test_acceptance import signed_deal
from tests.integration.web.support import htmx, sign_in

TODAY = local_today("Asia/Shanghai")  # the tenants' zone in these tests


async def test_the_section_prepares_the_note_and_corrects_the_period(client, mailbox, app):
    w = await world(client, mailbox, app)
    open_deal = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    d = await signed_deal(client, w)
    csrf = await sign_in(client, w.rep)
    assert "Acceptance and maintenance" not in (await client.get(f"/deals/{open_deal['id']}")).text
    page = (await client.get(f"/deals/{d['id']}")).text
    assert "Acceptance and maintenance" in page and f"/deals/{d['id']}/documents/new?kind=acceptance" in page
    assert "(12 months)" in page
    form = (await client.get(f"/deals/{d['id']}/documents/new?kind=acceptance")).text
    assert '<option value="acceptance" selected>' in form and "Installation Acceptance Note" in form
    url = f"/deals/{d['id']}/service-period"
    r = await client.put(url, data={"starts_on": TODAY.isoformat(), "months": "0"}, headers=htmx(csrf))
    assert r.status_code == 422 and "<html" not in r.text
    r = await client.put(url, data={"starts_on": TODAY.isoformat(), "months": "24"}, headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    period = (await client.get(f"/api/v1/deals/{d['id']}/service-period", headers=w.rep.headers)).json()
    assert period["months"] == 24 and period["starts_on"] == TODAY.isoformat()
    assert "(24 months)" in (await client.get(f"/deals/{d['id']}")).text
    other = await world(client, mailbox, app)
    csrf = await sign_in(client, other.owner)
    r = await client.put(url, data={"starts_on": TODAY.isoformat(), "months": "12"}, headers=htmx(csrf))
    assert r.status_code == 404 and "<html" not in r.text
