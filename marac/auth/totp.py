"""TOTP second factor (pyotp): one step of drift either way, and no code accepted twice."""
import hmac
import io

import pyotp
import segno

STEP_SECONDS = 30


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


def matching_step(secret, code, now, last_step=None):
    """The time step whose code matches, within one step of now, not already used; else None."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
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
