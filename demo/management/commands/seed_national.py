"""A national-size dataset for benchmarks and for trying the pages at scale, built through the actions.

    python manage.py seed_national --alliances 2000 --members 6 --years 2

Units: the nation, every province and city of accounts' regions (32 provinces, 353 cities), `--alliances`
alliances spread over the cities (urban and county alternating), each with `--members` member units. Accounts:
a filler per province, city and alliance, a reviewer per nation/province/city, the analyst and admin — all
with the one `--password` (PBKDF2 with few iterations while seeding; Django re-hashes with the configured
hasher at the first login). Tasks: one per year ending with 2019 (`n2018`, `n2019`, …); every year's forms are
filled by their fillers with believable values (demo value generator, repaired with the engine; a pool of
value sets, one per unit for every year), member entries included; earlier years are submitted, the last year stays in draft
for `--fill` of the units and not started for the rest. Idempotent: units, accounts and tasks that exist are
reused, forms already filled are left alone. On PostgreSQL the tables are ANALYZEd at the end.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import Role, Unit, UnitLevel, User
from accounts.naming import NATION_CODE, alliance_code, analyst_username, member_code, reviewer_username
from accounts.regions import regions
from engine.valuegen import ValueGenerator
from reporting import actions as reporting_actions
from reporting.catalog_loader import folder_catalog
from reporting.models import Status, Submission, Task
from review import actions as review_actions

FAST_HASHERS = ["demo.management.commands.seed_national.SeedPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
FORM_LEVELS = {"t1": "province", "t2": "city", "t3": "urban_alliance", "t4": "county_alliance"}
POOL = 16
LAST_YEAR = 2019


class SeedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations while seeding thousands of accounts: the hash names its iterations, so the
    platform's own PBKDF2 hasher verifies it, and Django re-hashes with the configured hasher at first login."""

    iterations = 1000


