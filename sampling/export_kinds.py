"""Export kinds of the sampling app (found by exports.registry.autodiscover()): "sampling_board", one batch's
board, its items and its on-site records, params {"batch": id}. Rows are scoped to the requesting user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exports.registry import Sheet, register


def _naive(value: Any) -> Any:
    from django.utils import timezone

    return timezone.localtime(value).replace(tzinfo=None) if value else None


def sampling_board_export(user, task, params: dict) -> Iterator[Sheet]:
    from django.http import Http404

    from accounts.scoping import unit_scope

    from .models import OnsiteCheck
    from .selectors import batches_for, board, diff, is_overdue, items_for, members_of

    if user is None:
        raise Http404("抽检情况须由用户导出。")
    batch = batches_for(user).filter(pk=int(params.get("batch") or 0)).first()
    if batch is None:
        raise Http404("抽检批次不存在或无权访问。")
    b = board(batch, user)
    header = ["地区编码", "地区", "抽取报表", "整改要求", "已答复", "已关闭", "已升级", "超期", "平均关闭天数",
              "数值修改比例（%）", "现场核查项", "现场不一致率（%）"]

    def line(r) -> list:
        return [r.key, r.label, r.samples, r.raised, r.answered, r.closed, r.escalated, r.overdue, r.days_to_close,
                r.changed_share, r.onsite_checked, r.discrepancy_rate]

    title = f"{batch.name}（种子{batch.seed}）"
    yield Sheet(name="整改情况", header_rows=[[title] + [None] * (len(header) - 1), header],
                rows=[line(r) for r in b.rows] + [line(b.total)], merge_headers=False, freeze_cols=2)
    items = list(items_for(user).filter(batch=batch).select_related("submission").order_by("unit__path", "id"))
    members = members_of(items)
    item_header = ["单位编码", "单位", "表单", "指标", "整改要求", "期限", "状态", "超期", "抽检时数值", "当前数值",
                   "数值已修改", "整改说明", "提出时间", "关闭时间"]
    yield Sheet(name="整改要求明细", header_rows=[item_header], wrap_cols=(4, 11), freeze_cols=2, rows=(
        [i.unit.code, i.unit.name, i.submission.form_code, i.label, i.text, i.deadline, i.get_state_display(),
         is_overdue(i), diff(i, members)["before_shown"], diff(i, members)["after_shown"], diff(i, members)["changed"],
         i.answer,
         _naive(i.raised_at), _naive(i.closed_at)] for i in items))
    scope = unit_scope(user, "sample__unit__")
    checks = OnsiteCheck.objects.filter(sample__batch=batch).select_related("sample__unit")
    if scope is not None:
        checks = checks.filter(scope)
    check_header = ["单位编码", "单位", "数据项", "上报值", "核实值", "核查因子", "核查人", "核查日期", "结论"]
    yield Sheet(name="现场抽查", header_rows=[check_header], rows=(
        [c.sample.unit.code, c.sample.unit.name, c.label, c.reported, c.verified, c.factor, c.inspector,
         c.checked_on, c.conclusion] for c in checks))


register("sampling_board", sampling_board_export, label="抽检整改情况")
