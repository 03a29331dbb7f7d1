"""Read-side of reports, always reached through a submission the user may see (reporting.selectors)."""

from __future__ import annotations

from dataclasses import dataclass

from reporting.models import Submission

from .models import Report, TaskReport
from .sanitize import has_text


def plan_for(submission: Submission) -> TaskReport | None:
    """The framework this submission's unit writes for its task, or None (no report asked for)."""
    cache = getattr(submission, "_report_plan", False)
    if cache is not False:
        return cache
    plan = (TaskReport.objects.select_related("framework")
            .filter(task_id=submission.task_id, unit_level=submission.unit.level).first())
    if plan is not None and submission.form_version.definition.get("parent"):
        plan = None
    submission._report_plan = plan
    return plan


def report_for(submission: Submission) -> Report | None:
    """The stored report, or an unsaved empty one on the task's framework, or None when none is asked for."""
    report = Report.objects.select_related("framework", "stamped").filter(submission=submission).first()
    if report is not None:
        return report
    plan = plan_for(submission)
    return Report(submission=submission, framework=plan.framework) if plan is not None else None


@dataclass
class Progress:
    written: int
    required: int
    stamped: bool
    stamped_required: bool

    @property
    def complete(self) -> bool:
        return self.written >= self.required and (self.stamped or not self.stamped_required)

    @property
    def label(self) -> str:
        if self.written == 0 and not self.stamped:
            return "未开始"
        if self.written < self.required:
            return f"已写{self.written}/{self.required}节"
        if self.stamped_required and not self.stamped:
            return "待上传盖章扫描件"
        return "已完成"


def progress_of(report: Report, required_for_submit: bool = True) -> Progress:
    required = [s["key"] for s in report.framework.writable_sections if s.get("required")]
    written = sum(1 for key in required if has_text(report.sections.get(key, "")))
    return Progress(written=written, required=len(required), stamped=report.stamped_id is not None,
                    stamped_required=required_for_submit)


def missing_sections(report: Report) -> list[dict]:
    return [s for s in report.framework.writable_sections
            if s.get("required") and not has_text(report.sections.get(s["key"], ""))]


def board_notes(submission_ids: list[int]) -> dict[int, str]:
    """Report status per submission for the progress board (two queries whatever the count)."""
    subs = list(Submission.objects.filter(pk__in=submission_ids).values_list("id", "task_id", "unit__level"))
    if not subs:
        return {}
    plans = {(p.task_id, p.unit_level): p for p in TaskReport.objects.select_related("framework")
             .filter(task_id__in={t for _, t, _ in subs})}
    reports = {r.submission_id: r for r in Report.objects.select_related("framework")
               .filter(submission_id__in=submission_ids)}
    out = {}
    for pk, task_id, level in subs:
        plan = plans.get((task_id, level))
        if plan is None:
            continue
        report = reports.get(pk) or Report(framework=plan.framework)
        out[pk] = "自评报告：" + progress_of(report, plan.required_for_submit).label
    return out
