"""SMS to contacts: the text in the guest's language and within two SMS, the outbox, the loopback gateway."""
from __future__ import annotations

import logging
import re
import threading
from zoneinfo import ZoneInfo

import pytest

from case_support import CASE_PHONE, friday_case, open_case, tap
from conftest import add_venue, post_checkin
from roros_checkin import create_app, db, deploy_check, sms
from sms_gateway import Gateway

OSLO = ZoneInfo("Europe/Oslo")
LANGUAGES = ["nb", "nn", "en", "de", "sv"]
LONG_VENUE = ("Gjestgiveriet og Kafeteriaen ved Bergstaden «Ŝmelthytta» – Bryggeri, Bakeri, "
              "Konditori og Selskapslokaler på Røros")[:120]
FRIDAY_18 = 1_795_194_000
CONFIG = {"LANGUAGES": LANGUAGES, "BABEL_DEFAULT_LOCALE": "nb", "MUNICIPALITY_NAME": "Røros kommune",
          "MUNICIPALITY_PHONE": "+47 72 41 94 00"}


def test_gsm_alphabet_is_counted_properly():
    assert sms.encoding("Blåbærsyltetøy på Røros, Åse Ærø") == "gsm"
    assert sms.units("Pris 10€ [inkl.]") == 16 + 3  # € [ ] take two septets each
    assert sms.encoding("Smelthytta – Ŝ") == "ucs2" and sms.units("😀") == 2
    assert sms.parts("a" * 160) == 1 and sms.parts("a" * 161) == 2 and sms.parts("a" * 306) == 2
    assert sms.parts("a" * 307) == 3 and sms.parts("Ŝ" * 70) == 1 and sms.parts("Ŝ" * 71) == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_message_names_venue_day_time_and_phone_in_the_guests_language(language):
    text = sms.compose(sms.Visit("Kaffestuggu", FRIDAY_18, language), CONFIG, OSLO)
    assert text.startswith("Røros kommune: ") and "Kaffestuggu" in text and "18:00" in text
    assert "+47 72 41 94 00" in text
    day = {"nb": "fredag 20. november", "nn": "fredag 20. november", "en": "Friday, November 20",
           "de": "Freitag, 20. November", "sv": "fredag 20 november"}[language]
    assert day in text
    word = {"nb": "Spørsmål", "nn": "ein person", "en": "Questions", "de": "Fragen", "sv": "Frågor"}[language]
    assert word in text
    assert sms.encoding(text) == "gsm" and sms.parts(text) <= 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_venue_name_still_fits_two_sms(language):
    text = sms.compose(sms.Visit(LONG_VENUE, FRIDAY_18, language), CONFIG, OSLO)
    # The name's dash, guillemets and Ŝ would switch the message to UCS-2 (134 characters in two SMS).
    assert sms.encoding(text) == "gsm", text
    assert sms.parts(text) <= 2 and sms.units(text) <= 306, sms.units(text)
    assert "Gjestgiveriet og Kafeteriaen" in text and "18:00" in text and "+47 72 41 94 00" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_typography_outside_the_gsm_alphabet_is_replaced_not_allowed_to_force_ucs2(language):
    text = sms.compose(sms.Visit("Kafé Ŝmelt – «Bryggeriet»", FRIDAY_18, language), CONFIG, OSLO)
    assert 'Kafé Smelt - "Bryggeriet"' in text and sms.encoding(text) == "gsm" and sms.parts(text) == 2


def test_an_unknown_language_gets_the_default():
    assert "Spørsmål" in sms.compose(sms.Visit("Kaffestuggu", FRIDAY_18, "xx"), CONFIG, OSLO)


def test_check_in_stores_the_language_the_guest_used(client, venue, conn):
    client.set_cookie("lang", "de")
    post_checkin(client)
    post_checkin(client.application.test_client(), phone="+4798765432")
    assert [row[0] for row in conn.execute("SELECT language FROM visits ORDER BY id")] == ["de", "nb"]


