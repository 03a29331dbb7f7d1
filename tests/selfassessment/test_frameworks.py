"""The frameworks are the documents' own: every heading and guidance paragraph word for word, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from selfassessment.catalog import (
    available_frameworks,
    framework_version_for,
    read_framework,
    validate_framework,
)

SEEDS = Path("/work/shared/seeds")
SEED_002 = next(iter(sorted(SEEDS.glob("002_*.txt"))), None) if SEEDS.exists() else None
if SEED_002 is None:  # CI keeps a copy of shared/ beside the clone
    SEED_002 = next(iter(sorted((Path(__file__).resolve().parents[3] / "shared" / "seeds").glob("002_*.txt"))),
                    None)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _region(start: str, end: str | None) -> str:
    text = _squash(SEED_002.read_text(encoding="utf-8"))
    begin = text.index(_squash(start))
    stop = text.index(_squash(end), begin + 1) if end else len(text)
    return text[begin:stop]


# framework code -> (where its text starts in seed 002, where the next document starts)
REGIONS = {
    "fjzl2019_a1": ("附件1分级诊疗工作情况自评估报告框架", "附件2医联体建设情况自评估报告框架"),
    "fjzl2019_a2": ("附件2医联体建设情况自评估报告框架", "填报工作具体要求"),
    "ylt2018_a3": ("附件3医联体综合绩效考核自评报告框架", "关于进一步做好分级诊疗制度建设"),
}


@pytest.mark.skipif(SEED_002 is None, reason="seed 002 not found beside the repository")
@pytest.mark.parametrize("code", sorted(REGIONS))
def test_it_transcribes_every_heading_and_guidance_word_for_word_in_order(code):
    definition = read_framework(code)
    region = _region(*REGIONS[code])
    assert _squash(definition["title"]) in region
    position = 0
    for section in definition["sections"]:
        heading = _squash(section["heading"])
        found = region.find(heading, position)
        assert found >= 0, f"{code}: heading {section['heading']!r} is not in the seed (in this order)"
        position = found + len(heading)
        for paragraph in section["guidance"]:
            assert _squash(paragraph) in region, f"{code}: guidance {paragraph[:20]!r}… is not in the seed"


def test_it_keeps_the_documents_own_wording_even_where_it_reads_oddly():
    headings = [s["heading"] for s in read_framework("fjzl2019_a1")["sections"]]
    assert "5.医联体建设而情况。" in headings  # the document's wording, not corrected


@pytest.mark.parametrize("code", ["fjzl2019_a1", "fjzl2019_a2", "ylt2018_a3"])
def test_it_ships_usable_frameworks(code):
    assert code in available_frameworks()
    assert validate_framework(read_framework(code)) == []


def test_it_refuses_a_framework_with_repeated_keys():
    definition = read_framework("fjzl2019_a1")
    definition["sections"].append(dict(definition["sections"][0]))
    assert validate_framework(definition)


@pytest.mark.django_db
def test_it_versions_frameworks_by_content_hash():
    a = framework_version_for(read_framework("fjzl2019_a1"))
    assert framework_version_for(read_framework("fjzl2019_a1")).pk == a.pk
    changed = read_framework("fjzl2019_a1")
    changed["sections"][0]["guidance"] = ["新的说明"]
    b = framework_version_for(changed)
    assert b.pk != a.pk and b.content_hash != a.content_hash
    with pytest.raises(ValueError):
        a.save()


@pytest.mark.django_db
def test_it_gives_each_level_its_framework_and_26_annex_3_on_request(cast):
    from selfassessment.actions import task_report_set
    from selfassessment.selectors import plan_for

    assert plan_for(cast.submission("370000", "t1")).framework.code == "fjzl2019_a1"
    assert plan_for(cast.submission("370100", "t2")).framework.code == "fjzl2019_a1"
    assert plan_for(cast.submission("3701001", "t3")).framework.code == "fjzl2019_a2"
    assert plan_for(cast.submission("3701002", "t4")).framework.code == "fjzl2019_a2"
    task_report_set(acting_user=cast.admin, task=cast.task, unit_level="urban_alliance",
                    framework_code="ylt2018_a3", required_for_submit=True)
    assert plan_for(cast.submission("3701001", "t3")).framework.title == "医联体综合绩效考核自评报告框架"


@pytest.mark.django_db
def test_it_lets_the_administrator_choose_annex_3_and_require_it_by_command(cast):
    from io import StringIO

    from django.core.management import call_command

    from selfassessment.selectors import plan_for

    out = StringIO()
    call_command("report_plan", "--task", cast.task.code, "--level", "county_alliance", "--framework",
                 "ylt2018_a3", "--required", stdout=out)
    assert "县域医共体\t医联体综合绩效考核自评报告框架" in out.getvalue()
    plan = plan_for(cast.submission("3701002", "t4"))
    assert plan.framework.code == "ylt2018_a3" and plan.required_for_submit
    call_command("report_plan", "--task", cast.task.code, "--level", "county_alliance", "--none", stdout=out)
    assert plan_for(cast.submission("3701002", "t4")) is None
