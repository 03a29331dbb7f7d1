"""Benchmark of the indicator engine against a hand-written floor, on 表3 with ten member entries.

    .venv/bin/python benchmarks/bench_engine.py            # 5 rounds of 5,000 evaluations each, 50,000 extrapolated
    .venv/bin/python benchmarks/bench_engine.py --full     # also measures 50,000 engine evaluations
    .venv/bin/python benchmarks/bench_engine.py -n 1000    # quicker

The workload is the real catalog (reporting/catalogs/fjzl2019/t3.json + t3m.json): the lead hospital's form
with every derived check (types, ranges, 其中 parts), its 49 checks (incl. previous-period jumps and peer
outliers) and 14 indicators, plus ten member entries of the sub-form with their own checks and indicators.
Submissions are realistic: consistent values, about 2% "--", a previous period, 200 peers.

The floor is ``floor_t3``: the same checks and indicators written directly in Python, with the same missing
semantics ("--" and unfilled never count as 0, a check with an unknown operand is not evaluated). Before
timing, both are run on every generated submission and their indicators, violation codes and unfilled fields
are compared, so the floor is known to do the same work. No Django is imported.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import PeerGroup, evaluate, load_catalog_dir  # noqa: E402

CATALOG = ROOT / "reporting" / "catalogs" / "fjzl2019"
N_SUBMISSIONS = 200
N_MEMBERS = 10
TOTAL_STORED = 50_000

# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


def _lead_values(rng: random.Random, i: int, scale: float) -> dict[str, Any]:
    s = scale
    beds = int(1200 * s)
    oev = int(1_000_000 * s)
    avg_daily = round(oev / 280, 2)
    ds = int(2000 * s)
    up, down, received = int(2000 * s), int(3000 * s), int(1000 * s)
    v: dict[str, Any] = {
        "hospital_name": f"第{i}人民医院",
        "org_code": f"12370000{i:06d}",
        "report_type": "牵头医院",
        "hospital_level": "三级甲等",
        "hospital_category": "中医医院" if i % 5 == 0 else "综合医院",
        "alliance_type": "城市医疗集团",
        "alliance_count": 1,
        "member_count": 14,
        "service_population": int(600_000 * s),
        "is_typical": i % 3 == 0,
        "open_bed_days": beds * 365,
        "occupied_bed_days": int(beds * 365 * 0.9),
        "outpatient_visits": int(oev * 0.85),
        "outpatient_emergency_visits": oev,
        "avg_daily_outpatient": avg_daily,
        "day_surgery_cases_basic": ds,
        "discharged_patients": int(50_000 * s),
        "inpatient_admissions": int(50_500 * s),
        "total_surgeries": int(20_000 * s),
        "critical_rescues": int(1_500 * s),
        "avg_length_of_stay": 8.5,
        "bed_turnover": 35.2,
        "outpatient_cost_per_visit": round(300 * s, 2),
        "inpatient_cost_per_capita": round(15_000 * s, 2),
        "bed_occupancy_rate": 90.0,
        "ct_report_hours": 4.5,
        "diabetes_outpatient_visits": int(30_000 * s),
        "hypertension_outpatient_visits": int(50_000 * s),
        "cesarean_cases": int(1_200 * s),
        "ami_cases": int(300 * s),
        "pci_cases": int(800 * s),
        "outpatient_revenue": round(3e8 * s, 2),
        "inpatient_revenue": round(7.5e8 * s, 2),
        "has_imaging_center": True,
        "has_logistics_center": False,
        "has_lab_center": True,
        "has_sterilization_center": False,
        "covered_township_hc": 5,
        "covered_community_hc": 5,
        "covered_rehab_institutions": 1,
        "covered_nursing_institutions": 1,
        "specialties_in_alliance": 10,
        "responsibilities_defined": True,
        "bundled_insurance_payment": False,
        "priority_for_referred": True,
        "ehr_shared": True,
        "mutual_recognition": True,
        "telemedicine_visits": int(5_000 * s),
        "telemedicine_hospitals": 30,
        "telemedicine_upper_hospitals": 5,
        "telemedicine_lower_hospitals": 20,
        "telemedicine_township_hc": 10,
        "telemedicine_community_hc": 10,
        "quality_homogenization": True,
        "staff_sent_visits": int(300 * s),
        "staff_sent_days": int(6_000 * s),
        "grade34_surgeries": int(12_000 * s),
        "has_day_surgery": True,
        "day_surgery_cases": ds,
        "day_surgery_disease_types": 30,
        "day_surgery_elective_ratio": 12.5,
        "referral_total": up + down + received,
        "referral_up": up,
        "referral_down": down,
        "referral_received": received,
        "trainee_count": 120,
        "trainee_times": 150,
        "trainee_days": 4_000,
        "new_technologies_helped": 20,
        "new_projects_helped": 15,
        "cmi": round(1.1 * s, 3),
    }
    for disease, n in (
        ("cerebrovascular", 300),
        ("hypertension", 400),
        ("diabetes", 300),
        ("copd", 200),
        ("tumor", 100),
    ):
        du, dd = int(n * s * 0.4), int(n * s * 0.6)
        v[f"{disease}_referral_up"] = du
        v[f"{disease}_referral_down"] = dd
        v[f"{disease}_referral_total"] = du + dd
    if v["hospital_category"] == "中医医院":
        v["tcm_advantage_disease_pathways"] = 12
        v["tcm_key_specialties"] = 6
    return v


def _member_values(rng: random.Random, i: int, j: int, scale: float) -> dict[str, Any]:
    s = scale
    oev = int(200_000 * s)
    volume = oev
    cost_avg = round(150 * s, 2)
    discharged = int(10_000 * s)
    inpatient_cost = round(6_000 * s, 2)
    up, down, received = int(60 * s), int(50 * s), int(30 * s)
    v: dict[str, Any] = {
        "hospital_name": f"成员医院{i}-{j}",
        "org_code": f"52370000{i:04d}{j:02d}",
        "report_type": "成员单位",
        "hospital_level": "二级甲等",
        "hospital_category": "中医医院" if j == 3 else "综合医院",
        "alliance_type": "城市医疗集团",
        "service_population": int(100_000 * s),
        "is_typical": False,
        "open_beds": int(300 * s),
        "outpatient_visits": int(oev * 0.85),
        "outpatient_emergency_visits": oev,
        "avg_daily_outpatient": round(oev / 280, 2),
        "discharged_patients": discharged,
        "inpatient_admissions": int(discharged * 1.01),
        "total_surgeries": int(3_000 * s),
        "avg_length_of_stay": 7.0,
        "outpatient_cost_per_visit": cost_avg,
        "inpatient_cost_per_capita": inpatient_cost,
        "bed_occupancy_rate": 85.0,
        "ct_report_hours": 6.0,
        "diabetes_outpatient_visits": int(5_000 * s),
        "hypertension_outpatient_visits": int(8_000 * s),
        "cesarean_cases": int(100 * s),
        "ami_cases": int(20 * s),
        "pci_cases": 0,
        "outpatient_revenue": round(cost_avg * volume, 2),
        "inpatient_revenue": round(inpatient_cost * discharged, 2),
        "outpatient_volume": volume,
        "outpatient_cost_avg": cost_avg,
        "inpatient_cost_avg": inpatient_cost,
        "treatable_diseases": 100,
        "assisted_treatable_diseases": 20,
        "referral_total": up + down + received,
        "referral_up": up,
        "referral_down": down,
        "referral_received": received,
        "new_technologies_received": 2,
        "new_projects_received": 1,
    }
    if v["hospital_category"] == "中医医院":
        v["tcm_advantage_disease_pathways"] = 3
        v["tcm_key_specialties"] = 1
    return v


def _dashes(rng: random.Random, values: dict[str, Any], rate: float) -> dict[str, Any]:
    """About ``rate`` of the numeric answers become "--" (not collected)."""
    out = dict(values)
    for k, v in values.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and rng.random() < rate:
            out[k] = "--"
    return out


def make_submissions(n: int, seed: int = 2019) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    subs = []
    for i in range(n):
        scale = rng.uniform(0.7, 1.3)
        prev_scale = scale * rng.uniform(0.85, 1.1)
        values = _dashes(rng, _lead_values(rng, i, scale), 0.02)
        members = [
            _dashes(rng, _member_values(rng, i, j, scale * rng.uniform(0.8, 1.2)), 0.02)
            for j in range(N_MEMBERS)
        ]
        previous = _lead_values(rng, i, prev_scale)
        previous_members = [_member_values(rng, i, j, prev_scale) for j in range(N_MEMBERS)]
        rng.shuffle(previous_members)  # entries are matched by hospital, not by position
        if i % 10 == 0:  # a few realistic mistakes
            values["referral_up"] = (
                values["referral_total"] + 1 if isinstance(values["referral_total"], int) else 1
            )
            members[2]["outpatient_visits"] = 10**7
        subs.append(
            {"values": values, "members": members, "previous": previous, "previous_members": previous_members}
        )
    return subs


# --------------------------------------------------------------------------------------------------------------
# The floor: the same checks and indicators of 表3, written directly
# --------------------------------------------------------------------------------------------------------------

EPS = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= EPS * max(1.0, abs(a), abs(b))


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def _stats(known: list[float]) -> tuple[float, float] | None:
    if len(known) < 5:
        return None
    med = _median(known)
    return med, _median([abs(x - med) for x in known])


class FloorForm:
    """Field lists of one form (what a hand-written program would keep as constants)."""

    def __init__(self, data: dict[str, Any]) -> None:
        f = data["fields"]
        self.code = data["code"]
        self.label = {x["code"]: x["label"] for x in f}
        self.counts = [x["code"] for x in f if x["type"] == "count"]
        self.decimals = [x["code"] for x in f if x["type"] == "decimal"]
        self.percents = [x["code"] for x in f if x["type"] == "percent"]
        self.yesno = [x["code"] for x in f if x["type"] == "yesno"]
        self.choices = [(x["code"], frozenset(x["choices"])) for x in f if x["type"] == "choice"]
        self.parts = [(x["code"], x["of"]) for x in f if x.get("of")]
        self.required = [x["code"] for x in f if not x.get("optional")]
        self.tcm = [x["code"] for x in f if x.get("condition")]


def _num(v: Any) -> Any:
    t = type(v)
    return v if t is int or t is float else None


def floor_fields(ff: FloorForm, v: dict[str, Any], out: list[tuple[str, str]]) -> list[str]:
    """Derived checks (types, ranges, whole numbers, 其中 parts) and the unfilled required fields."""
    c = ff.code
    lab = ff.label
    for k in ff.counts:
        x = v.get(k)
        t = type(x)
        if t is int:
            if x < 0:
                out.append((f"{c}.int.{k}", f"{lab[k]}（{x}）应为不小于0的整数"))
        elif t is float:
            if x - x != 0 or x < 0 or x != int(x):
                out.append((f"{c}.int.{k}", f"{lab[k]}（{x}）应为不小于0的整数"))
        elif x is not None and x != "--" and x != "":
            out.append((f"{c}.type.{k}", f"{lab[k]}（{x}）应填写数字"))
    for k in ff.decimals:
        x = v.get(k)
        t = type(x)
        if t is int or t is float:
            if x - x != 0 or x < 0:
                out.append((f"{c}.nonneg.{k}", f"{lab[k]}（{x}）不能小于0"))
        elif x is not None and x != "--" and x != "":
            out.append((f"{c}.type.{k}", f"{lab[k]}（{x}）应填写数字"))
    for k in ff.percents:
        x = v.get(k)
        t = type(x)
        if t is int or t is float:
            if x - x != 0 or x < 0 or x > 100:
                out.append((f"{c}.pct.{k}", f"{lab[k]}（{x}）应在0～100之间"))
        elif x is not None and x != "--" and x != "":
            out.append((f"{c}.type.{k}", f"{lab[k]}（{x}）应填写数字"))
    for k in ff.yesno:
        x = v.get(k)
        if x is not True and x is not False and x is not None and x != "--" and x != "":
            out.append((f"{c}.type.{k}", f"{lab[k]}（{x}）应选择“是”或“否”"))
    for k, allowed in ff.choices:
        x = v.get(k)
        if x is not None and x != "--" and x != "" and x not in allowed:
            out.append((f"{c}.type.{k}", f"{lab[k]}（{x}）应为规定选项之一"))
    for p, t in ff.parts:
        a = _num(v.get(p))
        b = _num(v.get(t))
        if a is not None and b is not None and a > b and not _close(a, b):
            out.append((f"{c}.of.{p}", f"{lab[p]}（{a}）不能大于{lab[t]}（{b}）"))
    unfilled = []
    for k in ff.required:
        x = v.get(k)
        if x is None or x == "":
            unfilled.append(k)
    return unfilled


def _ratio(
    ff: FloorForm, v: dict[str, Any], a: str, b: str, scale: float, reasons: dict[str, str], code: str
) -> Any:
    x = v.get(a)
    y = v.get(b)
    tx, ty = type(x), type(y)
    if (tx is int or tx is float) and (ty is int or ty is float):
        if y == 0:
            reasons[code] = f"分母为0（{ff.label[b]}为0）"
            return None
        return round(x / y * scale, 4)
    bad = a if not (tx is int or tx is float) else b
    reasons[code] = ff.label[bad] + ("未统计（--）" if v.get(bad) == "--" else "未填报")
    return None


def _growth(
    ff: FloorForm, v: dict[str, Any], prev: dict[str, Any] | None, a: str, reasons: dict[str, str], code: str
):
    if prev is None:
        reasons[code] = "无上期数据"
        return None
    x = _num(v.get(a))
    p = _num(prev.get(a))
    if x is None:
        reasons[code] = ff.label[a] + ("未统计（--）" if v.get(a) == "--" else "未填报")
        return None
    if p is None:
        reasons[code] = "上期" + ff.label[a] + ("未统计（--）" if prev.get(a) == "--" else "未填报")
        return None
    if p == 0:
        reasons[code] = f"分母为0（上期{ff.label[a]}为0）"
        return None
    return round((x - p) / p * 100, 4)


def floor_t3(
    lead: FloorForm,
    sub: FloorForm,
    values: dict[str, Any],
    members: list[dict[str, Any]],
    previous: dict[str, Any] | None,
    previous_members: list[dict[str, Any]] | None,
    peer_stats: dict[str, Any],
) -> dict[str, Any]:
    """表3 checks and indicators, by hand. ``peer_stats``: field -> (median, mad) | None, from the peers."""
    out: list[tuple[str, str]] = []
    v = values
    if v.get("hospital_category") != "中医医院":  # 中医医院填写 fields do not apply
        v = dict(v)
        for k in lead.tcm:
            v.pop(k, None)
    unfilled = floor_fields(lead, v, out)
    if v is not values:  # not applicable, so not required either
        unfilled = [k for k in unfilled if k not in lead.tcm]
    g = v.get
    n = _num

    def le(code: str, a: Any, b: Any) -> None:
        if a is not None and b is not None and a > b and not _close(a, b):
            out.append((code, f"{a}不能大于{b}"))

    def eq(code: str, a: Any, b: Any) -> None:
        if a is not None and b is not None and not (a == b or _close(a, b)):
            out.append((code, f"{a}应等于{b}"))

    def add(*xs: Any) -> Any:
        total = 0
        for x in xs:
            if x is None:
                return None
            total += x
        return total

    def rng_(code: str, x: Any, lo: float, hi: float) -> None:
        if x is not None and ((x < lo and not _close(x, lo)) or (x > hi and not _close(x, hi))):
            out.append((code, f"{x}超出合理范围"))

    def jump(code: str, k: str) -> None:
        if previous is None:
            return
        x, p = n(g(k)), n(previous.get(k))
        if x is not None and p is not None:
            d, lim = abs(x - p), 0.5 * p
            if d > lim and not _close(d, lim):
                out.append((code, f"{x}较上期{p}变化超过50%"))

    def outlier(code: str, k: str) -> None:
        x = n(g(k))
        s = peer_stats.get(k)
        if x is not None and s is not None and s[1] != 0:
            z = abs((x - s[0]) / (1.4826 * s[1]))
            if z > 3.5 and not _close(z, 3.5):
                out.append((code, f"{x}与同类单位相比明显偏离"))

    def implies_zero(code: str, k: str) -> None:
        x = n(g(k))
        if g("has_day_surgery") is False and x is not None and x != 0:
            out.append((code, f"未开展日间手术时{k}应为0"))

    ov, oev, adl = (
        n(g("outpatient_visits")),
        n(g("outpatient_emergency_visits")),
        n(g("avg_daily_outpatient")),
    )
    le("t3.c01", ov, oev)
    le("t3.c02", adl, oev)
    le("t3.c03", add(n(g("diabetes_outpatient_visits")), n(g("hypertension_outpatient_visits"))), oev)
    ts = n(g("total_surgeries"))
    le("t3.c04", n(g("day_surgery_cases")), ts)
    le("t3.c05", n(g("day_surgery_cases_basic")), ts)
    eq("t3.c06", n(g("day_surgery_cases_basic")), n(g("day_surgery_cases")))
    le("t3.c07", n(g("grade34_surgeries")), ts)
    le("t3.c08", n(g("critical_rescues")), n(g("inpatient_admissions")))
    implies_zero("t3.c09", "day_surgery_cases")
    implies_zero("t3.c10", "day_surgery_cases_basic")
    implies_zero("t3.c11", "day_surgery_disease_types")
    implies_zero("t3.c12", "day_surgery_elective_ratio")
    for i, d in enumerate(("cerebrovascular", "hypertension", "diabetes", "copd", "tumor")):
        eq(
            f"t3.c{13 + i}",
            add(n(g(f"{d}_referral_up")), n(g(f"{d}_referral_down"))),
            n(g(f"{d}_referral_total")),
        )
    rt = n(g("referral_total"))
    eq("t3.c18", add(n(g("referral_up")), n(g("referral_down")), n(g("referral_received"))), rt)
    th = n(g("telemedicine_hospitals"))
    le("t3.c19", n(g("telemedicine_lower_hospitals")), th)
    mc = n(g("member_count"))
    le("t3.c20", len(members) + 1, mc)
    obd, ocd = n(g("open_bed_days")), n(g("occupied_bed_days"))
    le("t3.c21", ocd, obd)
    bor = n(g("bed_occupancy_rate"))
    if bor is not None and obd is not None and ocd is not None:
        le("t3.c22", abs(bor * obd - ocd * 100), 5 * obd)
    if oev is not None and adl is not None:
        lo_ok = oev >= 100 * adl or _close(oev, 100 * adl)
        hi_ok = oev <= 366 * adl or _close(oev, 366 * adl)
        if not (lo_ok and hi_ok):
            out.append(("t3.c23", f"{oev}÷{adl}推算的工作日天数不在100～366天之间"))
    le("t3.c24", n(g("telemedicine_upper_hospitals")), th)
    le("t3.c25", add(n(g("telemedicine_township_hc")), n(g("telemedicine_community_hc"))), th)
    covered = add(
        n(g("covered_township_hc")),
        n(g("covered_community_hc")),
        n(g("covered_rehab_institutions")),
        n(g("covered_nursing_institutions")),
        1,
    )
    le("t3.c26", covered, mc)
    hd = g("has_day_surgery")
    dsc = n(g("day_surgery_cases"))
    if hd is True and dsc is not None and not dsc > 0:
        out.append(("t3.c27", "开展日间手术但例次数为0"))
    diseases = add(
        *(
            n(g(f"{d}_referral_total"))
            for d in ("cerebrovascular", "hypertension", "diabetes", "copd", "tumor")
        )
    )
    le("t3.c28", diseases, rt)
    for code, mk, k in (
        ("t3.c29", "referral_up", "referral_received"),
        ("t3.c30", "new_technologies_received", "new_technologies_helped"),
        ("t3.c31", "new_projects_received", "new_projects_helped"),
    ):
        total = 0
        for m in members:
            x = m.get(mk)
            if type(x) is not int and type(x) is not float:
                total = None
                break
            total += x
        le(code, total, n(g(k)))
    rng_("t3.c32", bor, 0, 150)
    rng_("t3.c33", n(g("avg_length_of_stay")), 1, 60)
    rng_("t3.c34", n(g("bed_turnover")), 0, 100)
    rng_("t3.c35", n(g("outpatient_cost_per_visit")), 10, 5000)
    rng_("t3.c36", n(g("inpatient_cost_per_capita")), 500, 100000)
    rng_("t3.c37", n(g("ct_report_hours")), 0, 72)
    rng_("t3.c38", n(g("cmi")), 0.3, 5)
    rng_("t3.c39", n(g("day_surgery_elective_ratio")), 0, 100)
    for code, k in (
        ("t3.c40", "outpatient_visits"),
        ("t3.c41", "outpatient_emergency_visits"),
        ("t3.c42", "discharged_patients"),
        ("t3.c43", "inpatient_admissions"),
        ("t3.c44", "total_surgeries"),
        ("t3.c45", "referral_total"),
    ):
        jump(code, k)
    for code, k in (
        ("t3.c46", "outpatient_visits"),
        ("t3.c47", "discharged_patients"),
        ("t3.c48", "total_surgeries"),
        ("t3.c49", "referral_total"),
    ):
        outlier(code, k)

    reasons: dict[str, str] = {}
    ind: dict[str, Any] = {}
    ind["t3.i01"] = _ratio(lead, v, "occupied_bed_days", "open_bed_days", 100, reasons, "t3.i01")
    ind["t3.i02"] = _ratio(lead, v, "referral_total", "discharged_patients", 100, reasons, "t3.i02")
    ind["t3.i03"] = _ratio(lead, v, "referral_up", "referral_total", 100, reasons, "t3.i03")
    ind["t3.i04"] = _ratio(lead, v, "referral_down", "referral_total", 100, reasons, "t3.i04")
    ind["t3.i05"] = _ratio(lead, v, "referral_down", "referral_up", 1, reasons, "t3.i05")
    ind["t3.i06"] = _ratio(
        lead, v, "outpatient_emergency_visits", "avg_daily_outpatient", 1, reasons, "t3.i06"
    )
    ind["t3.i07"] = _ratio(lead, v, "staff_sent_days", "staff_sent_visits", 1, reasons, "t3.i07")
    orv, irv = n(g("outpatient_revenue")), n(g("inpatient_revenue"))
    if orv is None or irv is None:
        ind["t3.i08"] = None
        reasons["t3.i08"] = "门诊收入或住院收入未统计（--）"
    elif orv + irv == 0:
        ind["t3.i08"] = None
        reasons["t3.i08"] = "分母为0"
    else:
        ind["t3.i08"] = round(orv / (orv + irv) * 100, 4)
    ind["t3.i09"] = _ratio(lead, v, "grade34_surgeries", "total_surgeries", 100, reasons, "t3.i09")
    ind["t3.i10"] = _ratio(lead, v, "critical_rescues", "inpatient_admissions", 100, reasons, "t3.i10")
    ind["t3.i11"] = _ratio(lead, v, "telemedicine_township_hc", "covered_township_hc", 100, reasons, "t3.i11")
    ind["t3.i12"] = _ratio(
        lead, v, "telemedicine_community_hc", "covered_community_hc", 100, reasons, "t3.i12"
    )
    ind["t3.i13"] = _growth(lead, v, previous, "referral_down", reasons, "t3.i13")
    ind["t3.i14"] = _growth(lead, v, previous, "referral_up", reasons, "t3.i14")
    attainment = {"t3.i13": None if ind["t3.i13"] is None else ind["t3.i13"] >= 10}

    # member entries: previous entry by hospital name / code, siblings as peers
    prev_by_name: dict[Any, dict[str, Any]] = {}
    for p in previous_members or ():
        prev_by_name.setdefault(("hospital_name", p.get("hospital_name")), p)
        prev_by_name.setdefault(("org_code", p.get("org_code")), p)
    member_out: list[tuple[str, int, str]] = []
    member_unfilled: dict[int, list[str]] = {}
    member_indicators = []
    for idx, m in enumerate(members):
        mo: list[tuple[str, str]] = []
        applies = m.get("hospital_category") == "中医医院"
        if not applies:
            m = dict(m)
            for k in sub.tcm:
                m.pop(k, None)
        mu = floor_fields(sub, m, mo)
        if not applies:
            mu = [k for k in mu if k not in sub.tcm]
        if mu:
            member_unfilled[idx] = mu
        mg = m.get
        mp = prev_by_name.get(("hospital_name", mg("hospital_name"))) or prev_by_name.get(
            ("org_code", mg("org_code"))
        )

        def mle(code: str, a: Any, b: Any, mo: list = mo) -> None:
            if a is not None and b is not None and a > b and not _close(a, b):
                mo.append((code, f"{a}不能大于{b}"))

        def mrange(code: str, x: Any, lo: float, hi: float, mo: list = mo) -> None:
            if x is not None and ((x < lo and not _close(x, lo)) or (x > hi and not _close(x, hi))):
                mo.append((code, f"{x}超出合理范围"))

        mov, moev, madl = (
            n(mg("outpatient_visits")),
            n(mg("outpatient_emergency_visits")),
            n(mg("avg_daily_outpatient")),
        )
        mle("t3m.c01", mov, moev)
        mle("t3m.c02", madl, moev)
        mle(
            "t3m.c03", add(n(mg("diabetes_outpatient_visits")), n(mg("hypertension_outpatient_visits"))), moev
        )
        s = add(n(mg("referral_up")), n(mg("referral_down")), n(mg("referral_received")))
        mrt = n(mg("referral_total"))
        if s is not None and mrt is not None and not (s == mrt or _close(s, mrt)):
            mo.append(("t3m.c04", f"{s}应等于{mrt}"))
        if moev is not None and madl is not None:
            if not (
                (moev >= 100 * madl or _close(moev, 100 * madl))
                and (moev <= 366 * madl or _close(moev, 366 * madl))
            ):
                mo.append(("t3m.c05", "推算的工作日天数不在100～366天之间"))
        ca, vol, orv = n(mg("outpatient_cost_avg")), n(mg("outpatient_volume")), n(mg("outpatient_revenue"))
        if ca is not None and vol is not None and orv is not None:
            mle("t3m.c06", abs(ca * vol - orv), 0.1 * orv)
        cpv = n(mg("outpatient_cost_per_visit"))
        if ca is not None and cpv is not None:
            mle("t3m.c07", abs(ca - cpv), 0.1 * cpv)
        ica, dis, irv = n(mg("inpatient_cost_avg")), n(mg("discharged_patients")), n(mg("inpatient_revenue"))
        if ica is not None and dis is not None and irv is not None:
            mle("t3m.c08", abs(ica * dis - irv), 0.1 * irv)
        mrange("t3m.c09", n(mg("bed_occupancy_rate")), 0, 150)
        mrange("t3m.c10", n(mg("avg_length_of_stay")), 1, 60)
        mrange("t3m.c11", cpv, 10, 5000)
        mrange("t3m.c12", ca, 10, 5000)
        mrange("t3m.c13", n(mg("inpatient_cost_per_capita")), 500, 100000)
        mrange("t3m.c14", ica, 500, 100000)
        mrange("t3m.c15", n(mg("ct_report_hours")), 0, 72)
        if mp is not None:
            for code, k in (
                ("t3m.c16", "outpatient_visits"),
                ("t3m.c17", "outpatient_emergency_visits"),
                ("t3m.c18", "discharged_patients"),
                ("t3m.c19", "inpatient_admissions"),
                ("t3m.c20", "total_surgeries"),
                ("t3m.c21", "referral_total"),
            ):
                x, p = n(mg(k)), n(mp.get(k))
                if x is not None and p is not None:
                    mle(code, abs(x - p), 0.5 * p)
        for code, k in (
            ("t3m.c22", "outpatient_visits"),
            ("t3m.c23", "discharged_patients"),
            ("t3m.c24", "referral_total"),
        ):
            x = n(mg(k))
            if x is None:
                continue
            known = [
                y
                for j, o in enumerate(members)
                if j != idx
                for y in (o.get(k),)
                if type(y) is int or type(y) is float
            ]
            st = _stats(known)
            if st is not None and st[1] != 0:
                mle(code, abs((x - st[0]) / (1.4826 * st[1])), 3.5)
        for code, text in mo:
            member_out.append((code, idx, text))
        mr: dict[str, str] = {}
        mi: dict[str, Any] = {}
        mi["t3m.i01"] = _ratio(sub, m, "discharged_patients", "open_beds", 1, mr, "t3m.i01")
        mi["t3m.i02"] = _ratio(sub, m, "referral_total", "discharged_patients", 100, mr, "t3m.i02")
        mi["t3m.i03"] = _ratio(sub, m, "referral_up", "referral_total", 100, mr, "t3m.i03")
        mi["t3m.i04"] = _ratio(sub, m, "referral_down", "referral_total", 100, mr, "t3m.i04")
        mi["t3m.i05"] = _ratio(sub, m, "referral_down", "referral_up", 1, mr, "t3m.i05")
        mi["t3m.i06"] = _ratio(
            sub, m, "outpatient_emergency_visits", "avg_daily_outpatient", 1, mr, "t3m.i06"
        )
        mo_r, mi_r = n(mg("outpatient_revenue")), n(mg("inpatient_revenue"))
        mi["t3m.i07"] = (
            round(mo_r / (mo_r + mi_r) * 100, 4)
            if mo_r is not None and mi_r is not None and mo_r + mi_r != 0
            else None
        )
        mi["t3m.i08"] = _ratio(sub, m, "outpatient_revenue", "outpatient_volume", 1, mr, "t3m.i08")
        mi["t3m.i09"] = _ratio(sub, m, "inpatient_revenue", "discharged_patients", 1, mr, "t3m.i09")
        mi["t3m.i10"] = _growth(sub, m, mp, "referral_down", mr, "t3m.i10")
        mi["t3m.i11"] = _growth(sub, m, mp, "referral_up", mr, "t3m.i11")
        member_indicators.append(mi)
    return {
        "indicators": ind,
        "reasons": reasons,
        "attainment": attainment,
        "violations": out,
        "member_violations": member_out,
        "unfilled": unfilled,
        "member_unfilled": member_unfilled,
        "member_indicators": member_indicators,
    }


def floor_peer_stats(peers: list[dict[str, Any]]) -> dict[str, Any]:
    stats = {}
    for k in ("outpatient_visits", "discharged_patients", "total_surgeries", "referral_total"):
        stats[k] = _stats([x for p in peers for x in (p.get(k),) if type(x) is int or type(x) is float])
    return stats


# --------------------------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------------------------


def _codes_engine(result: Any) -> tuple[list[str], list[str]]:
    lead = sorted(v.check for v in result.violations if v.member is None)
    members = sorted(f"{v.check}#{v.member}" for v in result.violations if v.member is not None)
    return lead, members


def compare(
    form: Any,
    lead_ff: FloorForm,
    sub_ff: FloorForm,
    subs: list[dict[str, Any]],
    group: PeerGroup,
    stats: dict,
) -> int:
    """Run both on every submission; return the number of submissions where they disagree."""
    mismatches = 0
    for s in subs:
        r = evaluate(
            form,
            s["values"],
            members=s["members"],
            previous=s["previous"],
            previous_members=s["previous_members"],
            peers=group,
        )
        f = floor_t3(lead_ff, sub_ff, s["values"], s["members"], s["previous"], s["previous_members"], stats)
        lead_codes, member_codes = _codes_engine(r)
        same = (
            r.indicators == f["indicators"]
            and lead_codes == sorted(c for c, _ in f["violations"])
            and member_codes == sorted(f"{c}#{i}" for c, i, _ in f["member_violations"])
            and r.unfilled == f["unfilled"]
            and r.member_unfilled == f["member_unfilled"]
            and r.member_indicators == f["member_indicators"]
            and r.attainment == f["attainment"]
        )
        if not same:
            mismatches += 1
            if mismatches <= 3:
                print("  MISMATCH", s["values"]["hospital_name"])
                for k in r.indicators:
                    if r.indicators[k] != f["indicators"].get(k):
                        print("   indicator", k, r.indicators[k], f["indicators"].get(k))
                print("   engine", lead_codes, member_codes)
                print(
                    "   floor ",
                    sorted(c for c, _ in f["violations"]),
                    sorted(f"{c}#{i}" for c, i, _ in f["member_violations"]),
                )
    return mismatches


def timed(fn: Any, n: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time is what the code costs even when other
    processes share the machine; wall time is what a user waits."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn(n)
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=5_000, help="evaluations to time for each (default 5000)")
    ap.add_argument("--full", action="store_true", help=f"also time {TOTAL_STORED:,} engine evaluations")
    args = ap.parse_args()

    if not (CATALOG / "t3.json").exists():
        sys.exit(f"{CATALOG}/t3.json not found")
    t0 = time.perf_counter()
    catalog = load_catalog_dir(CATALOG)
    load_s = time.perf_counter() - t0
    form = catalog["t3"]
    lead_ff = FloorForm(json.loads((CATALOG / "t3.json").read_text(encoding="utf-8")))
    sub_ff = FloorForm(json.loads((CATALOG / "t3m.json").read_text(encoding="utf-8")))

    subs = make_submissions(N_SUBMISSIONS)
    peers = [s["values"] for s in subs]
    group = PeerGroup(peers)
    checks = len(form.all_checks)
    sub_checks = len(form.subform.all_checks)
    print(f"catalog fjzl2019 loaded and compiled in {load_s * 1000:.0f} ms")
    print(
        f"form t3: {len(form.fields)} fields, {checks} checks ({len(form.checks)} catalog + {len(form.derived_checks)} derived), "
        f"{len(form.indicators)} indicators; sub-form t3m: {len(form.subform.fields)} fields, {sub_checks} checks, "
        f"{len(form.subform.indicators)} indicators; {N_MEMBERS} member entries per submission"
    )
    print(
        f"work per submission: {checks + N_MEMBERS * sub_checks} checks, {len(form.indicators) + N_MEMBERS * len(form.subform.indicators)} indicators"
    )

    mismatches = compare(form, lead_ff, sub_ff, subs, group, floor_peer_stats(peers))
    sample = evaluate(
        form,
        subs[0]["values"],
        members=subs[0]["members"],
        previous=subs[0]["previous"],
        previous_members=subs[0]["previous_members"],
        peers=group,
    )
    print(
        f"floor agrees with engine on {N_SUBMISSIONS - mismatches}/{N_SUBMISSIONS} submissions "
        f"(indicators, violation codes, unfilled); e.g. {len(sample.violations)} violations in submission 0"
    )

    def run_engine(n: int) -> None:
        k = len(subs)
        for i in range(n):
            s = subs[i % k]
            evaluate(
                form,
                s["values"],
                members=s["members"],
                previous=s["previous"],
                previous_members=s["previous_members"],
                peers=group,
            )

    def run_floor(n: int) -> None:
        k = len(subs)
        stats = floor_peer_stats(peers)  # computed once per peer set, like the engine's PeerGroup
        for i in range(n):
            s = subs[i % k]
            floor_t3(lead_ff, sub_ff, s["values"], s["members"], s["previous"], s["previous_members"], stats)

    run_engine(200)
    run_floor(200)  # warm-up
    n = args.n
    # engine and floor rounds alternate, so a busy neighbour on the machine slows both alike; best of 5
    rounds = [(timed(run_engine, n), timed(run_floor, n)) for _ in range(5)]
    te = min(r[0][1] for r in rounds)
    tf = min(r[1][1] for r in rounds)
    te_wall = min(r[0][0] for r in rounds)
    tf_wall = min(r[1][0] for r in rounds)
    print()
    print(
        f"engine: {n / te:8,.0f} evaluations/s  ({te * 1e6 / n:7.1f} µs CPU each; wall {te_wall * 1e6 / n:7.1f} µs)"
    )
    print(
        f"floor : {n / tf:8,.0f} evaluations/s  ({tf * 1e6 / n:7.1f} µs CPU each; wall {tf_wall * 1e6 / n:7.1f} µs)"
    )
    ratio = te / tf
    print(
        f"ratio engine/floor: {ratio:.2f}×  (goal ≤ 3×: {'met' if ratio <= 3 else 'NOT met'}; best of 5 × {n:,} each)"
    )
    print(
        f"re-evaluating {TOTAL_STORED:,} stored submissions: measured {te:.2f} s CPU for {n:,} -> "
        f"extrapolated {te / n * TOTAL_STORED:.0f} s (floor {tf / n * TOTAL_STORED:.0f} s)"
    )
    if args.full:
        wall, cpu = timed(run_engine, TOTAL_STORED)
        print(
            f"measured {TOTAL_STORED:,} engine evaluations: {cpu:.0f} s CPU, {wall:.0f} s wall "
            f"({TOTAL_STORED / cpu:,.0f}/s CPU)"
        )
    if mismatches:
        print(
            "WARNING: floor and engine disagree — the catalog changed since the floor was written",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
