"""seed_national builds the national hierarchy and filled forms of several years through the actions."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent, Unit, UnitLevel, User
from reporting.models import Status, Submission, Task

pytestmark = pytest.mark.django_db


def test_it_seeds_all_provinces_and_cities_alliances_members_and_two_years(settings):
    out = io.StringIO()
    call_command("seed_national", alliances=4, members=2, years=2, forms="t3,t4", password="Seed#pass-2019",
                 stdout=out)
    assert Unit.objects.filter(level=UnitLevel.PROVINCE).count() == 32
    assert Unit.objects.filter(level=UnitLevel.CITY).count() == 353
    alliances = Unit.objects.filter(level__in=[UnitLevel.URBAN_ALLIANCE, UnitLevel.COUNTY_ALLIANCE])
    assert alliances.count() == 4 and Unit.objects.filter(level=UnitLevel.MEMBER).count() == 8
    assert User.objects.filter(username__in=[a.code for a in alliances]).count() == 4
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert User.objects.get(username=alliances[0].code).check_password("Seed#pass-2019")  # the platform logs in
    assert {t.code for t in Task.objects.all()} == {"n2018", "n2019"}
    current = Task.objects.get(is_current=True)
    assert current.code == "n2019" and current.previous.code == "n2018"
    earlier = Submission.objects.filter(task__code="n2018", form_code__in=["t3", "t4"])
    assert earlier.count() == 4 and all(s.status in (Status.SUBMITTED, Status.DRAFT) for s in earlier)
    assert earlier.filter(status=Status.SUBMITTED).exists()
    drafts = Submission.objects.filter(task__code="n2019", form_code__in=["t3", "t4"])
    assert all(s.status == Status.DRAFT and s.members.count() == 2 and s.values for s in drafts)
    assert AuditEvent.objects.filter(action="unit_create").count() == Unit.objects.count()  # through the actions
    assert "ANALYZE" in out.getvalue() or settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")

    call_command("seed_national", alliances=4, members=2, years=2, forms="t3,t4", stdout=io.StringIO())
    assert Unit.objects.filter(level=UnitLevel.MEMBER).count() == 8  # a second run adds nothing
    assert Submission.objects.filter(task__code="n2019", form_code="t3").first().members.count() == 2
