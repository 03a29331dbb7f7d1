"""Load benchmark of the deadline day: gunicorn (4 workers) on PostgreSQL and Redis, N filler accounts on N units.

    DATABASE_URL=postgres://…/mydb REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python benchmarks/bench_load.py --fillers 50 --paced-seconds 60 --closed-seconds 30

1. A benchmark database named after the environment's (`<DATABASE_URL's name>_load`, or $BENCH_DB_NAME) is
   dropped, created, migrated and seeded with `manage.py seed_national` (all provinces and cities, N alliances
   with --members member units, two years, 表3/表4 filled through the actions; ANALYZE at the end).
2. gunicorn starts on 127.0.0.1 on a free port with 4 workers (only loopback traffic, stopped at the end).
3. (a) Paced fillers: every filler logs in, loads its form, then autosaves as the browser does (one or two
   changed fields per save, the base value of each field, a pause of --think seconds ± 50 % between saves) and
   reloads the page every --reload saves, for --paced-seconds.
   (b) Closed loop: --closed-clients clients save back-to-back for --closed-seconds, then as many clients load a
   trivial view (the login page: middleware, session, one small template) back-to-back for as long, in the
   same run (one after the other: run at once, both loops queue for the same workers and get about the same
   rate whatever a save costs).
4. Prints p50/p95/p99 per request kind, the error rate, saves/s as a ratio to the trivial view's requests/s,
   and the saves lost: for every field, the value the server last told a client it saved against the value the
   database holds at the end.

Every loop is bounded by time and count and the script stops by itself (and stops gunicorn). The load generator
runs on the same machine (threads; it costs CPU too) — on a shared machine the figures are noisy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "Bench#pass-2019"
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound on every loop besides its time


# --- database ------------------------------------------------------------------------------------------------

def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench_load needs DATABASE_URL=postgres://… (the benchmark database is named after it)")
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    bench = os.environ.get("BENCH_DB_NAME") or f"{name}_load"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", bench):
        sys.exit(f"unsafe database name {bench!r}")
    import psycopg2

    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {bench}")
        cur.execute(f"CREATE DATABASE {bench}")
    conn.close()
    return f"{base}/{bench}"


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP client -----------------------------------------------------------------------------------------------

class Client:
    """One browser: cookies, CSRF token, a fresh connection per request (gunicorn's sync workers close)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "127.0.0.1"}
        h.update(headers or {})
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            for value in resp.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(value)
                for k, morsel in cookie.items():
                    self.cookies[k] = morsel.value
        except OSError:
            status, data = 0, b""
        finally:
            conn.close()
        return status, data, time.perf_counter() - started

    def login(self, username: str, password: str) -> bool:
        self.request("GET", "/accounts/login/")
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
        status, _, _ = self.request("POST", "/accounts/login/", form.encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.port}/"})
        return status == 302 and "sessionid" in self.cookies

    def save(self, pk: int, changes: list[dict], revision: int) -> tuple[int, dict, float]:
        body = json.dumps({"base_revision": revision, "changes": changes, "explanations": {}}).encode()
        status, data, seconds = self.request("POST", f"/submissions/{pk}/api/save", body, {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-CSRFToken": self.cookies.get("csrftoken", ""), "X-Requested-With": "XMLHttpRequest",
            "Referer": f"http://127.0.0.1:{self.port}/submissions/{pk}/"})
        try:
            payload = json.loads(data) if status == 200 else {}
        except ValueError:
            payload = {}
        return status, payload, seconds


# --- measurements ----------------------------------------------------------------------------------------------

@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    elapsed: dict[str, float] = field(default_factory=dict)  # seconds a kind ran, when not the whole phase

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1

    def report(self, title: str, elapsed: float) -> dict[str, float]:
        print(f"\n== {title} ({elapsed:.0f} s)")
        rates = {}
        for kind, values in sorted(self.times.items()):
            if not values:
                continue
            q = statistics.quantiles(values, n=100) if len(values) >= 2 else [values[0]] * 99
            rates[kind] = len(values) / self.elapsed.get(kind, elapsed)
            print(f"  {kind:<10} n={len(values):6d}  {rates[kind]:7.1f}/s  p50={q[49] * 1000:7.1f} ms  "
                  f"p95={q[94] * 1000:7.1f} ms  p99={q[98] * 1000:7.1f} ms  errors={self.errors[kind]} "
                  f"({100.0 * self.errors[kind] / len(values):.2f} %)")
        return rates


@dataclass
class Filler:
    username: str
    pk: int
    fields: list[str]
    client: Client
    revision: int = 0
    confirmed: dict[str, int] = field(default_factory=dict)  # field -> value the server said it saved

    def changes(self, rng: random.Random) -> list[dict]:
        picked = rng.sample(self.fields, k=min(len(self.fields), rng.choice((1, 1, 2))))
        return [{"field": f, "member": "", "value": str(rng.randrange(1, 10_000)),
                 "base": self.confirmed.get(f)} for f in picked]

    def save(self, stats: Stats, rng: random.Random, kind: str = "save") -> None:
        changes = self.changes(rng)
        status, payload, seconds = self.client.save(self.pk, changes, self.revision)
        ok = status == 200 and not payload.get("errors")
        stats.add(kind, seconds, ok)
        if status == 200:
            self.revision = payload.get("revision", self.revision)
            for key in payload.get("saved") or []:
                self.confirmed[key] = payload["stored"][key]
            for c in payload.get("conflicts") or []:  # someone else's value: take it as the new base
                self.confirmed[c["field"]] = c["theirs"]

    def page(self, stats: Stats) -> None:
        status, data, seconds = self.client.request("GET", f"/submissions/{self.pk}/")
        stats.add("page", seconds, status == 200)
        m = re.search(rb'"revision": (\d+)', data)
        if m:
            self.revision = int(m.group(1))


def paced(fillers: list[Filler], seconds: float, think: float, reload_every: int, seed: int) -> Stats:
    stats = Stats()
    stop = time.monotonic() + seconds

    def run(f: Filler, i: int) -> None:
        rng = random.Random(seed + i)
        time.sleep(rng.uniform(0, think))  # fillers do not start in step
        f.page(stats)
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= stop:
                return
            time.sleep(think * rng.uniform(0.5, 1.5))
            if time.monotonic() >= stop:
                return
            f.save(stats, rng)
            if reload_every and (n + 1) % reload_every == 0:
                f.page(stats)

    threads = [threading.Thread(target=run, args=(f, i), daemon=True) for i, f in enumerate(fillers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    return stats


def closed(fillers: list[Filler], port: int, clients: int, seconds: float, seed: int) -> Stats:
    """Saves back-to-back for `seconds`, then the trivial view back-to-back for `seconds`, each with `clients`
    clients, in the same run. One after the other, not at once: run together, both loops wait in the same
    queue of the same gunicorn workers, so each gets about the same share of requests whatever it costs and
    the ratio says nothing about the cost of a save."""
    stats = Stats()

    def saver(f: Filler, i: int, stop: float) -> None:
        rng = random.Random(seed + 1000 + i)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= stop:
                return
            f.save(stats, rng)

    def trivial(stop: float) -> None:
        c = Client(port)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= stop:
                return
            status, _, secs = c.request("GET", "/accounts/login/")
            stats.add("trivial", secs, status == 200)

    for kind in ("save", "trivial"):
        started = time.monotonic()
        stop = started + seconds
        if kind == "save":
            threads = [threading.Thread(target=saver, args=(fillers[i % len(fillers)], i, stop), daemon=True)
                       for i in range(clients)]
        else:
            threads = [threading.Thread(target=trivial, args=(stop,), daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 120)
        stats.elapsed[kind] = time.monotonic() - started
    return stats


def lost_saves(env: dict, fillers: list[Filler]) -> tuple[int, int]:
    """(fields checked, fields whose database value differs from what the server last told a client)."""
    script = ("import json,sys;from reporting.models import Submission;"
              "ids=json.loads(sys.stdin.read());"
              "print(json.dumps({str(s.pk): s.values for s in Submission.objects.filter(pk__in=ids)}))")
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         input=json.dumps([f.pk for f in fillers]), capture_output=True, text=True).stdout
    stored = json.loads(out.strip().splitlines()[-1])
    checked = lost = 0
    for f in fillers:
        values = stored.get(str(f.pk), {})
        for key, value in f.confirmed.items():
            checked += 1
            lost += values.get(key) != value
    return checked, lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fillers", type=int, default=50)
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument("--paced-seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=3.0, help="seconds between a filler's saves (±50 %%)")
    parser.add_argument("--reload", type=int, default=20, help="reload the page every N saves (0 = never)")
    parser.add_argument("--closed-seconds", type=float, default=30)
    parser.add_argument("--closed-clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()

    env = dict(os.environ)
    env["DATABASE_URL"] = bench_database_url()
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
                # plain HTTP on loopback: no SSL redirect, no secure-only cookies (settings.HTTPS)
                "DJANGO_HTTPS": env.get("DJANGO_HTTPS") or "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "LOG_LEVEL": "ERROR"})
    print(f"database {env['DATABASE_URL'].rpartition('@')[2]}; seeding {args.fillers} alliances × "
          f"{args.members} members, 2 years …", flush=True)
    started = time.monotonic()
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "seed_national", "--alliances", str(args.fillers), "--members", str(args.members), "--years", "2",
           "--forms", "t3,t4", "--password", PASSWORD, "--seed", str(args.seed))
    print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)

    script = ("import json;from reporting.models import Submission,Task;"
              "t=Task.objects.get(is_current=True);rows=[];"
              "[rows.append([s.unit.code,s.pk,s.revision,[f['code'] for f in s.form_version.definition['fields'] "
              "if f.get('type')=='count' and not f.get('condition') and not f.get('of')][:12]]) "
              "for s in Submission.objects.filter(task=t,form_code__in=['t3','t4']).select_related('unit','form_version')"
              ".order_by('unit__code')];print(json.dumps(rows))")
    rows = json.loads(subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1])

    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(PYTHON).with_name("gunicorn")), "config.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "120", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        fillers = []
        for code, pk, revision, fields in rows:
            client = Client(port)
            if client.login(code, PASSWORD) and fields:
                fillers.append(Filler(code, pk, fields, client, revision))
        print(f"gunicorn -w {args.workers} on 127.0.0.1:{port}; {len(fillers)} fillers logged in; load average "
              "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
        if not fillers:
            sys.exit("no filler could log in")

        stats = paced(fillers, args.paced_seconds, args.think, args.reload, args.seed)
        stats.report(f"(a) {len(fillers)} paced fillers, a save every {args.think:.1f} s ± 50 %, page reload "
                     f"every {args.reload} saves", args.paced_seconds)
        stats = closed(fillers, port, args.closed_clients, args.closed_seconds, args.seed)
        rates = stats.report(f"(b) closed loop: {args.closed_clients} clients saving for {args.closed_seconds:.0f} s, "
                             f"then {args.closed_clients} clients on a trivial view (the login page) for "
                             f"{args.closed_seconds:.0f} s", 2 * args.closed_seconds)
        if rates.get("trivial"):
            print(f"  saves/s as a share of the trivial view's requests/s: "
                  f"{100.0 * rates.get('save', 0) / rates['trivial']:.1f} %")
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
    print("load average at the end: {:.1f} {:.1f} {:.1f} (the load generator runs on this machine too)"
          .format(*os.getloadavg()))
    checked, lost = lost_saves(env, fillers)
    print(f"\nsaves lost: {lost} of {checked} fields a client was told were saved differ from the database")


if __name__ == "__main__":
    main()
