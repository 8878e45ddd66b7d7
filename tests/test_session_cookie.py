"""The session cookie (the tracing forms' CSRF secret): a changed secret key takes effect, and guests'
pages never set it."""
from __future__ import annotations

import pytest
from conftest import post_checkin
from itsdangerous import BadSignature


def test_a_new_secret_key_signs_with_the_new_key(app, client):
    client.get("/tracing/login")
    old_cookie = client.get_cookie("session").value
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-0123456789"
    serializer = app.session_interface.get_signing_serializer(app)
    with pytest.raises(BadSignature):
        serializer.loads(old_cookie)
    client.get("/tracing/login")
    assert serializer.loads(client.get_cookie("session").value)


def test_guest_pages_set_no_session_cookie(client, venue):
    form = client.get("/v/kaffestuggu")
    kiosk = client.get("/kiosk/kaffestuggu")
    checked_in = post_checkin(client)
    receipt = client.get(checked_in.headers["Location"])
    for response in (form, kiosk, checked_in, receipt):
        assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None