class Command(BaseCommand):
    help = "Build a national-size dataset (all provinces and cities, N alliances × M members, Y years) through the actions."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--alliances", type=int, default=2000)
        parser.add_argument("--members", type=int, default=6)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--fill", type=float, default=1.0,
                            help="share of the last year's forms filled as drafts (0–1); earlier years: all")
        parser.add_argument("--forms", default="t1,t2,t3,t4", help="forms to fill (comma-separated codes)")
        parser.add_argument("--password", default="Bench#pass-2019")
        parser.add_argument("--seed", type=int, default=2019)

    def handle(self, *args, **opts) -> None:
        if opts["alliances"] < 0 or opts["members"] < 0 or opts["years"] < 1:
            raise CommandError("--alliances/--members ≥ 0 and --years ≥ 1")
        rng = random.Random(opts["seed"])
        started = time.monotonic()
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            fillers = self._hierarchy(opts["alliances"], opts["members"], opts["password"])
        self._say(f"units and accounts: {Unit.objects.count()} units, {User.objects.count()} users", started)
        forms = [c.strip() for c in opts["forms"].split(",") if c.strip()]
        unknown = sorted(set(forms) - set(FORM_LEVELS))
        if unknown:
            raise CommandError(f"unknown form codes: {', '.join(unknown)}")
        pools = {code: self._pool(code, opts["members"], rng) for code in forms}
        self._say("value pools ready", started)
        previous = None
        for year in range(LAST_YEAR - opts["years"] + 1, LAST_YEAR + 1):
            last = year == LAST_YEAR
            task = self._task(year, previous, current=last)
            filled = self._fill(task, fillers, pools, rng, share=opts["fill"] if last else 1.0, submit=not last)
            self._say(f"task {task.code}: {filled} forms filled", started)
            previous = task
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self._say("ANALYZE done", started)

    def _say(self, text: str, started: float) -> None:
        self.stdout.write(f"[{time.monotonic() - started:7.1f} s] {text}")

    # --- units and accounts ------------------------------------------------------------------------------------

    def _hierarchy(self, n_alliances: int, n_members: int, password: str) -> dict[int, User]:
        existing = {u.code: u for u in Unit.objects.all()}
        users = set(User.objects.values_list("username", flat=True))

        def unit(code: str, name: str, level: str, parent: Unit | None) -> Unit:
            if code not in existing:
                existing[code] = account_actions.unit_create(acting_user=None, code=code, name=name, level=level,
                                                             parent=parent)
            return existing[code]

        def account(username: str, u: Unit, role: str) -> None:
            if username not in users:
                account_actions.user_create(acting_user=None, username=username, unit=u, role=role,
                                            password=password, must_change_password=False)
                users.add(username)

        with transaction.atomic():
            nation = unit(NATION_CODE, "国家卫生健康委员会", UnitLevel.NATION, None)
            account(reviewer_username(nation.code), nation, Role.REVIEWER)
            account(analyst_username(nation.code), nation, Role.ANALYST)
            account("admin", nation, Role.ADMIN)
        cities: list[Unit] = []
        for p in regions()["provinces"]:
            with transaction.atomic():
                prov = unit(p["code"], p["name"], UnitLevel.PROVINCE, nation)
                account(prov.code, prov, Role.FILLER)
                account(reviewer_username(prov.code), prov, Role.REVIEWER)
                for c in p["cities"]:
                    city = unit(c["code"], c["name"], UnitLevel.CITY, prov)
                    account(city.code, city, Role.FILLER)
                    account(reviewer_username(city.code), city, Role.REVIEWER)
                    cities.append(city)
        seq: dict[tuple[str, str], int] = {}
        for i in range(n_alliances):
            city = cities[i % len(cities)]
            level = UnitLevel.URBAN_ALLIANCE if (i + i // len(cities)) % 2 == 0 else UnitLevel.COUNTY_ALLIANCE
            n = seq[(city.code, level)] = seq.get((city.code, level), 0) + 1
            code = alliance_code(city.code, level, n)
            kind = "医疗集团" if level == UnitLevel.URBAN_ALLIANCE else "医共体"
            with transaction.atomic():
                alliance = unit(code, f"{city.name}第{n}{kind}", level, city)
                account(code, alliance, Role.FILLER)
                for m in range(1, n_members + 1):
                    unit(member_code(code, m), f"{city.name}第{n}{kind}成员医院{m}", UnitLevel.MEMBER, alliance)
        return {u.unit_id: u for u in User.objects.filter(role=Role.FILLER).select_related("unit")}

    # --- values ------------------------------------------------------------------------------------------------

    def _pool(self, form_code: str, n_members: int, rng: random.Random) -> list[tuple[dict, list[dict]]]:
        form = folder_catalog()[form_code]
        pool = []
        for _ in range(POOL):
            gen = ValueGenerator(form, level=FORM_LEVELS[form_code], rng=rng, name="示例医院")
            members = ([gen.draft(form.subform, level="member", name=f"成员{i}", lead=False)
                        for i in range(n_members)] if form.subform is not None and n_members else None)
            values, members, _ = gen.repair(gen.draft(), members)
            pool.append((values, list(members or []), gen))
        return pool

    # --- tasks and forms ---------------------------------------------------------------------------------------

    def _task(self, year: int, previous: Task | None, *, current: bool) -> Task:
        code = f"n{year}"
        task = Task.objects.filter(code=code).first()
        if task is None:
            now = timezone.now()
            task = reporting_actions.task_create(
                acting_user=None, code=code, name=f"{year}年分级诊疗第三方评估（全国规模数据）",
                period_start=date(year, 1, 1), period_end=date(year, 6, 30),
                window_open=now - timedelta(days=1), window_close=now + timedelta(days=20),
                catalog_slug=settings.FJZL_DEFAULT_CATALOG, previous=previous, is_current=current)
        reporting_actions.submissions_ensure(acting_user=None, task=task)
        return task

    def _fill(self, task: Task, fillers: dict[int, User], pools: dict, rng: random.Random, *, share: float,
              submit: bool) -> int:
        filled = 0
        todo = (Submission.objects.filter(task=task, status=Status.NOT_STARTED).select_related("unit")
                .order_by("unit__path", "form_code"))
        for submission in todo.iterator(chunk_size=500):
            if rng.random() >= share or submission.form_code not in pools:
                continue
            user = fillers.get(submission.unit_id)
            if user is None:
                continue
            # the same clean value set for a unit every year (growing values by a factor breaks the catalog's
            # sum rules through rounding; the pool gives units different sizes)
            values, members, _ = pools[submission.form_code][submission.unit_id % POOL]
            grown = dict(values)
            for code in ("hospital_name", "alliance_name", "lead_hospital_name"):
                if code in grown:
                    grown[code] = submission.unit.name
            changes = [{"field": k, "value": v} for k, v in grown.items()]
            member_units = list(Unit.objects.filter(parent_id=submission.unit_id, level=UnitLevel.MEMBER)
                                .order_by("code")) if members else []
            with transaction.atomic():
                for i, m in enumerate(members):
                    entry = reporting_actions.member_add(
                        acting_user=user, submission_id=submission.pk,
                        member_unit=member_units[i] if i < len(member_units) else None)
                    mv = dict(m)
                    if "hospital_name" in mv and i < len(member_units):
                        mv["hospital_name"] = member_units[i].name
                    changes.extend({"field": k, "member": entry.key, "value": v} for k, v in mv.items())
                reporting_actions.submission_save(acting_user=user, submission_id=submission.pk, changes=changes)
            if submit:
                try:
                    review_actions.submission_submit(acting_user=user, submission_id=submission.pk)
                except review_actions.SubmitRefused:
                    pass  # a unit's peers can make a 合理性审核 rule fire; the form stays a draft, as some do  # a grown value set can break a rule; the form stays a draft, as some do in reality
            filled += 1
            if filled % 200 == 0:
                self.stdout.write(f"  {task.code}: {filled} forms")
        return filled
