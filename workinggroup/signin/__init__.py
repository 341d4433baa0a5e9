"""Sign-in to the CJIS and ASVS level 2 bar: password then TOTP, lockout, session limits.

Pages live in views.py (sign-in steps) and account.py (tokens, sessions, password); every
state change goes through services.py; middleware.py enforces MFA, idle and absolute limits
and the no-store header on every request; lockout.py adapts django-axes to the policy.
"""
