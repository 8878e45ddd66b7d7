"""Staff password rules: length, and not one of the passwords attackers try first."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from werkzeug.security import generate_password_hash

# OWASP's floor for scrypt (Werkzeug's default is N=2^15): about 128 MiB and 0.4 s per hash.
PASSWORD_METHOD = "scrypt:131072:8:1"
PASSWORD_MIN, PASSWORD_MAX = 12, 128
DATA = Path(__file__).parent / "data"
# Digits and punctuation people put around a common word to pass a length rule ("Sommer2026!!").
_DECORATION = re.compile(r"^[\d\W_]+|[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped lists: Django's breach-derived list and our own local words (see data/)."""
    words: set[str] = set()
    for name in ("common-passwords.txt", "common-passwords-local.txt"):
        text = (DATA / name).read_text(encoding="utf-8")
        words.update(line.strip().lower() for line in text.splitlines() if line.strip())
    return frozenset(words)


def is_common(password: str) -> bool:
    """True for a listed password, a listed word with digits or symbols around it, or one repeated."""
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or lowered.replace(" ", "") in common:
        return True
    core = _DECORATION.sub("", lowered)
    if len(core) >= 4 and core in common:
        return True
    # "monkeymonkeymonkey", "abcabcabcabc", "aaaaaaaaaaaa": one short piece repeated.
    return re.fullmatch(r"(.{1,8}?)\1+", lowered) is not None


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"the password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
    if is_common(password):
        return "the password is in the list of common passwords; choose a longer phrase of your own"
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "the password must not contain the username"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)
