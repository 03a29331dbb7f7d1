"""python manage.py sample --task CODE [--province CODE] --size N --seed S [--random-share 0.3] [--commit] --json"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit, UnitLevel, User
from reporting.models import Task
from sampling.actions import batch_create, batch_preview
from sampling.selection import Params, SelectionError


class Command(BaseCommand):
    help = "抽检：按风险和分层随机抽取已审核报表（--commit 时创建抽检批次）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", required=True, help="任务编码")
        parser.add_argument("--province", help="省级单位编码（只在该省范围内抽检）")
        parser.add_argument("--size", type=int, required=True, help="抽样数量")
        parser.add_argument("--seed", type=int, required=True, help="随机种子")
        parser.add_argument("--random-share", type=float, default=0.3, help="随机抽样所占比例（默认0.3）")
        parser.add_argument("--form", action="append", default=[], help="只抽该表（可重复）")
        parser.add_argument("--z", type=float, default=3.5, help="稳健Z值阈值（默认3.5）")
        parser.add_argument("--indicator", action="append", default=[], help="离群判断所用指标（可重复）")
        parser.add_argument("--user", help="记为创建人的用户名（可选）")
        parser.add_argument("--name", default="", help="批次名称")
        parser.add_argument("--commit", action="store_true", help="创建抽检批次")
        parser.add_argument("--json", action="store_true", help="以JSON输出")

    def handle(self, *args, **opts) -> None:
        task = Task.objects.filter(code=opts["task"]).first()
        if task is None:
            raise CommandError(f"任务不存在：{opts['task']}")
        if opts.get("province"):
            scope = Unit.objects.filter(code=opts["province"], level=UnitLevel.PROVINCE).first()
            if scope is None:
                raise CommandError(f"省级单位不存在：{opts['province']}")
        else:
            scope = Unit.objects.filter(level=UnitLevel.NATION).order_by("code").first()
            if scope is None:
                raise CommandError("没有国家级单位。")
        user = None
        if opts.get("user"):
            user = User.objects.filter(username=opts["user"]).select_related("unit").first()
            if user is None:
                raise CommandError(f"用户不存在：{opts['user']}")
        params = Params(size=opts["size"], seed=opts["seed"], random_share=opts["random_share"],
                        forms=opts["form"], z_threshold=opts["z"], indicators=opts["indicator"])
        try:
            picks = batch_preview(acting_user=user, task=task, scope=scope, params=params)
            batch = batch_create(acting_user=user, task=task, scope=scope, params=params,
                                 name=opts["name"]) if opts["commit"] else None
        except SelectionError as e:
            raise CommandError(str(e)) from None
        if opts["json"]:
            # stdout: the selection only (a JSON list); what was done goes to stderr
            self.stdout.write(json.dumps([p.as_json() for p in picks], ensure_ascii=False, indent=2))
            self.stderr.write(json.dumps({"task": task.code, "scope": scope.code, "seed": params.seed,
                                          "params": params.as_dict(), "batch": batch.pk if batch else None},
                                         ensure_ascii=False))
            return
        for p in picks:
            reasons = "；".join(r["text"] for r in p.reasons)
            self.stdout.write(f"{p.unit_code}\t{p.form}\t{'风险' if p.part == 'risk' else '随机'}\t{reasons}")
        self.stdout.write(f"共{len(picks)}份" + (f"，已创建抽检批次 #{batch.pk}" if batch else "（预览，未保存）"))
