"""Time-based one-time codes (RFC 6238, via pyotp) for the staff login, with a replay guard."""
from __future__ import annotations

import hmac
import io
import re

import pyotp
import qrcode

STEP = 30
# Accept the previous and next 30-second step too: a phone clock off by up to 30 s still works.
DRIFT_STEPS = 1
CODE = re.compile(r"\d{6}")


def new_secret() -> str:
    """A fresh 160-bit base32 seed from the system's CSPRNG."""
    return pyotp.random_base32(32)


def issuer(municipality: str) -> str:
    """The name the authenticator app shows for the entry: the municipality's tracing."""
    return f"{municipality} smittesporing"


def provisioning_uri(username: str, secret: str, municipality: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (MUNICIPALITY_NAME as issuer)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer(municipality))


def terminal_qr(uri: str) -> str:
    """The URI as a QR code drawn with block characters, for IT's terminal."""
    code = qrcode.QRCode(border=2)
    code.add_data(uri)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def matching_step(secret: str, code: str, last_step: int | None, now: int) -> int | None:
    """The time step whose code this is (within the drift window and after last_step), or None."""
    code = code.strip().replace(" ", "")
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    current = now // STEP
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue  # this code, or an older one, was already used
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None
