"""Benchmark of the subtree zip of self-assessment reports (selfassessment.bundle.report_zip, the code behind
/reports/bundle/): peak memory while streaming N reports as Word files into one zip.

Run (PostgreSQL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fjzl .venv/bin/python benchmarks/bench_report_zip.py

With DATABASE_URL set the benchmark never touches the database it names: it drops and creates a database
called fjzl_bench_reports on the same server. Without it, a SQLite file in a temporary folder. Options:
--reports N (default 1000).

Seeding (bulk_create, not the action layer): N urban alliances under one city, each with a 表3 submission
carrying an engine-shaped result (indicator values) and a report on 附件2 with every section written (about
1.5 KB of HTML each, with a list and a table), plus one evidence row per report.

Each measurement runs in its own subprocess so peak memory (VmHWM) is that run's alone: the stream is read
chunk by chunk and discarded (as a client download would), at N and N/4 reports. "flat" means the peak at N
is within 25 MB of the peak at N/4 — memory does not grow with the count.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECTION_HTML = ("<p>本院牵头组建城市医疗集团，按网格化布局统筹辖区资源，建立理事会、医务、财务、信息等统一管理"
                "中心，推进人员、技术、信息、药品耗材统一管理。</p><ul><li>每周派出专家下沉成员单位坐诊、带教。</li>"
                "<li>建立双向转诊绿色通道，上转优先接诊，下转随访管理。</li></ul><table><tr><td>指标</td><td>2018年"
                "</td><td>2019年上半年</td></tr><tr><td>下转病人例数</td><td>1,204</td><td>735</td></tr></table>"
                "<p>存在的问题：基层人才短缺，信息系统互联互通仍有差距。</p>") * 2


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # DEBUG stays off (it keeps every query in memory): the run gets a random key of its own.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_HTTPS", "0")  # in-process clients speak plain HTTP: no SSL redirect
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory, which would look like a leak
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    import django

    django.setup()


def seed(n: int) -> str:
    from django.utils import timezone

    from accounts.models import Unit, UnitLevel
    from files.models import StoredFile
    from reporting import actions
    from reporting.models import Submission, TaskForm
    from selfassessment.catalog import framework_version_for, read_framework
    from selfassessment.models import Attachment, Report

    nation = Unit.objects.create(code="100000", name="国家卫生健康委", level=UnitLevel.NATION)
    province = Unit.objects.create(code="370000", name="山东省卫生健康委", level=UnitLevel.PROVINCE, parent=nation)
    city = Unit.objects.create(code="370100", name="济南市卫生健康委", level=UnitLevel.CITY, parent=province)
    units = [Unit(code=f"37010{i:05d}", name=f"济南市第{i}城市医疗集团牵头医院", level=UnitLevel.URBAN_ALLIANCE,
                  parent=city, path=f"{city.path}37010{i:05d}/", sort_key=f"37010{i:05d}") for i in range(n)]
    Unit.objects.bulk_create(units, batch_size=2000)
    now = timezone.now()
    task = actions.task_create(acting_user=None, code="bench", name="2019年分级诊疗第三方评估",
                               period_start=now.date().replace(month=1, day=1),
                               period_end=now.date().replace(month=6, day=30), window_open=now,
                               window_close=now + timezone.timedelta(days=30), catalog_slug="fjzl2019")
    version = TaskForm.objects.get(task=task, form_code="t3").version
    indicators = {ind["code"]: round(10 + i * 3.7, 4) for i, ind in enumerate(version.definition["indicators"])}
    result = {"indicators": indicators, "reasons": {}, "violations": [], "attainment": {}}
    units = list(Unit.objects.filter(level=UnitLevel.URBAN_ALLIANCE).order_by("code"))
    Submission.objects.bulk_create([Submission(task=task, unit=u, form_code="t3", form_version=version,
                                               status="draft", result=result) for u in units], batch_size=2000)
    framework = framework_version_for(read_framework("fjzl2019_a2"))
    sections = {s["key"]: SECTION_HTML for s in framework.writable_sections}
    subs = list(Submission.objects.filter(task=task).select_related("unit"))
    Report.objects.bulk_create([Report(submission=s, framework=framework, sections=sections, revision=1)
                                for s in subs], batch_size=1000)
    files = StoredFile.objects.bulk_create([StoredFile(unit=s.unit, purpose="report_evidence",
                                                       original_name="双向转诊协议.pdf", key=f"bench/{s.pk}.pdf",
                                                       size=123456, sha256="0" * 64, kind="pdf") for s in subs],
                                           batch_size=2000)
    Attachment.objects.bulk_create([Attachment(submission=s, file=f, section="s2_2_3") for s, f in zip(subs, files,
                                                                                                         strict=True)])
    return task.code


def child(task_code: str, limit: int) -> dict:
    from reporting.models import Submission
    from selfassessment.bundle import report_zip

    # every submission of the task, as the national view would
    before = peak_mb()
    ids = list(Submission.objects.filter(task__code=task_code).order_by("unit__path").values_list("pk", flat=True)
               [:limit])
    started = time.perf_counter()
    total = chunks = 0
    for chunk in report_zip(Submission.objects.filter(pk__in=ids)):
        total += len(chunk)
        chunks += 1
    return {"reports": len(ids), "zip_mb": round(total / 1024 / 1024, 1), "seconds": round(time.perf_counter() -
            started, 1), "peak_mb_before": round(before, 1), "peak_mb": round(peak_mb(), 1), "chunks": chunks}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--child", nargs=3, metavar=("URL", "TASK", "LIMIT"))
    args = parser.parse_args()
    if args.child:
        url, task_code, limit = args.child
        setup(url)
        print(json.dumps(child(task_code, int(limit))))
        return
    from benchmarks.seeding import bench_database

    os.environ["DJANGO_DEBUG"] = "0"
    where = bench_database("fjzl_bench_reports")
    url = os.environ["DATABASE_URL"]
    started = time.perf_counter()
    task_code = seed(args.reports)
    print(f"database: {where}; seeded {args.reports} reports in {time.perf_counter() - started:.1f}s")
    runs = {}
    for limit in (max(1, args.reports // 4), args.reports):
        out = subprocess.run([sys.executable, __file__, "--child", url, task_code, str(limit)], check=True,
                             capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url})
        runs[limit] = json.loads(out.stdout.strip().splitlines()[-1])
        r = runs[limit]
        print(f"{r['reports']:>5} reports: zip {r['zip_mb']} MB in {r['seconds']} s, peak RSS {r['peak_mb']} MB "
              f"(after setup {r['peak_mb_before']} MB), {r['chunks']} chunks")
    small, big = runs[max(1, args.reports // 4)], runs[args.reports]
    growth = big["peak_mb"] - small["peak_mb"]
    print(f"peak growth from {small['reports']} to {big['reports']} reports: {growth:+.1f} MB "
          f"({'flat' if growth < 25 else 'NOT flat'})")


if __name__ == "__main__":
    main()
