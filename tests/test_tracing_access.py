"""Every /tracing/ route needs a staff session; the audit log is for admins only."""
from __future__ import annotations

import pytest

from conftest import add_staff, hidden_fields
from roros_checkin import db
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import PUBLIC_ENDPOINTS, auth
from tracing_data import add_visit


def tracing_rules(app) -> list:
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/tracing") and rule.endpoint not in PUBLIC_ENDPOINTS]
    assert len(rules) >= 9  # start, case (+export, print), venue (+export), paper, audit, activity, logout
    return rules


class FakeRule:
    def __init__(self, rule: str) -> None:
        self.rule = rule


def concrete_path(rule) -> str:
    return rule.rule.replace("<", "").replace(">", "")


@pytest.fixture
def guest_data(app, conn, venue):
    add_visit(conn, "kaffestuggu", "Synlig Gjest", "+4791234567", "2026-11-19T18:00")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_tracing_route_redirects_to_login_without_a_session(app, client, guest_data, method):
    # A valid CSRF token (anyone can get one from the login page), so the POST reaches the login check.
    token = hidden_fields(client.get("/tracing/login").get_data(as_text=True))["csrf_token"]
    for rule in tracing_rules(app) + [FakeRule("/tracing/no-such-page")]:
        response = client.open(concrete_path(rule), method=method,
                               data={"csrf_token": token, "phone": "+4791234567", "case_ref": "2026/1",
                                     "onset": "2026-11-20"})
        assert response.status_code in (302, 303), rule.rule
        assert response.headers["Location"].startswith("/tracing/login"), rule.rule
        body = response.get_data(as_text=True)
        assert "Synlig" not in body and "91234567" not in body


def test_an_ended_session_no_longer_opens_tracing_pages(app, staff_client, guest_data):
    token = staff_client.get_cookie(auth.COOKIE).value
    with app.app_context():
        staff_accounts.end_session(db.get_db(), token)
    assert staff_client.get("/tracing/activity").status_code == 303


def test_tracer_cannot_read_the_audit_log(staff_client):
    assert staff_client.get("/tracing/audit").status_code == 403
    assert 'href="/tracing/audit"' not in staff_client.get("/tracing/").get_data(as_text=True)


def test_start_page_links_to_every_tool(app, client):
    staff_id = add_staff(app, "anne", role="admin")
    with app.app_context():
        client.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), staff_id, int(app.config["CLOCK"]())))
    html = client.get("/tracing/").get_data(as_text=True)
    for path in ("/tracing/case", "/tracing/venue", "/tracing/paper", "/tracing/activity", "/tracing/audit"):
        assert f'href="{path}"' in html
    assert client.get("/tracing/audit").status_code == 200


def test_post_without_csrf_token_is_refused_without_guest_data(app, client, guest_data):
    for rule in tracing_rules(app):
        if "POST" in rule.methods:
            response = client.post(concrete_path(rule), data={"phone": "+4791234567"})
            assert response.status_code in (400, 303), rule.rule
            assert "Synlig" not in response.get_data(as_text=True)
