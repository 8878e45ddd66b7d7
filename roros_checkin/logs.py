"""The server's log: one record is one line, whatever a client put into it.

Log calls name values a client chose (a slug, a username, a forwarded header that waitress
found malformed, the path of a request that failed). Escaping each at its call is easy to forget
in the next one, so it is done once, where a record becomes text: SafeFormatter writes every
character that is not printable (CR, LF, tab, NEL U+0085, the line and paragraph separators
U+2028/U+2029, other control and format characters such as bidi overrides) the way repr() does,
as \\n, \\x85, \\u2028 and so on. A traceback keeps its lines, each indented, so no line of it
can pass for a record of its own either.
"""
from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """Text with each unprintable character written as a repr()-style escape."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _indented(text: str) -> str:
    # splitlines() breaks where any reader of the log would (NEL, U+2028 too): each piece indented.
    return "\n".join("    " + escape(line) for line in text.splitlines())


class SafeFormatter(logging.Formatter):
    """A Formatter whose records cannot forge lines: the message escaped, tracebacks indented."""

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached its own (unindented) traceback text on the record.
        cached = record.exc_text
        record.exc_text = None if record.exc_info else (cached and _indented(cached))
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        record.message = escape(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message

    def formatException(self, ei) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def configure(level: int = logging.INFO) -> None:
    """The server's logging: records to stderr, one line each, through SafeFormatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


def protect_flask_handler() -> None:
    """Flask's own handler (used when nothing else is configured) gets the safe formatter too."""
    from flask.logging import default_handler

    if not isinstance(default_handler.formatter, SafeFormatter):
        default_handler.setFormatter(SafeFormatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))
