"""Page tests ask for Spanish now and then: no test leaves its language to the next."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _language_reset():
    yield
    translation.activate("en")
