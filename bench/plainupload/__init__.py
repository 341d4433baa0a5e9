"""Bench-only app: the unencrypted FileField upload the attachment benchmark compares with."""
