"""Members: groups follow country and roles; create_member refuses bad input whole."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from workinggroup import members
from workinggroup.models import Country, User

GOOD_PASSWORD = "correct-Horse-battery-9"


def group_names(user):
    return sorted(user.groups.values_list("name", flat=True))


@pytest.fixture
def password_file(tmp_path):
    def write(text=GOOD_PASSWORD):
        path = tmp_path / "pw"
        path.write_text(text + "\n")
        return str(path)

    return write


def test_groups_follow_country_and_roles(db, administrator):
    user = members.member_create(
        username="ana", password=GOOD_PASSWORD, roles=["investigator"], country_code="US"
    )
    assert group_names(user) == ["country:US", "role:investigator"]
    members.member_update(
        member=user, actor=administrator, country_code="MX", roles=["liaison", "investigator"],
        oversight=False, is_active=True,
    )
    user.refresh_from_db()
    assert user.country_id == "MX"
    assert group_names(user) == ["country:MX", "role:investigator", "role:liaison"]
    assert user.roles == ["investigator", "liaison"]


def test_administrator_has_no_country_and_is_staff_not_superuser(db):
    admin = members.member_create(username="root2", password=GOOD_PASSWORD,
                                  roles=["administrator"])
    assert admin.country_id is None
    assert admin.is_staff and not admin.is_superuser
    assert group_names(admin) == ["role:administrator"]


def test_role_groups_carry_their_model_permissions(db):
    auditor = Group.objects.get(name="role:auditor")
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in auditor.permissions.all()}
    assert perms == set(members.ROLE_PERMISSIONS["auditor"])


def test_create_member_creates_member_and_audits(db, password_file, audit_log):
    call_command("create_member", "lucia", "--country", "gt", "--role", "liaison",
                 "--email", "l@example.invalid", "--password-file", password_file())
    user = User.objects.get(username="lucia")
    assert (user.country_id, user.roles, user.email) == ("GT", ["liaison"], "l@example.invalid")
    assert user.password.startswith("argon2$argon2id$")
    [entry] = audit_log(action="member.create")
    assert (entry.actor, entry.target_id) == ("system:manage.py create_member", str(user.pk))


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--country", "FR", "--role", "investigator"], GOOD_PASSWORD,
         "country: 'FR' is not a partner country code."),
        (["--country", "US", "--role", "sheriff"], GOOD_PASSWORD, "role: unknown role 'sheriff'"),
        (["--country", "US", "--role", "investigator"], "short", "password: "),
        (["--country", "US", "--role", "investigator"], "password1234", "password: "),
        (["--country", "US", "--role", "investigator", "--oversight"], GOOD_PASSWORD,
         "oversight: only auditors"),
        (["--role", "investigator"], GOOD_PASSWORD, "country: required"),
    ],
)
def test_create_member_refuses_bad_input_with_exit_2(db, password_file, args, password, message):
    before = User.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("create_member", "newbie", *args, "--password-file", password_file(password))
    assert excinfo.value.returncode == 2
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)
    assert User.objects.count() == before


def test_create_member_refuses_duplicate_username(db, password_file, us_investigator):
    with pytest.raises(CommandError, match="username: 'us.investigator' is already taken"):
        call_command("create_member", "us.investigator", "--country", "US", "--role",
                     "investigator", "--password-file", password_file())


def test_create_member_exits_2_with_one_line_from_the_shell(tmp_path, password_file):
    """The real command line, on a throwaway SQLite database: exit status 2, one line."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["WG_VAR_DIR"] = str(tmp_path / "var")

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    result = manage("create_member", "x1", "--country", "ZZ", "--role", "investigator",
                    "--password-file", password_file())
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "CommandError: country: 'ZZ' is not a partner country code.")
    assert "Traceback" not in result.stderr
    listed = manage("shell", "-c", "from workinggroup.models import User; "
                    "print(User.objects.filter(username='x1').count())")
    assert listed.stdout.strip().splitlines()[-1] == "0"


