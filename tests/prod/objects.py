"""Real objects of one province for the production tests (the authorization matrix, the schema fuzzing): a notice
with an attachment, an answered question promoted to a FAQ entry, report evidence (a stored file), a sampling batch
with a sample and an open rectification item, an adjusted scoring scheme, all made through the action layer by the
province's own users. Nothing here is visible outside that province except what is platform-wide by design (FAQ
entries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Unit, User
from reporting.models import Submission
from tests.cast import Cast
from tests.files.samples import pdf_bytes, upload
from tests.filling import APPROVED, fill_form


@dataclass(frozen=True)
class ProvinceObjects:
    notice_id: int
    notice_file_id: int  # StoredFile of the notice's attachment
    question_id: int  # answered by the province's reviewer
    faq_id: int  # promoted from that question by the national reviewer
    attachment_id: int  # selfassessment.Attachment of the draft submission
    file_id: int  # its StoredFile
    approved_submission_id: int
    batch_id: int
    sample_id: int
    item_id: int  # an open rectification item on the sample
    scheme_id: int  # the province's adjusted scoring scheme

    def route_ids(self) -> dict[str, int]:
        """URL name → the pk of this province's object for that route."""
        return {
            "api-notice-detail": self.notice_id, "communication:notice": self.notice_id,
            "communication:notice_withdraw": self.notice_id,
            "api-question-detail": self.question_id, "api-question-act": self.question_id,
            "communication:question": self.question_id, "communication:question_act": self.question_id,
            "communication:faq_promote": self.question_id, "communication:faq_withdraw": self.faq_id,
            "api-attachment": self.attachment_id, "files:download": self.file_id,
            "sampling:batch": self.batch_id, "sampling:export": self.batch_id,
            "sampling:sample": self.sample_id, "sampling:raise": self.sample_id, "sampling:onsite": self.sample_id,
            "sampling:item": self.item_id, "sampling:act": self.item_id,
            "api-rectification-detail": self.item_id, "api-rectification-answer": self.item_id,
            "api-rectification-close": self.item_id, "api-rectification-reopen": self.item_id,
            "api-rectification-escalate": self.item_id,
            "results:dry_run": self.scheme_id,
        }


def _free_field(submission: Submission) -> str:
    return next(f["code"] for f in submission.form_version.definition["fields"]
                if f.get("type") == "count" and f["code"] in (submission.values or {}))


def build_province_objects(cast: Cast, *, province: str, filler: User, reviewer: User, draft_code: str,
                           approved_code: str, form_code: str = "t3") -> ProvinceObjects:
    """`filler` (an alliance) asks and attaches evidence on its `draft_code` form; `reviewer` (the province's)
    publishes, answers, samples the approved form of `approved_code` and raises an item on it. Files are stored in
    the configured default storage (point it at a temporary folder)."""
    from communication.actions import faq_promote, notice_publish, question_ask, question_transition
    from communication.models import NoticeAttachment
    from results import actions as results_actions
    from sampling.actions import batch_create, item_raise
    from sampling.models import Sample
    from sampling.selection import Params
    from selfassessment.actions import attachment_add

    notice = notice_publish(acting_user=reviewer, title=f"{province}测试通知", body="请按时填报。",
                            send_mail=False, files=[upload("通知附件.pdf", pdf_bytes(f"{province} notice"))])
    notice_file_id = NoticeAttachment.objects.filter(notice=notice).values_list("stored_file_id", flat=True)[0]
    question = question_ask(acting_user=filler, category="system", title=f"{province}的系统问题",
                            body="上传附件时提示失败，怎么办？")
    question_transition(acting_user=reviewer, question_id=question.pk, action="answer", text="请更换浏览器后重试。")
    faq = faq_promote(acting_user=cast.nation_reviewer, question_id=question.pk)
    draft = cast.submission(draft_code, form_code)
    attachment = attachment_add(acting_user=filler, submission_id=draft.pk,
                                upload=upload("佐证材料.pdf", pdf_bytes(f"{province} evidence")))
    approved = fill_form(cast.submission(approved_code, form_code), state=APPROVED)
    batch = batch_create(acting_user=reviewer, task=cast.task, scope=Unit.objects.get(code=province),
                         params=Params(size=1, seed=1, random_share=1, forms=[form_code]))
    sample = Sample.objects.get(batch=batch, submission=approved)
    item = item_raise(acting_user=reviewer, submission_id=approved.pk, field_code=_free_field(approved),
                      text="请核实该项数据。", deadline=timezone.localdate() + dt.timedelta(days=14),
                      batch_id=batch.pk)
    national = results_actions.scheme_load(acting_user=cast.nation_reviewer, annex="a2")  # idempotent
    scheme = results_actions.scheme_adjust(acting_user=reviewer, base_id=national.pk, weights={"18a": 1},
                                           reason=f"{province}重点")
    return ProvinceObjects(
        notice_id=notice.pk, notice_file_id=notice_file_id, question_id=question.pk, faq_id=faq.pk,
        attachment_id=attachment.pk, file_id=attachment.file_id, approved_submission_id=approved.pk,
        batch_id=batch.pk, sample_id=sample.pk, item_id=item.pk, scheme_id=scheme.pk)


def sichuan_objects(cast: Cast) -> ProvinceObjects:
    """四川's objects: outside every Shandong user's scope, inside the national users'."""
    return build_province_objects(cast, province="510000", filler=cast.zy_urban, reviewer=cast.sc_reviewer,
                                  draft_code="5120001", approved_code="5101001")


def shandong_objects(cast: Cast) -> ProvinceObjects:
    """山东's objects: 3701001's evidence and question, 济南's other alliance approved and sampled."""
    return build_province_objects(cast, province="370000", filler=cast.jinan_urban, reviewer=cast.sd_reviewer,
                                  draft_code="3701001", approved_code="3702001")
