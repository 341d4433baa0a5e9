"""Helpers for the sign-in tests: half-signed-in clients and CSRF-free page bodies."""

import pytest
from django.test import Client

PERSONA_PASSWORD = "persona-Password-2026"  # the personas' password (tests/conftest.py)


@pytest.fixture
def password_only():
    """password_only(user) -> a Client whose session passed the password step only."""

    def client_for(user, **extra):
        client = Client()
        response = client.post("/signin/", {"username": user.get_username(),
                                            "password": PERSONA_PASSWORD}, **extra)
        assert response.status_code == 302
        assert response["Location"].startswith(("/signin/verify/", "/signin/enrol/"))
        return client

    return client_for
