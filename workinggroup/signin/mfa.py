"""TOTP devices: enrolment (QR code rendered here, no third party), and verification that
refuses replayed codes and tells an auditor why a code failed."""

import base64
import time

import segno
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

ENROL_DEVICE_KEY = "wg_enrol_device"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_device(request, user) -> TOTPDevice:
    """The unconfirmed device this session is enrolling; a fresh key for each new session."""
    device_id = request.session.get(ENROL_DEVICE_KEY)
    device = None
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
        request.session[ENROL_DEVICE_KEY] = device.pk
    return device


def qr_svg(device: TOTPDevice, title: str) -> str:
    """The otpauth:// URI as an inline SVG (no script, no style attribute: CSP-safe)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=4, title=title)


def manual_key(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an authenticator app."""
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _clean(code: str) -> str:
    return "".join((code or "").split())


def _matches_ignoring_replay(device: TOTPDevice, code: str) -> bool:
    """Whether the code is genuine for the current window, used or not."""
    if not code.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp.verify(int(code), device.tolerance)


def check_code(device: TOTPDevice, code: str) -> tuple[bool, str]:
    """Verify a code against one device, locked against a concurrent replay.

    Returns (ok, reason) with reason one of "", "replayed", "wrong_code", "throttled".
    django-otp refuses any code at or before the device's last verified time step (last_t)
    and slows down guessing (OTP_TOTP_THROTTLE_FACTOR).
    """
    code = _clean(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            return False, "throttled"
        if device.verify_token(code):
            return True, ""
        return False, "replayed" if _matches_ignoring_replay(device, code) else "wrong_code"
