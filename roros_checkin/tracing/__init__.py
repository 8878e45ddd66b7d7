"""The tracing team's blueprint: everything under /tracing/, behind a staff login.

Every route, hook, error handler and template helper of the blueprint is added here, in one
list, from the modules that hold the views: auth.py (login, logout, the session check),
search.py (case and venue search, exports, the call list), casework.py (a case's contacts as
work, and SMS to them), person.py (a person's own data),
paper.py (paper lists), views.py (start page, audit log, activity) and refusals.py (error
answers). Those modules only define functions; none registers anything by being imported.
"""
from __future__ import annotations

import sqlite3

from flask import Blueprint

from . import auth, casework, paper, person, refusals, search, views
from .auth import BLUEPRINT, PUBLIC_ENDPOINTS, URL_PREFIX

__all__ = ["PUBLIC_ENDPOINTS", "bp"]

bp = Blueprint(BLUEPRINT, __name__, url_prefix=URL_PREFIX)

# Access: the session check runs for every request under /tracing/, even one that matches no route.
bp.before_app_request(auth.require_staff)
bp.after_request(auth.no_store)
bp.before_request(refusals.refuse_files)
bp.app_errorhandler(sqlite3.OperationalError)(refusals.storage_unavailable)

bp.add_app_template_filter(search.oslo, "oslo")
bp.add_app_template_filter(search.phone, "phone")
bp.add_app_template_global(search.case_timelines, "case_timelines")
bp.add_app_template_filter(person.visit_expires, "visit_expires")

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
ROUTES = (
    ("/login", auth.login, BOTH),
    ("/logout", auth.logout, POST),
    ("/", views.index, GET),
    ("/case", search.case_search, BOTH),
    ("/case/export", search.case_export, POST),
    ("/case/print", search.case_print, POST),
    ("/venue", search.venue_search, BOTH),
    ("/venue/export", search.venue_export, POST),
    ("/cases", casework.case_list, GET),
    ("/cases/<int:case_id>", casework.case_page, GET),
    ("/cases/<int:case_id>/contacts/<int:contact_id>", casework.contact_state, POST),
    ("/cases/<int:case_id>/sms", casework.case_sms, BOTH),
    ("/cases/<int:case_id>/contacts/<int:contact_id>/sms", casework.contact_sms, BOTH),
    ("/paper", paper.paper_list, BOTH),
    ("/person", person.person, BOTH),
    ("/person/correct", person.person_correct, POST),
    ("/person/delete", person.person_delete, POST),
    ("/audit", views.audit_log, GET),
    ("/audit/person", views.person_lookup, BOTH),
    ("/activity", views.venue_activity, GET),
)
for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
