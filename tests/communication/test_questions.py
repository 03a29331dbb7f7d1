"""留言板: routing to the responsible level, the status table, search, similar questions, FAQ at the field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communication import actions, selectors
from communication.models import QuestionCategory, QuestionStatus
from tests import filling as demo

pytestmark = pytest.mark.django_db


def _ask(user, title="急诊人次如何统计", body="急诊人次是否包含留观？", category=QuestionCategory.SYSTEM, **kw):
    return actions.question_ask(acting_user=user, category=category, title=title, body=body, **kw)


def test_it_routes_system_questions_to_the_supervisor_and_indicator_questions_to_the_nation(cast):
    system = _ask(cast.jinan_urban)
    indicator = _ask(cast.jinan_urban, category=QuestionCategory.INDICATOR)
    assert system.responsible_unit.code == "370100"
    assert indicator.responsible_unit.code == "100000"
    assert selectors.can_answer(cast.jinan_reviewer, system)
    assert not selectors.can_answer(cast.jinan_reviewer, indicator)
    assert not selectors.can_answer(cast.qingdao_reviewer, system)
    assert selectors.can_answer(cast.nation_reviewer, system)  # the level above may step in
    assert not selectors.can_answer(cast.jinan_filler, system)


def test_it_moves_a_question_through_its_states_and_refuses_illegal_moves(cast):
    q = _ask(cast.jinan_urban)
    with pytest.raises(actions.CommError) as e:
        actions.question_transition(acting_user=cast.jinan_urban, question_id=q.pk, action="answer", text="自己答")
    assert e.value.code == "permission"
    q = actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer",
                                    text="包含留观。")
    assert q.status == QuestionStatus.ANSWERED and q.answered_at
    q = actions.question_transition(acting_user=cast.jinan_urban, question_id=q.pk, action="follow_up",
                                    text="那转诊呢？")
    assert q.status == QuestionStatus.PENDING
    q = actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="escalate")
    assert q.responsible_unit.code == "370000" and q.status == QuestionStatus.PENDING
    assert not selectors.can_answer(cast.jinan_reviewer, q)
    q = actions.question_transition(acting_user=cast.sd_reviewer, question_id=q.pk, action="answer", text="不含。")
    q = actions.question_transition(acting_user=cast.jinan_urban, question_id=q.pk, action="close")
    assert q.status == QuestionStatus.CLOSED
    with pytest.raises(actions.CommError) as e:
        actions.question_transition(acting_user=cast.sd_reviewer, question_id=q.pk, action="answer", text="再答")
    assert e.value.code == "status"
    assert [t.action for t in q.transitions.all()] == ["answer", "follow_up", "escalate", "answer", "close"]
    with pytest.raises(actions.CommError):
        actions.question_transition(acting_user=cast.jinan_urban, question_id=q.pk, action="follow_up", text="")


def test_it_keeps_questions_inside_the_askers_scope(cast, client):
    q = _ask(cast.jinan_urban)
    for user, status in ((cast.jinan_urban, 200), (cast.jinan_reviewer, 200), (cast.sd_reviewer, 200),
                         (cast.nation_reviewer, 200), (cast.jinan_urban2, 404), (cast.qingdao_reviewer, 404),
                         (cast.zy_urban, 404), (cast.jinan_filler, 404)):
        client.force_login(user)
        assert client.get(reverse("communication:question", args=[q.pk])).status_code == status, user


def test_it_finds_questions_by_words_in_the_answer(cast, client):
    q = _ask(cast.jinan_urban, title="床位数口径", body="实际开放床位还是编制床位？")
    actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer",
                                text="按实际开放床位填报。")
    _ask(cast.jinan_urban, title="账号无法登录", body="提示密码错误", category=QuestionCategory.ACCOUNT)
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("communication:questions"), {"q": "开放床位"}).content.decode()
    assert "床位数口径" in page and "账号无法登录" not in page
    page = client.get(reverse("communication:questions"), {"category": "account"}).content.decode()
    assert "床位数口径" not in page and "账号无法登录" in page


def test_it_suggests_similar_answered_questions_before_posting(cast, client):
    q = _ask(cast.jinan_urban, title="门诊人次是否包含体检人次", body="健康体检人次要不要算在门诊人次里？")
    actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer",
                                text="体检人次不计入门诊人次。")
    client.force_login(cast.jinan_urban)
    data = {"category": "system", "title": "体检人次算不算门诊人次", "body": "体检的人次是否计入门诊？"}
    page = client.post(reverse("communication:question_new"), data).content.decode()
    assert "相似问题" in page and "体检人次不计入门诊人次。" in page
    assert selectors.questions_for(cast.jinan_urban).count() == 1  # nothing posted yet
    response = client.post(reverse("communication:question_new"), {**data, "confirm": "1"})
    assert response.status_code == 302
    assert selectors.questions_for(cast.jinan_urban).count() == 2
    unrelated = client.post(reverse("communication:question_new"),
                            {"category": "account", "title": "如何修改密码", "body": "忘记了原密码"})
    assert unrelated.status_code == 302  # nothing similar: posted at once
    assert client.get(reverse("communication:question_similar"), {"q": "体检 门诊人次"}).json()["results"]


def test_it_shows_a_promoted_answer_next_to_its_field_on_the_entry_page(cast, client):
    q = _ask(cast.jinan_urban, category=QuestionCategory.INDICATOR, title="医联体内上转患者人次的口径",
             body="上转是否包含会诊？", form_code="t3", field_code="outpatient_visits")
    actions.question_transition(acting_user=cast.nation_reviewer, question_id=q.pk, action="answer",
                                text="会诊不计入上转患者人次。")
    with pytest.raises(actions.CommError):
        actions.faq_promote(acting_user=cast.jinan_reviewer, question_id=q.pk)
    entry = actions.faq_promote(acting_user=cast.nation_reviewer, question_id=q.pk)
    assert (entry.form_code, entry.field_code) == ("t3", "outpatient_visits")
    submission = cast.submission(cast.jinan_urban2, "t3")
    client.force_login(cast.jinan_urban2)
    page = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    field_start = page.index('data-field="outpatient_visits"')
    faq_at = page.index("会诊不计入上转患者人次。")
    next_field = page.find('class="field-row', field_start + 10)
    assert field_start < faq_at < next_field
    assert page.count("常见问题（") == 1
    assert "会诊不计入上转患者人次。" in client.get(reverse("communication:faq")).content.decode()


def test_it_refuses_a_question_about_a_field_that_does_not_exist(cast):
    with pytest.raises(actions.CommError):
        _ask(cast.jinan_urban, form_code="t3", field_code="no_such_field")


def test_it_counts_questions_and_soft_hits_per_field_and_month(cast, client, fill):
    _ask(cast.jinan_urban, category=QuestionCategory.INDICATOR, form_code="t3", field_code="outpatient_visits")
    _ask(cast.qingdao_urban, category=QuestionCategory.INDICATOR, form_code="t3", field_code="outpatient_visits")
    client.force_login(cast.analyst)
    rows = selectors.field_stats()
    row = next(r for r in rows if r["field_code"] == "outpatient_visits")
    assert row["questions"] == 2 and row["form_code"] == "t3"
    page = client.get(reverse("communication:stats")).content.decode()
    assert "outpatient_visits" in page
    client.force_login(cast.jinan_reviewer)
    assert client.get(reverse("communication:stats")).status_code == 403


def test_it_shows_script_payloads_in_questions_and_answers_escaped(cast, client):
    payload = '<img src=x onerror=alert(1)>=CMD|"/c calc"!A1'
    q = _ask(cast.jinan_urban, title=payload, body=payload)
    actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer", text=payload)
    assert q.title == payload
    client.force_login(cast.jinan_reviewer)
    for url in (reverse("communication:question", args=[q.pk]), reverse("communication:questions")):
        html = client.get(url).content.decode()
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_counts_soft_check_hits_at_the_fields_the_check_names(cast, fill):
    submission = fill(cast.jinan_filler, "t2", state=demo.SOFT_WARNING)
    soft = [v for v in submission.result.get("violations", []) if v.get("severity") == "soft"]
    assert soft, "the demo's soft_warning state leaves a soft violation"
    rows = {(r["form_code"], r["field_code"]): r for r in selectors.field_stats(cast.task)}
    for field_code in soft[0]["fields"]:
        assert rows[("t2", field_code)]["soft_hits"] >= 1