def test_seed_demo_is_idempotent_and_admin_is_not_superuser(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--quiet")
    count = User.objects.count()
    call_command("seed_demo", "--quiet")
    assert User.objects.count() == count == 20  # 6 per country (two liaisons), 2 more
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser and admin.country_id is None
    assert User.objects.get(username="oversight.auditor").oversight is True
    assert not User.objects.filter(is_superuser=True).exists()


def test_demo_administrator_signs_in_to_admin(db, client, settings, sign_in):
    settings.DEBUG = True
    call_command("seed_demo", "--quiet")
    from workinggroup.management.commands.seed_demo import DEMO_PASSWORD

    sign_in(client, User.objects.get(username="admin"), password=DEMO_PASSWORD)
    response = client.get("/admin/workinggroup/user/")
    assert response.status_code == 200
    assert b"us.investigator1" in response.content


def test_a_fourth_country_is_an_admin_task(db, administrator):
    country = members.country_create(code="sv", name_en="El Salvador", name_es="El Salvador",
                                     actor=administrator)
    user = members.member_create(username="sv1", password=GOOD_PASSWORD,
                                 roles=["investigator"], country_code="SV")
    assert country.group.name == "country:SV"
    assert group_names(user) == ["country:SV", "role:investigator"]


def test_seed_demo_refuses_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused with DEBUG=False") as excinfo:
        call_command("seed_demo", "--quiet")
    assert excinfo.value.returncode == 2
    assert User.objects.count() == 0


def test_renaming_a_country_is_audited(db, administrator, audit_log):
    country = members.country_update(country=Country.objects.get(code="MX"), name_en="Mexico",
                                      name_es="Estados Unidos Mexicanos", actor=administrator)
    country.refresh_from_db()
    assert (country.name_en, country.name_es) == ("Mexico", "Estados Unidos Mexicanos")
    [entry] = audit_log(action="country.update")
    assert (entry.actor, entry.target_id) == ("administrator", "MX")
    assert entry.details["name_es"] == "Estados Unidos Mexicanos"


def _update(member, actor, **changes):
    values = dict(country_code=member.country_id, roles=member.roles,
                  oversight=member.oversight, is_active=member.is_active)
    values.update(changes)
    return members.member_update(member=member, actor=actor, **values)


def test_member_update_saves_email_and_name_and_audits_which(db, administrator, us_investigator,
                                                             audit_log):
    _update(us_investigator, administrator, email=" ana@example.org ", first_name="Ana",
            last_name="López")
    us_investigator.refresh_from_db()
    assert (us_investigator.email, us_investigator.first_name, us_investigator.last_name) == (
        "ana@example.org", "Ana", "López")
    [entry] = audit_log(action="member.update")
    assert entry.details["fields"] == ["email", "first_name", "last_name"]
    assert "ana@example.org" not in str(entry.details)  # names of fields, not their values
    assert "is_active" not in entry.details


@pytest.mark.parametrize("changes, message", [
    ({"email": "not-an-address"}, "email: not a valid e-mail address"),
    ({"first_name": "x" * 151}, "first_name: text of at most 150 characters"),
    ({"last_name": 12}, "last_name: text of at most 150 characters"),
])
def test_member_update_refuses_bad_email_or_name_by_name_and_changes_nothing(
        db, administrator, us_investigator, audit_log, changes, message):
    before = us_investigator.email
    with pytest.raises(members.MemberError) as refused:
        _update(us_investigator, administrator, country_code="MX", **changes)
    assert str(refused.value) == message
    us_investigator.refresh_from_db()
    assert (us_investigator.email, us_investigator.country_id) == (before, "US")
    assert audit_log(action="member.update") == []


def test_member_update_records_disabling_and_re_enabling(db, administrator, us_investigator,
                                                         audit_log):
    _update(us_investigator, administrator, is_active=False)
    us_investigator.refresh_from_db()
    assert not us_investigator.is_active
    _update(us_investigator, administrator, is_active=True)
    us_investigator.refresh_from_db()
    assert us_investigator.is_active
    off, on = audit_log(action="member.update")
    assert off.details["is_active"] is False and on.details["is_active"] is True
    assert len(audit_log(action="member.disable")) == 1


def test_unlock_member_refuses_an_unknown_member_with_exit_2(db):
    with pytest.raises(CommandError, match="username: no member 'nobody'") as refused:
        call_command("unlock_member", "nobody")
    assert refused.value.returncode == 2


def test_country_codes_are_checked_by_one_rule(db, administrator):
    for bad in ("U", "USA", "1A", "ÜS", ""):
        with pytest.raises(members.MemberError, match="^code: .* is not a country code"):
            members.country_create(code=bad, name_en="x", name_es="x", actor=administrator)
    with pytest.raises(members.MemberError, match="^country: 'FR' is not a partner"):
        members.validate_member(country_code="FR", roles=["investigator"], oversight=False)
    assert members.validate_member(country_code=" mx", roles=["investigator"],
                                   oversight=False).code == "MX"
