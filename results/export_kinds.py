"""Export kinds of the results app, found by exports.registry.autodiscover(): what a result card shows."""

from __future__ import annotations

from exports.registry import Sheet, register

from . import services
from .models import Release


def _release(user, task, params):
    version = params.get("version")
    if version:
        release = Release.objects.filter(task=task, version=int(version)).first()
        if release is None:
            return None
        if user is not None and not services.is_national(user):
            readable = services.readable_release(user, task, version=int(version))
            if readable is None or readable.pk != release.pk:
                return None
        return release
    return services.readable_release(user, task) if user is not None else (
        Release.objects.filter(task=task).order_by("-version").first())


def result_cards(user, task, params):
    """One row per indicator of the cards the requester may read (one card when params["unit"] is given)."""
    release = _release(user, task, params)
    header = [["单位编码", "单位名称", "指标编码", "指标", "单位", "数值", "目标（各级）", "是否达标", "排名", "同级单位数",
               "百分位", "近三年", "得分", "综合得分", "分级"]]
    rows = []
    if release is not None:
        for code, card in release.snapshot["units"].items():
            if params.get("unit") and code != params["unit"]:
                continue
            if user is not None and not services.may_read_card(user, release, code, card):
                continue
            for ind in card["indicators"]:
                rows.append([
                    code, card["name"], ind["code"], ind["label"], ind["unit"], ind["value"],
                    "；".join(f"{services.target_text(t)}（{t['source']}）" for t in ind["targets"]),
                    None if ind["attained"] is None else bool(ind["attained"]), ind.get("rank"), ind.get("peers"),
                    ind.get("percentile"),
                    " → ".join(f"{p['year']}: {'--' if p['value'] is None else round(p['value'], 2)}"
                               for p in ind["trend"]),
                    ind.get("score"), card.get("score"), card.get("grade"),
                ])
    yield Sheet(name="结果卡", header_rows=header, rows=rows, freeze_cols=2)


register("result_card", result_cards, label="结果卡")
