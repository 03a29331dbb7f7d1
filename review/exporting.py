"""Excel exports of the review pages, plugged into exports.registry (registered in ReviewConfig.ready()):

- "progress": the progress board (进度明细) as shown, params {"unit", "form", "status", "name"};
- "submission_audit": one submission's trail (value changes and status changes), params {"submission": id}.

Both scope their rows to the requesting user themselves, as the registry asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from exports.registry import Sheet, register
from reporting.catalog_loader import member_definition
from reporting.models import Submission, Task
from reporting.selectors import submissions_for

from .selectors import audit_trail, board_sheet_rows, is_supervisor, progress_board

ACTION_LABELS = {"start": "开始填报", "submit": "上报", "approve": "审核通过", "reject": "驳回", "recheck": "复核通过",
                 "recheck_reject": "复核驳回", "withdraw": "撤销审核", "reopen": "延期填报", "rectify": "抽检整改", "rectify_done": "整改完成"}


def progress_export(user: User | None, task: Task, params: dict) -> Iterator[Any]:
    if user is None:
        raise Http404("进度明细须由用户导出。")
    if not is_supervisor(user):  # the page answers 403 to fillers; so does its export
        raise PermissionDenied("只有审核、分析和管理用户可以导出进度明细。")
    board = progress_board(user, task, unit_code=params.get("unit") or None, form=params.get("form") or None,
                           status=params.get("status") or None, name=params.get("name") or None)
    header, rows = board_sheet_rows(board)
    title = f"{board.unit.name} 填报进度"
    yield Sheet(name="进度明细", header_rows=[[title] + [None] * (len(header) - 1), header], rows=rows,
                freeze_cols=2, merge_headers=False)


def _naive(dt: Any) -> Any:
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def submission_audit_export(user: User | None, task: Task, params: dict) -> Iterator[Any]:
    qs = Submission.objects.all() if user is None else submissions_for(user)
    submission = qs.select_related("unit", "task", "form_version").get(pk=int(params["submission"]))
    items = audit_trail(submission, submission.form_version.definition, member_definition(submission))
    header = ["时间", "类型", "成员单位", "指标代码", "指标", "原值", "新值", "状态变化", "原因", "操作人"]
    rows = []
    for i in items:
        who = (i["actor"].display_name or i["actor"].username) if i["actor"] else ""
        if i["kind"] == "value":
            rows.append([_naive(i["at"]), "修改数值", i["member"] or "", i["field"], i["label"], i["old"], i["new"],
                         "", "", who])
        else:
            rows.append([_naive(i["at"]), ACTION_LABELS.get(i["action"], i["action"]), "", "", "", "", "",
                         f"{i['from']} → {i['to']}", i["reason"], who])
    title = f"{submission.unit.name}（{submission.unit.code}）《{submission.form_version.title}》修改记录"
    yield Sheet(name="修改记录", header_rows=[[title] + [None] * (len(header) - 1), header], rows=rows,
                freeze_cols=1, merge_headers=False, wrap_cols=(8,))


def register_kinds() -> None:
    register("progress", progress_export, label="进度明细", allowed=is_supervisor)
    register("submission_audit", submission_audit_export, label="报表修改记录")
