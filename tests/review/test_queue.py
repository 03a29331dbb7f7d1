"""The reviewer's queue: what waits for me, bulk approval of clean forms only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.actions import submission_save
from reporting.models import Status
from review import actions

pytestmark = pytest.mark.django_db


def _ids(page: str, cls: str) -> set[str]:
    return {chunk.split('"', 1)[0] for chunk in page.split(f'class="{cls}" data-id="')[1:]}


def test_it_shows_submitted_forms_to_the_approver_and_approved_ones_to_the_rechecker(cast, fill, client):
    submitted = fill(cast.jinan_urban, "t3", state="submitted")
    approved = fill(cast.jinan_urban2, "t3", state="approved")
    fill(cast.jinan_county, "t4")  # a draft waits for nobody
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:queue")).content.decode()
    assert _ids(page, "queue-row") == {str(submitted.pk)} and _ids(page, "recheck-row") == set()
    client.force_login(cast.sd_reviewer)
    page = client.get(reverse("review:queue")).content.decode()
    assert _ids(page, "queue-row") == set() and _ids(page, "recheck-row") == {str(approved.pk)}
    client.force_login(cast.qingdao_reviewer)
    page = client.get(reverse("review:queue")).content.decode()
    assert _ids(page, "queue-row") == set() and _ids(page, "recheck-row") == set()


def test_it_lists_the_queue_with_a_constant_number_of_queries(cast, fill, client, django_assert_max_num_queries):
    fill(cast.jinan_urban, "t3", state="submitted")
    fill(cast.jinan_urban2, "t3", state="submitted")
    fill(cast.jinan_county, "t4", state="submitted")
    client.force_login(cast.jinan_reviewer)
    with django_assert_max_num_queries(13):  # session, user, task, page and count of each list, form choices
        page = client.get(reverse("review:queue")).content.decode()
    assert len(_ids(page, "queue-row")) == 3


def test_it_bulk_approves_only_clean_forms_and_says_why_it_skipped_the_others(cast, fill, client):
    clean = fill(cast.jinan_urban, "t3", state="submitted")
    explained = fill(cast.jinan_county, "t4", state="soft_warning")
    key = explained.result["violations"][0]["explanation_key"]
    submission_save(acting_user=cast.jinan_county, submission_id=explained.pk, changes=[],
                    explanations={key: "床位调整，数据属实。"})
    actions.submission_submit(acting_user=cast.jinan_county, submission_id=explained.pk)
    draft = fill(cast.jinan_urban2, "t3")
    client.force_login(cast.jinan_reviewer)
    response = client.post(reverse("review:queue"), {"ids": [clean.pk, explained.pk, draft.pk]}, follow=True)
    page = response.content.decode()
    for s, status in ((clean, Status.APPROVED), (explained, Status.SUBMITTED), (draft, Status.DRAFT)):
        s.refresh_from_db()
        assert s.status == status
    assert "已批量审核通过1份报表" in page
    skipped = page.split('id="bulk-skipped"')[1].split("</div>\n</div>")[0]
    assert "审核提示" in skipped and "填报中" in skipped


def test_it_skips_forms_outside_the_reviewers_scope_in_a_bulk_approval(cast, fill):
    other = fill(cast.qingdao_urban, "t3", state="submitted")
    outcome = actions.approve_bulk(acting_user=cast.jinan_reviewer, submission_ids=[other.pk])
    assert outcome.approved == [] and "管辖范围" in outcome.skipped[0][1]
    other.refresh_from_db()
    assert other.status == Status.SUBMITTED
