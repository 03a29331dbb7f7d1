"""The review view of one submission: values by section with labels and units, members, violations with the
filler's explanations, indicators with targets and attainment, the previous period side by side with Δ%,
field comments and the history; the reviewer's buttons."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.models import Status, Submission, Task
from review import actions
from tests import filling as demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_previous(cast):
    """A 2018 task before the cast's, with the same unit's form approved."""
    from reporting.actions import submissions_ensure, task_create

    prev = task_create(acting_user=None, code="t2018", name="2018年分级诊疗第三方评估",
                       period_start=cast.task.period_start.replace(year=2018),
                       period_end=cast.task.period_end.replace(year=2018),
                       window_open=cast.task.window_open, window_close=cast.task.window_close,
                       catalog_slug=cast.task.catalog_slug, is_current=False)
    Task.objects.filter(pk=cast.task.pk).update(previous=prev, is_current=True)
    cast.task.refresh_from_db()
    submissions_ensure(acting_user=None, task=prev)
    old = Submission.objects.get(task=prev, unit=cast.jinan_urban.unit, form_code="t3")
    return demo.fill_form(old, state="approved")


def test_it_shows_values_by_section_with_labels_units_and_the_previous_period(cast, with_previous, client):
    current = demo.fill_form(cast.submission(cast.jinan_urban, "t3"), previous=with_previous)
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:submission", args=[current.pk])).content.decode()
    definition = current.form_version.definition
    field = next(f for f in definition["fields"] if f["type"] == "count" and f["code"] in with_previous.values
                 and with_previous.values[f["code"]])
    row = page.split(f'data-field="{field["code"]}" data-member=""')[1].split("</tr>")[0]
    assert field["label"] in row and field["unit"] in row
    assert f'{current.values[field["code"]]:,}' in row and f'{with_previous.values[field["code"]]:,}' in row
    assert "%" in row  # the change against 2018
    for section in {f["section"][0] for f in definition["fields"]}:
        assert section in page
    assert page.count('class="card mb-3 member-card"') == current.members.count() == 3


def test_it_shows_indicators_with_targets_and_attainment(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    definition = submission.form_version.definition
    for ind in definition["indicators"]:
        assert f'data-code="{ind["code"]}"' in page
    with_target = [i for i in definition["indicators"] if i.get("target")]
    if with_target:
        assert ("达标" in page) or ("无法计算" in page)



def test_it_shows_where_a_target_reads_the_documents_words_more_strictly(cast, fill, client):
    submission = fill(cast.jinan_filler, "t2", state="submitted")
    client.force_login(cast.sd_reviewer)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    row = page.split('data-code="t2.i19"')[1].split("</tr>")[0]
    assert "≥90%" in row and 'class="text-muted target-note"' in row and "90%左右" in row


def test_it_shows_violations_with_the_fillers_explanation(cast, fill, client):
    from reporting.actions import submission_save

    submission = fill(cast.jinan_county, "t4", state="soft_warning")
    key = submission.result["violations"][0]["explanation_key"]
    submission_save(acting_user=cast.jinan_county, submission_id=submission.pk, changes=[],
                    explanations={key: "本年新建病区，床位增加。"})
    actions.submission_submit(acting_user=cast.jinan_county, submission_id=submission.pk)
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "填写说明：本年新建病区，床位增加。" in page
    assert 'id="approve-button"' in page and 'id="reject-button"' in page


def test_it_rejects_with_per_field_comments_from_the_value_rows(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    code = next(iter(submission.values))
    member = submission.members.first()
    member_code = next(iter(member.values))
    client.force_login(cast.jinan_reviewer)
    client.post(reverse("review:act", args=[submission.pk]), {
        "action": "reject", "reason": "请核实标注的指标",
        f"comment::{code}": "与上年差异大", f"comment:{member.key}:{member_code}": "成员单位数据缺失",
        "comment_field": [""], "comment_text": [""],
    })
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
    comments = {(c.member_key, c.field_code, c.text) for c in submission.field_comments.all()}
    assert comments == {("", code, "与上年差异大"), (member.key, member_code, "成员单位数据缺失")}
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "与上年差异大" in page and "成员单位数据缺失" in page and "请核实标注的指标" in page


def test_it_refuses_a_rejection_without_a_reason_on_the_page(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    client.force_login(cast.jinan_reviewer)
    response = client.post(reverse("review:act", args=[submission.pk]), {"action": "reject", "reason": " "},
                           follow=True)
    assert "驳回须填写原因" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED


def test_it_shows_the_transition_history(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="rechecked")
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    history = page.split('id="history"')[1]
    for action in ("start", "submit", "approve", "recheck"):
        assert f'data-action="{action}"' in history
    assert "复核通过" in history


def test_it_shows_no_reviewer_buttons_to_someone_who_may_not_act(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    client.force_login(cast.analyst)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert 'id="approve-button"' not in page and "不能对该报表执行审核操作" in page


def test_the_data_entry_page_carries_the_submit_box_and_the_reviewers_actions(cast, fill, client):
    from django.urls import NoReverseMatch

    submission = fill(cast.jinan_urban, "t3")
    try:
        url = reverse("submission_entry", args=[submission.pk])
    except NoReverseMatch:
        pytest.skip("the data-entry page is not there")
    client.force_login(cast.jinan_urban)
    page = client.get(url).content.decode()
    assert 'id="submit-box"' in page and 'id="submit-button"' in page
    actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    client.force_login(cast.jinan_reviewer)
    page = client.get(url).content.decode()
    assert 'id="review-box"' in page and 'id="approve-button"' in page and 'id="submit-button"' not in page
