"""The statistics role: given by create_member (and the admin's role list), one country, the
import permission and nothing that opens a case."""

from django.contrib.auth.models import Permission
from django.core.management import call_command

from cases.selectors import visible_cases
from core.roles import holds_role_permission
from workinggroup import members
from workinggroup.models import User


def test_create_member_gives_the_statistics_role(db, tmp_path, make_case):
    secret = tmp_path / "password"
    secret.write_text("a-Statistics-password-2026\n")
    call_command("create_member", "mx.figures", "--country", "MX", "--role", "statistics",
                 "--password-file", str(secret))
    member = User.objects.get(username="mx.figures")
    assert member.roles == ["statistics"] and member.country_id == "MX"
    assert holds_role_permission(member, "dashboard.import_flows")
    granted = set(Permission.objects.filter(group__user=member)
                  .values_list("content_type__app_label", "codename"))
    assert granted == {("dashboard", "import_flows")}
    make_case("MX")
    assert not visible_cases(member).exists()


def test_the_admin_offers_the_statistics_role():
    assert "statistics" in members.ROLE_NAMES
