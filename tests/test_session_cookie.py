"""The session cookie's serializer is built once, and a changed secret key still takes effect."""
from __future__ import annotations

import pytest
from conftest import post_checkin
from itsdangerous import BadSignature


def test_one_serializer_serves_every_request(app, client, venue):
    client.get("/v/kaffestuggu")
    first = app.session_interface.get_signing_serializer(app)
    assert post_checkin(client).status_code == 303
    assert app.session_interface.get_signing_serializer(app) is first


def test_a_new_secret_key_signs_with_the_new_key(app, client, venue):
    client.get("/v/kaffestuggu")
    old_cookie = client.get_cookie("session").value
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-0123456789"
    serializer = app.session_interface.get_signing_serializer(app)
    with pytest.raises(BadSignature):
        serializer.loads(old_cookie)
    assert post_checkin(client).status_code == 303
