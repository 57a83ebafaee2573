"""TOTP second factor (pyotp): one step of drift either way, and no code accepted twice."""
import hmac
import io
import re
import unicodedata

import pyotp
import segno

STEP_SECONDS = 30
CODE_RE = re.compile(r"[0-9]{6}")  # ASCII digits only: what pyotp makes and compare_digest can compare


def new_secret():
    """A new random base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret, email, issuer):
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri):
    """The enrolment QR code as inline SVG markup, made locally (no external service)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, title="QR code for your authenticator app",
                                    dark="#0b0c0c", light="#ffffff")
    return out.getvalue().decode()


def normalise_code(text):
    """A typed code in the ASCII digits codes are made of: compatibility forms folded (NFKC, so
    full-width "１２３４５６" reads as "123456"), the decimal digits of any script turned into ASCII
    ones, and spaces dropped. Anything else is kept as typed, for is_code() to refuse."""
    if not isinstance(text, str):
        return ""
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in folded)


def is_code(text):
    """Whether the (normalised) text has the shape of a code: exactly six ASCII digits."""
    return CODE_RE.fullmatch(text) is not None


def matching_step(secret, code, now, last_step=None):
    """The time step whose code matches, within one step of now, not already used; else None."""
    code = normalise_code(code)
    if not is_code(code):
        return None
    totp = pyotp.TOTP(secret)
    timestamp = int(now.timestamp())
    for drift in (0, -1, 1):
        moment = timestamp + drift * STEP_SECONDS
        step = totp.timecode(moment)
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(moment), code):
            return step
    return None
