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


def task_plans(task_id: int) -> dict[str, TaskReport]:
    """unit level -> plan of a task (one query per task and request: kept on the caller's task object)."""
    return {p.unit_level: p for p in TaskReport.objects.select_related("framework").filter(task_id=task_id)}


def board_notes(task, cells: list[tuple[int, str]]) -> dict[int, str]:
    """Report status per submission for the progress board: `cells` are (submission id, unit level); two
    queries whatever the count (none for the reports when the task asks for none)."""
    plans = getattr(task, "_report_plans", None)
    if plans is None:
        plans = task._report_plans = task_plans(task.pk)
    wanted = [pk for pk, level in cells if level in plans]
    if not wanted:
        return {}
    reports = {r.submission_id: r for r in Report.objects.filter(submission_id__in=wanted)
               .only("id", "submission_id", "sections", "stamped_id", "framework_id")}
    out = {}
    for pk, level in cells:
        plan = plans.get(level)
        if plan is None:
            continue
        report = reports.get(pk) or Report()
        report.framework = plan.framework  # progress as the task asks now
        out[pk] = "自评报告：" + progress_of(report, plan.required_for_submit).label
    return out
