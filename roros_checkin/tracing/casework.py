"""Case work pages: the cases, one case's contacts with their states, and SMS to contacts.

The URLs carry the case's and the contact line's ids, never a name, a number or a case reference.
Every change is a POST with a CSRF token and, for a state, the version it was based on: a change
based on an older version gets 409 and the case page as it now stands, with what happened.
(The small forms live here, beside the only views that use them.)
"""
from __future__ import annotations

import sqlite3

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField

from .. import cases, contacts, sms, times
from ..db import get_db
from ..queries import case_by_id, list_cases


class StateForm(FlaskForm):
    state = HiddenField()
    version = IntegerField()


class SmsForm(FlaskForm):
    """The confirmation's button; the contact ids it was shown for come as repeated `contact` fields."""


def _case_or_404(case_id: int) -> sqlite3.Row:
    case = case_by_id(get_db(), case_id) if case_id < 2**62 else None
    if case is None:
        abort(404)
    return case


def _work(case: sqlite3.Row) -> cases.CaseWork:
    return cases.case_work(get_db(), case, contacts.Rules.from_config(current_app.config), times.now())


def _page(work: cases.CaseWork, status: int = 200, stale: cases.ContactLine | None = None,
          refused: str | None = None):
    return render_template("tracing/case_work.html", work=work, states=cases.STATES, stale=stale,
                           refused=refused, sms_on=sms.enabled(current_app.config)), status


def case_list() -> str:
    return render_template("tracing/cases.html", cases=list_cases(get_db()))


def case_page(case_id: int):
    return _page(_work(_case_or_404(case_id)))


def contact_state(case_id: int, contact_id: int):
    case = _case_or_404(case_id)
    form = StateForm()
    if not form.validate() or form.state.data not in cases.TAPPED or form.version.data is None:
        abort(400)
    work = _work(case)
    if work.line(contact_id) is None:
        abort(404)
    try:
        cases.set_state(get_db(), case, contact_id, form.version.data, form.state.data, g.staff["username"],
                        times.now())
    except cases.StaleUpdate:
        return _page(_work(case), 409, stale=_work(case).line(contact_id))
    return redirect(url_for("tracing.case_page", case_id=case_id, _anchor=f"c{contact_id}"), 303)


def _wake_sender() -> None:
    sender = current_app.extensions.get("sms_sender")
    if sender is not None:
        sender.wake.set()


def _confirm(work: cases.CaseWork, lines: list[cases.ContactLine], action: str, status: int = 200):
    messages = cases.messages_for(lines, current_app.config, times.local_zone())
    texts: dict[str, tuple[int, str]] = {}
    for message in messages:
        texts[message.text] = (texts.get(message.text, (0, ""))[0] + 1, message.language)
    return render_template("tracing/sms_confirm.html", work=work, lines=lines, texts=texts, action=action,
                           people=sum(len(line.names) for line in lines), form=SmsForm(),
                           sms_on=sms.enabled(current_app.config),
                           parts={text: sms.parts(text) for text in texts}), status


def _queue(case: sqlite3.Row, work: cases.CaseWork, lines: list[cases.ContactLine], detail: str):
    if not sms.enabled(current_app.config):
        return _page(work, 409, refused="SMS er ikke slått på (innstillingen SMS_PROVIDER).")
    if not SmsForm().validate():
        abort(400)
    messages = cases.messages_for(lines, current_app.config, times.local_zone())
    cases.queue_sms(get_db(), case, messages, g.staff["username"], times.now(), detail)
    _wake_sender()
    return redirect(url_for("tracing.case_page", case_id=case["id"]), 303)


def case_sms(case_id: int):
    """SMS to everyone not yet reached: a confirmation first (how many numbers, the text), then the outbox."""
    case = _case_or_404(case_id)
    work = _work(case)
    lines = work.sms_candidates()
    if request.method == "GET":
        return _confirm(work, lines, url_for("tracing.case_sms", case_id=case_id))
    # Only the lines the confirmation showed, and only those still not reached and not yet sent to.
    shown = {int(value) for value in request.form.getlist("contact") if value.isdigit() and len(value) < 18}
    return _queue(case, work, [line for line in lines if line.id in shown], "alle ikke nådd")


def contact_sms(case_id: int, contact_id: int):
    """SMS to one contact line (one number, however many names share it)."""
    case = _case_or_404(case_id)
    work = _work(case)
    line = work.line(contact_id)
    if line is None:
        abort(404)
    if not line.can_get_sms():
        return _page(work, 409, refused="Dette nummeret har allerede fått SMS i saken, eller er feil nummer.")
    if request.method == "GET":
        return _confirm(work, [line], url_for("tracing.contact_sms", case_id=case_id, contact_id=contact_id))
    return _queue(case, work, [line], "én kontakt")
