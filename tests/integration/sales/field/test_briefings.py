"""Daily briefings: one digest per member and day by role, in their language; none when empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.settings import get_settings
from tests.factories import customer, db_rows, today
from tests.helpers import mails_to, run_jobs
from tests.integration.sales.field.support import field, followup, item, local_noon, plan


def _briefings(mailbox, who):
    return [m for m in mails_to(mailbox, who.email) if "briefing" in m["Subject"] or "简报" in m["Subject"]]


def _text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


async def _brief(app, tenant_id, day=None):
    args = [tenant_id] + ([day.isoformat()] if day else [])
    await app.state.arq.enqueue_job("briefings_for", *args, _queue_name=get_settings().queue_name)
    await run_jobs(app)


async def _world(client, mailbox, app, admin_db, locale="en"):
    f = await field(client, mailbox, app, locale=locale)
    c1, c2 = f.customers
    p = (
        await plan(
            client,
            f.rep,
            today(),
            [item(c1["id"], "09:30:00", "development"), item(c2["id"], "14:00:00", "collection")],
        )
    ).json()
    await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    r = await client.post(
        f"/api/v1/customers/{c2['id']}/followups",
        json={"kind": "call", "summary": "约了下次", "next_followup_at": soon},
        headers=f.rep.headers,
    )
    assert r.status_code == 201
    # Due already (overdue counts as due): one minute ahead would be tomorrow when run just before
    # midnight in the tenant's zone.
    overdue = "UPDATE customers SET next_followup_at = now() - interval '1 minute' WHERE id = $1"
    await db_rows(admin_db, overdue, c2["id"])
    slipping = await customer(client, f.rep, f.city["id"])
    await db_rows(
        admin_db,
        "UPDATE customers SET owner_changed_at = now() - interval '28 days',"
        " last_followup_at = NULL WHERE id = $1",
        slipping["id"],
    )
    await followup(client, f.rep, c1["id"], "visit", "appointment", local_noon(today() - timedelta(days=1)))
    await client.post(
        "/api/v1/market-incidents",
        json={"title": "竞品降价", "description": "降价 30%", "severity": "serious"},
        headers=f.rep.headers,
    )
    return f, slipping


async def test_briefings_by_role_once_a_day(client, mailbox, app, admin_db):
    f, slipping = await _world(client, mailbox, app, admin_db)
    await _brief(app, f.owner.tenant_id)

    [rep_mail] = _briefings(mailbox, f.rep)
    assert rep_mail["Subject"] == f"Your briefing for {today().isoformat()}"
    text = _text(rep_mail)
    assert "Today's visit plan (submitted):" in text
    assert f"09:30 {f.customers[0]['full_name']} · development" in text
    assert f"14:00 {f.customers[1]['full_name']} · collection" in text
    assert "Follow-ups due: 1" in text and f.customers[1]["full_name"] in text
    assert "Customers close to returning to the pool:" in text and slipping["full_name"] in text
    assert "Waiting for your approval" not in text  # a rep gets no manager part

    [manager_mail] = _briefings(mailbox, f.manager)
    text = _text(manager_mail)
    assert "Waiting for your approval: 0 requests, 1 visit plans" in text
    assert "Team activity yesterday: 1 follow-ups, 0 deal moves" in text
    assert "Open market incidents: 1" in text and "竞品降价 (!)" in text
    assert "Today's visit plan" not in text

    assert _briefings(mailbox, f.other_manager) == [] and _briefings(mailbox, f.rep2) == []
    assert _briefings(mailbox, f.other_rep) == []
    assert len(_briefings(mailbox, f.owner)) == 1  # the owner sees the whole tenant

    await _brief(app, f.owner.tenant_id)  # again the same day: nothing new
    assert len(_briefings(mailbox, f.rep)) == 1 and len(_briefings(mailbox, f.manager)) == 1


async def test_briefing_in_the_members_language(client, mailbox, app, admin_db):
    f, _ = await _world(client, mailbox, app, admin_db, locale="zh-CN")
    await _brief(app, f.owner.tenant_id, today())
    [mail] = _briefings(mailbox, f.rep)
    assert mail["Subject"] == f"您的 {today().isoformat()} 每日简报"
    text = _text(mail)
    assert "今日拜访计划（已提交）：" in text and "· 开发" in text and "· 收款" in text
    assert "即将被回收到公海的客户：" in text
    [manager_mail] = _briefings(mailbox, f.manager)
    assert "待您审批：0 个申请，1 个拜访计划" in _text(manager_mail)
