"""Sharing fixtures: a US case with a suspect, a victim and a witness; helpers to share it.

`make_case` (tests/conftest.py) opens cases through cases.services.case_create.
"""

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import CaseGroupObjectPermission, Subject


@pytest.fixture
def us_case(make_case):
    """A US case with one suspect, one victim and one witness."""
    case = make_case("US")
    Subject.objects.create(case=case, full_name="Rigoberto Salazar Cruz", role="organiser")
    Subject.objects.create(case=case, full_name="Ana Lucia Choc Tzul", role="victim")
    Subject.objects.create(case=case, full_name="Mateo Pop Caal", role="witness")
    return case


def in_days(days=30, **more):
    return timezone.now() + dt.timedelta(days=days, **more)


@pytest.fixture
def subject():
    """subject(case, "victim") -> that case's subject with the role."""
    return lambda case, role: Subject.objects.get(case=case, role=role)


@pytest.fixture
def group_perms():
    """group_perms(case, "MX") -> the guardian permission rows MX's group holds on the case."""

    def perms(case, country):
        return set(
            CaseGroupObjectPermission.objects.filter(
                content_object=case, group__country=country
            ).values_list("permission__codename", flat=True)
        )

    return perms


@pytest.fixture
def later():
    """later(days=30) -> an aware datetime that many days from now."""
    return in_days


@pytest.fixture
def us_requester(make_member):
    """A US member who is both investigator and liaison: may open, never decide their own."""
    return make_member("US", "investigator", "liaison", username="us.both")


@pytest.fixture
def offer(us_investigator):
    """offer(case, to="MX", scope="full", ...) -> a pending share request opened by the owner."""
    from sharing import services
    from workinggroup.models import Country

    def open_offer(case, to="MX", scope="full", *, by=None, days=30, named=(), **more):
        return services.share_request_open(
            requester=by or us_investigator,
            case=case,
            recipient_country=Country.objects.get(code=to),
            scope=scope,
            justification="Joint investigation of the Tapachula ring",
            expires_at=more.pop("expires_at", None) or in_days(days),
            named_subjects=[s.pk for s in named],
            **more,
        )

    return open_offer


@pytest.fixture
def shared(offer, us_liaison):
    """shared(case, to="MX", scope="full", ...) -> an approved share."""
    from sharing import services

    def approve(case, to="MX", scope="full", **kwargs):
        share_request = offer(case, to, scope, **kwargs)
        return services.share_request_approve(share_request=share_request, liaison=us_liaison)

    return approve


@pytest.fixture(autouse=True)
def _no_lookup_windows_left_in_redis():
    """Rate-limit windows live in Redis, which outlives the test database: start without any."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        for key in client.scan_iter(match=backend.make_key("lookup-rate:*")):
            client.delete(key)


@pytest.fixture
def redis_limiter(redis_url, settings):
    """The lookup rate limit in Redis (as in production), under a prefix of its own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "wgx-test-limit",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import caches

    client = caches["default"]._cache.get_client(write=True)
    for key in client.scan_iter(match="wgx-test-limit:*"):
        client.delete(key)
    yield client
    for key in client.scan_iter(match="wgx-test-limit:*"):
        client.delete(key)


@pytest.fixture
def database_limiter(settings):
    """No Redis configured (the development box): the limit is the database ledger."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(params=["redis", "database"])
def limiter(request):
    """Each rate-limit test runs against both stores."""
    return request.getfixturevalue(f"{request.param}_limiter")
