"""The lookup rate limit: 60 per member per sliding hour, in Redis or (without Redis) the
database ledger; with Redis configured but down, lookups are refused, never left uncounted."""

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from sharing.models import Lookup, LookupHit

LOOKUP = "/api/v1/lookup/"
EMAIL = {"identifier_type": "email", "value": "a@b.example"}


def _ask(client, payload=EMAIL):
    return client.post(LOOKUP, payload, format="json")


def test_the_61st_lookup_in_an_hour_is_429_with_retry_after(db, limiter, api, us_investigator,
                                                            audit_log):
    client = api(us_investigator)
    with freeze_time(timezone.now()) as clock:
        for _ in range(60):
            assert _ask(client).status_code == 200
            clock.tick(10)
        response = _ask(client)
        assert response.status_code == 429
        # The first lookup leaves the window an hour after it was made.
        assert response["Retry-After"] == str(3600 - 600)
        assert response.json()["detail"] == (
            "At most 60 lookups an hour. Expected available in 3000 seconds.")
        clock.tick(3600 - 600 + 1)
        assert _ask(client).status_code == 200
    [refused] = audit_log(action="lookup.rate_limited")
    assert refused.outcome == "denied" and refused.actor == "us.investigator"
    assert refused.details == {"identifier_type": "email", "limit": 60}
    assert len(audit_log(action="lookup.search")) == 61


def test_retry_after_is_whole_seconds_rounded_up_and_the_window_slides_to_the_millisecond(
        db, limiter, settings, api, us_investigator):
    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 2
    client = api(us_investigator)
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start) as clock:
        assert _ask(client).status_code == 200
        clock.move_to(start + dt.timedelta(seconds=100.25))
        assert _ask(client).status_code == 200
        clock.move_to(start + dt.timedelta(seconds=200.5))
        assert _ask(client)["Retry-After"] == "3400"  # 3399.5 s until the first one leaves
        clock.move_to(start + dt.timedelta(seconds=3599.999))
        response = _ask(client)
        assert response.status_code == 429 and response["Retry-After"] == "1"
        clock.move_to(start + dt.timedelta(seconds=3600))
        assert _ask(client).status_code == 200
        assert _ask(client).status_code == 429  # the one at 100.25 s is still in the window


def test_a_refused_lookup_takes_no_place_in_the_window(db, limiter, settings, api,
                                                       us_investigator):
    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 1
    client = api(us_investigator)
    start = timezone.now()
    with freeze_time(start) as clock:
        assert _ask(client).status_code == 200
        for _ in range(5):
            clock.tick(60)
            assert _ask(client).status_code == 429
        clock.move_to(start + dt.timedelta(hours=1, seconds=1))
        assert _ask(client).status_code == 200


def test_each_member_has_their_own_window(db, limiter, settings, api, us_investigator,
                                          make_member):
    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 1
    colleague = make_member("US", "investigator")
    assert _ask(api(us_investigator)).status_code == 200
    assert _ask(api(us_investigator)).status_code == 429
    assert _ask(api(colleague)).status_code == 200


def test_bad_input_is_refused_before_it_counts(db, limiter, settings, api, us_investigator):
    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 1
    client = api(us_investigator)
    assert _ask(client, {"identifier_type": "phone", "value": "not a number"}).status_code == 400
    assert _ask(client).status_code == 200


def test_with_redis_nothing_is_written_to_the_database_ledger(db, redis_limiter, api,
                                                              us_investigator):
    _ask(api(us_investigator))
    assert not Lookup.objects.exists()
    [key] = redis_limiter.scan_iter(match="wgx-test-limit:*")
    assert key.decode() == f"wgx-test-limit:1:lookup-rate:{us_investigator.pk}"
    assert redis_limiter.zcard(key) == 1
    assert 0 < redis_limiter.pttl(key) <= 3600 * 1000  # the window goes when its hour is over


def test_without_redis_the_ledger_keeps_only_the_last_hour(db, database_limiter, api,
                                                          us_investigator):
    client = api(us_investigator)
    start = timezone.now()
    with freeze_time(start) as clock:
        for _ in range(3):
            _ask(client)
            clock.tick(60)
        clock.move_to(start + dt.timedelta(hours=1, seconds=90))
        _ask(client)
    assert list(Lookup.objects.values_list("requested_by", "performed_at")) == [
        (us_investigator.pk, start + dt.timedelta(seconds=120)),
        (us_investigator.pk, start + dt.timedelta(hours=1, seconds=90)),
    ]


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_with_redis_down_a_lookup_is_refused_503_naming_the_rate_limiter_and_audited(
        db, redis_down, api, us_investigator, mx_case_with_passport, audit_log):
    response = _ask(api(us_investigator), {"identifier_type": "passport", "value": "G12345678"})
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "The lookup rate limiter (Redis) cannot be reached; try again shortly.")
    assert not LookupHit.objects.exists() and not Lookup.objects.exists()
    [refused] = audit_log(action="lookup.unavailable")
    assert refused.outcome == "failure" and refused.actor == "us.investigator"
    assert refused.details["identifier_type"] == "passport"
    assert refused.details["reason"].startswith("rate limiter: ")
    assert audit_log(action="lookup.search") == []


@pytest.fixture
def mx_case_with_passport(make_case, make_member):
    from cases.services import subject_add

    case = make_case("MX")
    subject_add(case=case, actor=make_member("MX", "investigator"), full_name="Someone",
                role="organiser",
                identifiers=[{"identifier_type": "passport", "value": "G12345678"}])
    return case


def test_a_failing_match_keeps_its_own_error_and_the_lookup_still_counts(
        db, redis_limiter, settings, us_investigator):
    from sharing import lookup_limit

    settings.LOOKUP_RATE_LIMIT_PER_HOUR = 1
    now = timezone.now()
    with pytest.raises(ZeroDivisionError):
        with lookup_limit.counting(us_investigator, now):
            1 / 0  # noqa: B018 (the match query failing)
    with pytest.raises(lookup_limit.RateLimited):  # the connection went back in a clean state
        with lookup_limit.counting(us_investigator, now):
            pass


def test_the_script_is_sent_again_when_redis_does_not_know_it(db, redis_limiter, api,
                                                             us_investigator, monkeypatch):
    from sharing import lookup_limit

    assert _ask(api(us_investigator)).status_code == 200
    # As after a Redis restart: the SHA names no script Redis knows (the shared server's
    # script cache is left alone).
    monkeypatch.setattr(lookup_limit, "_SCRIPT_SHA", "0" * 40)
    assert _ask(api(us_investigator)).status_code == 200
    [key] = redis_limiter.scan_iter(match="wgx-test-limit:*")
    assert redis_limiter.zcard(key) == 2