# --- deploy check ------------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "expected"), [
    ({"SMS_PROVIDER": "http", "SMS_HTTP_URL": "http://sms.example.no/send", "SMS_HTTP_TOKEN": "t0ken"},
     ["SMS_HTTP_URL is not an https address"]),
    ({"SMS_PROVIDER": "http", "SMS_HTTP_URL": "https://sms.example.no/send", "SMS_HTTP_TOKEN": ""},
     ["SMS_HTTP_TOKEN is not set"]),
    ({"SMS_PROVIDER": "http", "SMS_HTTP_URL": "", "SMS_HTTP_TOKEN": ""},
     ["SMS_HTTP_URL is not an https address", "SMS_HTTP_TOKEN is not set"]),
    ({"SMS_PROVIDER": "console"}, ["SMS_PROVIDER is console"]),
    ({"SMS_PROVIDER": "carrier-pigeon"}, ["SMS_PROVIDER 'carrier-pigeon' is not known"]),
    ({"SMS_PROVIDER": "http", "SMS_HTTP_URL": "https://sms.example.no/send", "SMS_HTTP_TOKEN": "t0ken"}, []),
    ({"SMS_PROVIDER": ""}, []),
])
def test_check_deploy_flags_an_sms_provider_without_https_or_token(settings, expected):
    problems = [problem.problem for problem in deploy_check.check_sms(settings)]
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start)


# --- outbox and sender, against a real HTTP server on loopback --------------------------------

@pytest.fixture
def gateway():
    with Gateway() as server:
        yield server


@pytest.fixture
def sms_app(app_config, gateway):
    app = create_app({**app_config, "SMS_PROVIDER": "http", "SMS_HTTP_URL": gateway.url,
                      "SMS_HTTP_TOKEN": "test-token", "SMS_SENDER": "RorosKommun",
                      "SMS_HTTP_TIMEOUT_SECONDS": 1, "SMS_RETRY_SECONDS": 60, "SMS_RETRY_MAX_SECONDS": 600})
    with app.app_context():
        db.upgrade(db.get_db())
    add_venue(app)
    return app


@pytest.fixture
def tracer(sms_app):
    from conftest import add_staff
    from roros_checkin import staff as staff_accounts
    from roros_checkin.tracing import auth

    client = sms_app.test_client()
    with sms_app.app_context():
        token = staff_accounts.start_session(db.get_db(), add_staff(sms_app), int(sms_app.config["CLOCK"]()))
    client.set_cookie(auth.COOKIE, token)
    return client


