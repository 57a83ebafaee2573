"""Signing in and out: passwords, TOTP, throttling and server-side sessions."""
