"""Staff password rules (hashing is staff.py's): length, not one of the passwords attackers try first, and hard to guess.

The length rule and the shipped lists catch the obvious; zxcvbn (Dropbox's estimator, the one
OWASP points to) catches what they miss: keyboard walks (`zaq12wsxcde3`), sequences and repeats
(`123456789012`, `111111111112`), dates, and words of the service itself (the municipality's name,
"røros", "smittesporing", the username), which it is given as context.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from zxcvbn import zxcvbn

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


# zxcvbn's score 4: at least 10^10 guesses. An offline attack on a stolen scrypt hash at this cost
# manages a few guesses a second per core, so 10^10 is years; score 3 (10^8) let "Roroskommune2026" in.
MIN_STRENGTH = 4
# zxcvbn refuses longer input; its cost grows with length. The rest of a longer password only adds.
STRENGTH_CHARACTERS = 72
# Words of the service itself, which an attacker who knows whose server it is tries first.
SERVICE_WORDS = ("røros", "roros", "kommune", "checkin", "check-in", "innsjekking", "smittesporing",
                 "smittesporingsteamet", "smitte", "sporing", "korona", "covid", "tracing")
STRENGTH_RULE = ("the password is too easy to guess (it must reach 4 of 4 in the zxcvbn strength "
                 "estimate): no keyboard rows, sequences, repeats or dates, and not the municipality's, "
                 "the service's or your own name; a phrase of four or more words of your own passes")


def _ascii_fold(text: str) -> str:
    """'Røros kommune' as people type it on an English keyboard: 'roros kommune'."""
    text = text.lower().replace("ø", "o").replace("æ", "ae").replace("å", "a")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def context_words(username: str = "", municipality: str = "") -> list[str]:
    """What zxcvbn is told about this account and service: each name whole, in words, and folded."""
    words: set[str] = set(SERVICE_WORDS)
    for text in (username, municipality):
        for variant in (text.lower(), _ascii_fold(text)):
            if variant:
                words.add(variant)
                words.update(part for part in re.split(r"[\s._-]+", variant) if len(part) >= 3)
                words.add(re.sub(r"[\s._-]+", "", variant))
    return sorted(words)


def strength(password: str, user_inputs: Iterable[str] = ()) -> int:
    """zxcvbn's score (0 to 4) of the password's first STRENGTH_CHARACTERS characters."""
    return zxcvbn(password[:STRENGTH_CHARACTERS], user_inputs=list(user_inputs),
                  max_length=STRENGTH_CHARACTERS)["score"]


def password_problem(password: str, username: str = "", municipality: str = "") -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"the password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
    if is_common(password):
        return "the password is in the list of common passwords; choose a longer phrase of your own"
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "the password must not contain the username"
    if strength(password, context_words(username, municipality)) < MIN_STRENGTH:
        return STRENGTH_RULE
    return None
