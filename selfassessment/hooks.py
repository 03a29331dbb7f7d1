"""How the report joins the review workflow (registered in SelfAssessmentConfig.ready)."""

from __future__ import annotations

from django.db.models.signals import post_save


def report_blocking(submission) -> list[dict]:
    """上报 is refused while a required report lacks sections or the stamped PDF."""
    from .selectors import missing_sections, plan_for, report_for

    plan = plan_for(submission)
    if plan is None or not plan.required_for_submit:
        return []
    report = report_for(submission)
    items = []
    missing = missing_sections(report)
    if missing:
        names = "、".join(s["heading"].rstrip("。") for s in missing[:6])
        more = f"等{len(missing)}节" if len(missing) > 6 else ""
        items.append({"kind": "report", "check": "report.sections", "message":
                      f"自评估报告尚未完成：{names}{more}未填写。", "fields": [f"report.{s['key']}" for s in missing],
                      "member": ""})
    if report.stamped_id is None:
        items.append({"kind": "report", "check": "report.stamped",
                      "message": "自评估报告盖章扫描件（PDF）尚未上传。", "fields": [], "member": ""})
    return items


def report_targets(submission) -> dict[str, str]:
    from .selectors import plan_for

    plan = plan_for(submission)
    if plan is None:
        return {}
    return {f"report.{s['key']}": f"自评估报告 · {s['heading'].rstrip('。')}"
            for s in plan.framework.writable_sections}


def _task_created(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        from .actions import report_plans_ensure

        report_plans_ensure(acting_user=None, task=instance)


def connect() -> None:
    from reporting.models import Task
    from review import hooks

    from .actions import report_snapshot
    from .selectors import board_notes
    from .views import board_links, review_panel, submission_links

    if report_blocking not in hooks.submit_gates:
        hooks.submit_gates.append(report_blocking)
        hooks.on_submitted.append(report_snapshot)
        hooks.comment_targets.append(report_targets)
        hooks.review_panels.append(review_panel)
        hooks.board_notes.append(board_notes)
        hooks.submission_links.append(submission_links)
        hooks.board_links.append(board_links)
    post_save.connect(_task_created, sender=Task, dispatch_uid="selfassessment_task_created")
