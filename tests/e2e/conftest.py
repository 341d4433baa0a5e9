"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Fixtures for every browser test (reuse them):

- pytest-playwright's `browser`, `new_context`, `page`: Debian's chromium
  (`/usr/bin/chromium`, or $E2E_CHROMIUM), launched with --headless --no-sandbox
  --disable-gpu --disable-background-networking; Playwright's own browser download is never
  used. `base_url` is the live server's, so `page.goto("/cases/")` works.
- `browser_page(language="en")`: a fresh context (its own cookies) and page; "es" sends
  Accept-Language: es and the Spanish switch is then used as a person would.
- `sign_in_page(page, user)`: the real sign-in, password then the TOTP code the member's app
  shows (the member has enrolled a device already); lands where a member lands.
- `switch_language(page, "es")`: the language form in the header of every page.
- `axe_check(page)`: axe-core's WCAG 2.1 A and AA rules on the page; fails listing violations.
- `screenshot(page, name)`: a full-page PNG in the run's folder, `screenshot_dir`
  (var/e2e/<run id>/, or $E2E_SCREENSHOTS; never committed).
- `throttle(page, bytes_per_second)`: the connection throttled through the DevTools Protocol.

Without chromium or Playwright the browser tests are left out with one line at the end of
the run that says why, except under REQUIRE_SERVICES=1 (CI), where that is an error.
"""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "persona-Password-2026"  # the personas' password (tests/conftest.py)


def _missing() -> str:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"browser tests skipped: {exc.name} is not installed (make install-dev)"
    if not Path(CHROMIUM).exists():
        return f"browser tests skipped: no chromium at {CHROMIUM} (apt-get install -y chromium)"
    return ""


MISSING = _missing()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests last (after pytest-django's own ordering): Playwright's event loop stays
    in this thread until the session ends, and no other test should run beside it. Without
    a browser they are left out with one line that says why."""
    here = Path(__file__).parent
    browser = [item for item in items if here in Path(str(item.fspath)).parents]
    items[:] = [item for item in items if item not in browser] + browser
    if not MISSING or not browser:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        raise pytest.UsageError(f"REQUIRE_SERVICES=1 but {MISSING}")
    # Left out as a group, said once at the end (pytest_terminal_summary), never silently.
    config.hook.pytest_deselected(items=browser)
    items[:] = items[: len(items) - len(browser)]
    config.stash[_LEFT_OUT] = len(browser)


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left_out = config.stash.get(_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} {MISSING}", yellow=True)


def pytest_report_header(config):
    return MISSING or f"browser tests: {CHROMIUM}"


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread from the first browser test
    to the end of the session; the ORM calls a test makes between browser steps (and the
    flush after it) are ordinary synchronous calls all the same. Browser tests run last, so
    no other test (`check --deploy` among them) sees the variable."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _migrated_rows(transactional_db):
    """Every browser test signs in members of a country: an earlier flush may have taken
    the founding countries (tests/conftest.py, restore_migrated_rows)."""
    from tests.conftest import restore_migrated_rows

    restore_migrated_rows()


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    from django.utils import translation

    translation.activate("en")  # the walk's Spanish stays in the walk


@pytest.fixture(scope="session")
def screenshot_dir():
    """The folder this run writes its screenshots to (named by the run's start time)."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        path = Path(folder)
    else:
        run = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = ROOT / "var" / "e2e" / f"run-{run}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium, never a browser of its own."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": LAUNCH_ARGS,
            "headless": True}


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto() are the live server's."""
    return live_server.url


@pytest.fixture
def browser_page(new_context):
    """browser_page(language="en") -> a page in a context of its own, at a laptop's size."""

    def open_page(language="en", viewport=None):
        context = new_context(
            locale=language,
            extra_http_headers={"Accept-Language": language},
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        return context.new_page()

    return open_page


@pytest.fixture
def enrolled(db):
    """enrolled(user) -> the member's confirmed TOTP device (their authenticator app)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def enrol(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        return device or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    return enrol


@pytest.fixture
def sign_in_page(enrolled, totp_code):
    """sign_in_page(page, user): password, then the TOTP code, typed into the forms."""

    def sign_in(page, user, password=PASSWORD):
        device = enrolled(user)
        page.goto("/signin/")
        page.locator("#id_username").fill(user.get_username())
        page.locator("#id_password").fill(password)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url("**/signin/verify/**")
        page.locator("#id_code").fill(totp_code(device))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        assert "/signin/" not in page.url, "the TOTP step failed"
        return page

    return sign_in


@pytest.fixture
def switch_language():
    """switch_language(page, code): the header's language form, as a person uses it."""

    def switch(page, code):
        page.select_option("#language-choice", code)
        page.locator("form.language button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == code

    return switch


@pytest.fixture
def axe_check():
    """axe_check(page): no violation of WCAG 2.1 A/AA rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        violations = results.response["violations"]
        assert not violations, f"{page.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in violations
        )

    return check


@pytest.fixture
def screenshot(screenshot_dir):
    """screenshot(page, name) -> the path of a full-page PNG of the page."""

    def shoot(page, name):
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def throttle():
    """throttle(page, bytes_per_second): slow the page's connection both ways (CDP)."""

    def slow(page, rate):
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20,
            "downloadThroughput": rate, "uploadThroughput": rate,
        })
        return session

    return slow
