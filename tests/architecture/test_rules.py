"""The architecture contract, enforced: layers point one way, writes go through actions, statuses through the
workflow. Each rule is also run on a deliberately bad snippet, so a rule that stopped finding anything fails."""

from __future__ import annotations

import pytest

from tests.architecture import rules


def _all(rule) -> list[str]:
    out: list[str] = []
    for rel, text in rules.source_files():
        out += rule(rel, text)
    return out


def test_it_places_every_app_in_the_layer_order():
    missing = [app for app in rules.project_apps() if app not in rules.LAYERS]
    assert missing == [], f"add these apps to LAYERS (tests/architecture/rules.py) and docs/ARCHITECTURE.md: {missing}"


def test_it_finds_no_import_against_the_layer_order():
    apps = rules.project_apps()
    assert _all(lambda rel, text: rules.import_violations(rel, text, apps)) == []


def test_it_finds_no_orm_write_outside_the_action_modules():
    assert _all(rules.write_violations) == []


def test_it_finds_no_status_assignment_outside_the_workflow():
    assert _all(rules.status_violations) == []


@pytest.mark.parametrize(("rel", "text"), [
    ("reporting/views.py", "from review.models import FieldComment\n"),
    ("accounts/models.py", "def f():\n    import reporting.models\n"),
    ("engine/expr.py", "from django.db import models\n"),
    ("exports/template.py", "from review import selectors\n"),
])
def test_it_refuses_an_upward_import(rel, text):
    assert rules.import_violations(rel, text, ["engine", "accounts", "reporting", "exports", "review"])


@pytest.mark.parametrize("text", [
    "def v(request):\n    Submission.objects.filter(pk=1).update(values={})\n",
    "def v(request, s):\n    s.save(update_fields=['values'])\n",
    "def v(request, s):\n    s.members.create(key='x')\n",
    "def v(request, s):\n    Token.objects.get_or_create(user=request.user)\n",
    "def v(cursor):\n    cursor.execute('UPDATE reporting_submission SET result = %s')\n",
])
def test_it_refuses_an_orm_write_in_a_view(text):
    assert rules.write_violations("reporting/views.py", text)


def test_it_lets_dicts_update_and_actions_write():
    assert rules.write_violations("reporting/views.py", "def v(d):\n    d.update(a=1)\n") == []
    assert rules.write_violations("reporting/actions.py", "def a(s):\n    s.save()\n") == []


@pytest.mark.parametrize("text", [
    "def a(s):\n    s.status = 'approved'\n",
    "def a():\n    Submission.objects.filter(pk=1).update(status='approved')\n",
    "def a(t, u):\n    return Submission(task=t, unit=u, status='draft')\n",
])
def test_it_refuses_a_status_change_outside_the_workflow(text):
    assert rules.status_violations("review/actions.py", text)
    assert rules.status_violations("reporting/workflow.py", text) == []
