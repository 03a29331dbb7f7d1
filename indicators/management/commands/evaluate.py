import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine import evaluate
from reporting.catalog_loader import folder_catalog


def _read(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CommandError(f"无法读取 {path}：{e}") from e
    if not isinstance(data, dict):
        raise CommandError(f"{path} 应为 JSON 对象（指标代码 → 取值）")
    return data


class Command(BaseCommand):
    help = ("Evaluate one form's values: prints {indicators, violations} as JSON. FILE.json maps field codes to "
            "values (numbers, \"--\", true/false, text); a lead form's member entries go under \"members\" "
            "(a list of such maps), a province's cities' 表2 values under \"children\".")

    def add_arguments(self, parser):
        parser.add_argument("form_code")
        parser.add_argument("--values", required=True)
        parser.add_argument("--previous", default=None)
        parser.add_argument("--catalog", default=None)

    def handle(self, *args, form_code: str, values: str, previous: str | None, catalog: str | None, **options):
        cat = folder_catalog(catalog)
        form = cat.get(form_code)
        if form is None:
            raise CommandError(f"目录中没有表单 {form_code}（可选：{', '.join(f.code for f in cat)}）")
        data = _read(values) or {}
        members = data.pop("members", None)
        children = data.pop("children", None)
        prev = _read(previous)
        prev_members = prev.pop("members", None) if prev else None
        result = evaluate(form, data, members=members, children=children, previous=prev,
                          previous_members=prev_members).to_dict()
        out = {
            "indicators": result["indicators"],
            "reasons": result.get("reasons", {}),
            "violations": [
                {"check": v["check"], "severity": v["severity"], "message": v["message"], "fields": v["fields"],
                 **({"member": v["member"]} if v.get("member") is not None else {})}
                for v in result["violations"]
            ],
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