def send_to_everyone_not_reached(client, path: str) -> dict:
    """Open the confirmation, press its button; the form that was sent."""
    confirm = client.get(path + "/sms").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token)" type="hidden" value="([^"]+)"', confirm))
    data = {**fields, "contact": re.findall(r'name="contact" value="(\d+)"', confirm)}
    response = client.post(path + "/sms", data=data)
    assert response.status_code == 303
    return data


def run_sender(app, until_idle: bool = True) -> int:
    """Run the sender's loop body until nothing is due; how many attempts it made."""
    conn = db.connect(app.config["DATABASE"])
    attempts = 0
    try:
        while sms.send_one(conn, app.config, app.config["CLOCK"]):
            attempts += 1
    finally:
        conn.close()
    return attempts


def test_confirmation_shows_how_many_numbers_and_the_text(sms_app, tracer):
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
    path = open_case(tracer)
    html = tracer.get(path + "/sms").get_data(as_text=True)
    assert "<strong>2 telefonnumre</strong> (3 personer)" in html
    assert "Røros kommune: Du var på Kaffestuggu torsdag 19. november 2026 rundt kl. 19:00" in html
    assert "Kaffestuggu torsdag 19. november 2026 rundt kl. 18:30" in html
    assert "Send 2 SMS" in html and CASE_PHONE not in html and "Kari" not in html


def test_each_number_gets_exactly_one_message_and_the_line_is_told(sms_app, tracer, gateway):
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
    path = open_case(tracer)
    sent = send_to_everyone_not_reached(tracer, path)
    # The same confirmation sent again (a double tap, a second tracer) queues nothing more.
    assert tracer.post(path + "/sms", data=sent).status_code == 303
    assert "Ingen å sende til" in tracer.get(path + "/sms").get_data(as_text=True)
    assert run_sender(sms_app) == 2
    assert gateway.accepted_per_number() == {"+4798765432": 1, "+4741111111": 1}
    message = gateway.accepted[0]
    assert message["authorization"] == "Bearer test-token" and message["content_type"] == "application/json"
    assert message["body"]["from"] == "RorosKommun" and message["body"]["text"].startswith("Røros kommune: Du var")
    assert run_sender(sms_app) == 0  # accepted: never sent again
    html = tracer.get(path).get_data(as_text=True)
    assert "3 av 3 nådd" in html and html.count("Varslet på SMS") >= 2 and "SMS sendt" in html


def test_refusals_and_time_outs_are_retried_later_with_backoff(sms_app, tracer, gateway, clock, caplog):
    gateway.answers = [500, 400, "timeout"]
    gateway.hang_seconds = 2
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
    path = open_case(tracer)
    tap(tracer, tracer.get(path).get_data(as_text=True), "Mor Berg", "reached")
    send_to_everyone_not_reached(tracer, path)  # Per Hansen only
    caplog.set_level(logging.INFO, logger="roros_checkin.sms")
    waits = []
    for _ in range(3):
        assert run_sender(sms_app) == 1  # one attempt, then it waits
        waits.append(db.connect(sms_app.config["DATABASE"]).execute(
            "SELECT next_attempt_at FROM sms_outbox").fetchone()[0] - int(clock.now))
        html = tracer.get(path).get_data(as_text=True)
        assert "SMS i kø" in html and "Igjen: 0 ikke ringt, 1 ikke nådd" not in html
        clock.advance(waits[-1])
    assert waits[:2] == [60, 120] and 240 <= waits[2] <= 242
    assert "HTTP 500" in caplog.text and "HTTP 400" in caplog.text and "timeout" in caplog.text
    assert run_sender(sms_app) == 1
    assert [m["body"]["to"] for m in gateway.requests] == ["+4798765432"] * 4
    assert gateway.accepted_per_number() == {"+4798765432": 1}
    assert "98765432" not in caplog.text and "Kaffestuggu" not in caplog.text


def test_a_message_is_never_sent_by_two_senders_at_once(sms_app, tracer, gateway):
    gateway.hang_seconds = 0.5
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
        for n in range(20):
            from tracing_data import add_visit
            add_visit(conn, "kaffestuggu", f"Gjest {n}", f"+47480000{n:02d}", "2026-11-19T18:30", "2026-11-19T19:30")
    path = open_case(tracer)
    send_to_everyone_not_reached(tracer, path)
    threads = [threading.Thread(target=run_sender, args=(sms_app,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = gateway.accepted_per_number()
    assert len(counts) == 22 and set(counts.values()) == {1}
    assert len(gateway.requests) == 22


def test_a_message_to_one_contact(sms_app, tracer, gateway):
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
    path = open_case(tracer)
    html = tracer.get(path).get_data(as_text=True)
    one = re.search(r'href="(/tracing/cases/\d+/contacts/\d+/sms)"', html[html.index("Kort Besøk"):]).group(1)
    confirm = tracer.get(one).get_data(as_text=True)
    assert "<strong>1 telefonnumre</strong> (1 personer)" in confirm
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm).group(1)
    assert tracer.post(one, data={"csrf_token": token}).status_code == 303
    assert tracer.post(one, data={"csrf_token": token}).status_code == 409  # never twice
    run_sender(sms_app)
    assert gateway.accepted_per_number() == {"+4741234567": 1}


def test_sms_off_by_default_offers_no_button_and_refuses(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    html = staff_client.get(path).get_data(as_text=True)
    assert "SMS er ikke slått på" in html and "/sms" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    refused = staff_client.post(path + "/sms", data={"csrf_token": token})
    assert refused.status_code == 409 and "SMS er ikke slått på" in refused.get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM sms_outbox").fetchone()[0] == 0


def test_console_provider_logs_that_a_message_went_never_its_number_or_text(app_config, caplog):
    app = create_app({**app_config, "SMS_PROVIDER": "console"})
    with app.app_context():
        db.upgrade(db.get_db())
    add_venue(app)
    from conftest import add_staff
    from roros_checkin import staff as staff_accounts
    from roros_checkin.tracing import auth

    client = app.test_client()
    with app.app_context():
        client.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), add_staff(app), int(app.config["CLOCK"]())))
        friday_case(db.get_db())
    path = open_case(client)
    send_to_everyone_not_reached(client, path)
    caplog.set_level(logging.INFO, logger="roros_checkin.sms")
    assert run_sender(app) == 2
    assert caplog.text.count("sent (console provider") == 2
    for secret in ("98765432", "41111111", "Kaffestuggu", "Røros kommune: "):
        assert secret not in caplog.text


def test_a_redirect_is_not_followed_and_not_accepted(sms_app, tracer, gateway):
    gateway.answers = [302]
    with db.connect(sms_app.config["DATABASE"]) as conn:
        friday_case(conn)
    path = open_case(tracer)
    tap(tracer, tracer.get(path).get_data(as_text=True), "Mor Berg", "reached")
    send_to_everyone_not_reached(tracer, path)
    assert run_sender(sms_app) == 1
    assert len(gateway.requests) == 1 and gateway.accepted == []
    row = db.connect(sms_app.config["DATABASE"]).execute("SELECT last_error, accepted_at FROM sms_outbox").fetchone()
    assert tuple(row) == ("HTTP 302", None)
