"""An authorization matrix generated from the URL resolver, so routes added later are included automatically.

1. Foreign objects: every route with an object in its URL × every Shandong role and level (alliance, city and
   province fillers; city and province reviewers; a sibling city's reviewer) × GET, POST (+ PUT, PATCH, DELETE on
   the API) with an object of 四川 / another user → 401/403/404/405 or a redirect to a login page, no 5xx, and
   no audit row written.
2. Writes by a read-only role: every route × POST, PUT, PATCH, DELETE as the national analyst (who may read
   everything) with 山东's objects → 400/403/404/405 or a login redirect, and no audit row — except the listed
   self-service routes (own password, own tokens, own notifications, starting an export) and the analyst's own
   duties (抽检, 常见问题; POST only).

The objects (notices, questions, FAQ entries, report evidence and its files, sampling batches, samples and
rectification items, scoring schemes) are built through the action layer by each province's own users
(tests/prod/objects.py). A URL parameter the matrix cannot fill fails the test with the route's name: give it a
factory or list it in NO_FACTORY with the reason. The figures (requests, leaks, routes with real objects) are
printed: `pytest tests/prod/test_authz_matrix.py -s`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db

MISSING_ID = "2147483647"
ACTORS = ["jinan_urban", "jinan_filler", "sd_filler", "jinan_reviewer", "sd_reviewer", "qingdao_reviewer"]
READ_ONLY = "analyst"
WRITE_METHODS = ["post", "put", "patch", "delete"]
REFUSED = {401, 403, 404, 405}
# Routes a read-only user may write to: only his own account and his own things.
SELF_SERVICE = {
    "logout", "login", "admin:login", "admin:logout", "password_change", "token_revoke", "api-token", "api-token-detail", "exports:start",
    "review:notifications_read", "review:notification_open", "api-notice-read-all",
    "communication:notices_read_all", "communication:settings", "communication:unsubscribe",
    "communication:question_new", "api-question-list", "communication:question_similar",
}
# POST routes the read-only role holds a part in by design (PUT/PATCH/DELETE on them must still be refused).
ANALYST_DUTIES = {
    "sampling:raise": "抽检 is the national and provincial analysts' and reviewers' (sampling.transitions.is_sampler)",
    "sampling:onsite": "现场抽查 results are recorded by the samplers (sampling.transitions.is_sampler)",
    "sampling:export": "a sampler exports his batch's board (an export job of his own)",
    "communication:faq_promote": "常见问题 are managed by the national reviewers and analysts (selectors.can_promote)",
    "communication:faq_withdraw": "常见问题 are managed by the national reviewers and analysts (selectors.can_promote)",
}
# Routes after which the session may be gone: log the actor in again, or every later route measures nothing.
SESSION_ENDING = {"logout", "admin:logout", "password_change"}
# POST routes that compute without writing: any signed-in user may ask (the figures of a value, a check run).
COMPUTE = {"submission_check_api": "runs the form's checks on posted values; nothing is stored"}
# Parameters the matrix cannot fill with a real foreign object: each is requested with the value in `World.foreign`
# (an id that does not exist, or a forged token) and must still be refused, never a 5xx; counted separately.
NO_FACTORY = {
    "communication:unsubscribe": "the signed token is the credential (mail links work without login, by design): a "
                                 "real token is honoured for whoever holds it, so only a forged one can be refused "
                                 "(400); the read-only test uses the analyst's own real token",
}


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    def url(self, values: dict[str, str]) -> str:
        path = self.pattern
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], path)
        return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def routes() -> list[Route]:
    def walk(patterns, prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                pattern = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or pattern)
                kwargs = tuple(re.findall(r"\(\?P<(\w+)>", pattern) + re.findall(r"<(?:\w+:)?(\w+)>", pattern))
                yield Route(pattern, name, kwargs)

    found = list(walk(get_resolver().url_patterns))
    # DRF's format-suffix duplicates (…\.(?P<format>[a-z0-9]+)/?$) are the same views.
    return [r for r in found if "format" not in r.kwargs]


NOTICE_ROUTES = ("api-notice-detail", "communication:notice", "communication:notice_withdraw")
# GET routes of the built objects: their owners open them (200), so a refusal in the matrix is never a broken object.
OBJECT_PAGES = ("api-notice-detail", "communication:notice", "api-question-detail", "communication:question",
                "api-attachment", "files:download", "sampling:batch", "sampling:sample", "sampling:item",
                "api-rectification-detail", "results:dry_run", "exports:status", "exports:download")


@dataclass
class World:
    foreign: dict[str, str]  # kwarg → value naming an object outside every actor's scope
    own: dict[str, str]  # kwarg → value inside the read-only actor's scope
    per_route: dict[str, dict[str, str]]  # route name → kwargs of a foreign object (四川's, or another user's)
    per_route_own: dict[str, dict[str, str]]  # route name → kwargs of an object inside the read-only actor's scope


@pytest.fixture(autouse=True)
def _local_media(settings, tmp_path):
    """Uploaded files (report evidence, notice attachments) go to a temporary folder."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}}


@pytest.fixture
def world(cast) -> World:
    from accounts.actions import token_issue
    from communication.actions import notice_publish, unsubscribe_token
    from exports.actions import export_request
    from review.actions import field_comment_add
    from review.models import Notification
    from tests.filling import fill_form
    from tests.prod.objects import shandong_objects, sichuan_objects

    # Built first: the evidence is attached while 5120001's form is still a draft.
    sichuan, shandong = sichuan_objects(cast), shandong_objects(cast)
    foreign_sub = cast.submission("5120001", "t3")
    fill_form(foreign_sub, state="submitted")
    own_sub = cast.submission("3701001", "t3")
    foreign_sub.refresh_from_db()
    member_key = foreign_sub.members.values_list("key", flat=True).first() or "k1"
    comment = field_comment_add(acting_user=cast.sc_reviewer, submission_id=foreign_sub.pk,
                                field_code="hospital_name", text="请核实")
    job = export_request(acting_user=cast.zy_urban, task=cast.task, kind="task", inline=True)
    token, _ = token_issue(acting_user=cast.zy_urban)
    note = Notification.objects.filter(recipient=cast.zy_urban).first() or Notification.objects.create(
        recipient=cast.zy_urban, submission=foreign_sub, verb="test", text="测试")
    foreign = {"submission_id": str(foreign_sub.pk), "comment_id": str(comment.pk), "key": member_key,
               "task_code": cast.task.code, "unit_code": "5120001", "object_id": str(foreign_sub.pk),
               "app_label": "reporting", "content_type_id": "1", "token": "forged-token",
               "id": str(cast.zy_urban.pk), "url": "no-such-page/"}
    own = {**foreign, "submission_id": str(own_sub.pk), "object_id": str(own_sub.pk), "unit_code": "3701001"}
    per_user = {
        "exports:status": {"pk": str(job.pk)}, "exports:download": {"pk": str(job.pk)},
        "token_revoke": {"pk": str(token.pk)}, "api-token-detail": {"pk": str(token.pk)},
        "review:notification_open": {"pk": str(note.pk)},
    }
    per_route = {**per_user, **{name: {"pk": str(pk)} for name, pk in sichuan.route_ids().items()}}
    # The read-only actor (national) reads both provinces: his objects are 山东's, a national notice, and his own
    # export job, token, notification and unsubscribe link.
    own_job = export_request(acting_user=cast.analyst, task=cast.task, kind="task", inline=True)
    own_token, _ = token_issue(acting_user=cast.analyst)
    own_note = Notification.objects.create(recipient=cast.analyst, submission=foreign_sub, verb="test", text="测试")
    national_notice = notice_publish(acting_user=cast.nation_reviewer, title="全国通知", body="请按时填报。",
                                     send_mail=False)
    per_route_own = {
        **{name: {"pk": str(pk)} for name, pk in shandong.route_ids().items()},
        **{name: {"pk": str(national_notice.pk)} for name in NOTICE_ROUTES},
        "exports:status": {"pk": str(own_job.pk)}, "exports:download": {"pk": str(own_job.pk)},
        "token_revoke": {"pk": str(own_token.pk)}, "api-token-detail": {"pk": str(own_token.pk)},
        "review:notification_open": {"pk": str(own_note.pk)},
        "communication:unsubscribe": {"token": unsubscribe_token(cast.analyst.pk, "notice")},
    }
    return World(foreign=foreign, own=own, per_route=per_route, per_route_own=per_route_own)


def _kwargs(route: Route, scope: dict[str, str], per_route: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """The URL values for `route`, or None when the matrix cannot build its object."""
    values = dict(per_route.get(route.name, {}))
    for kwarg in route.kwargs:
        if kwarg in values:
            continue
        if kwarg == "pk" and re.search(r"submissions/(<int:pk>|\(\?P<pk>)", route.pattern):
            values["pk"] = scope["submission_id"]
        elif kwarg in scope:
            values[kwarg] = scope[kwarg]
        elif route.name in NO_FACTORY:
            values[kwarg] = MISSING_ID
        else:
            return None
    return values


def _refused(response, client_login_paths=("/accounts/login/", "/admin/login/")) -> bool:
    if response.status_code in REFUSED:
        return True
    if response.status_code in (301, 302):
        return any(response.get("Location", "").startswith(p) for p in client_login_paths)
    return False


@dataclass
class Tally:
    requests: int = 0
    leaks: list[str] = None
    server_errors: list[str] = None
    accepted: list[str] = None  # a write method answered 2xx/3xx without writing anything (reported, not a leak)

    def __post_init__(self) -> None:
        self.leaks, self.server_errors, self.accepted = [], [], []


def _request(client: Client, method: str, url: str, api: bool):
    kwargs = {"content_type": "application/json", "data": "{}"} if method in ("put", "patch") or (
        api and method == "post") else {}
    if api:
        kwargs["HTTP_ACCEPT"] = "application/json"
    return getattr(client, method)(url, **kwargs)


def _run(routes_and_values, actors: list, methods: Callable[[Route], list[str]], tally: Tally,
         allowed: Callable[[Route, str], bool], strict_post: bool = False) -> None:
    for actor in actors:
        client = Client(raise_request_exception=False)
        client.force_login(actor)
        for route, values in routes_and_values:
            url = route.url(values)
            for method in methods(route):
                before = AuditEvent.objects.count()
                response = _request(client, method, url, route.is_api)
                tally.requests += 1
                wrote = AuditEvent.objects.count() != before
                where = f"{actor.username} {method.upper()} {url} ({route.name}) → {response.status_code}"
                if route.name in SESSION_ENDING or not client.session.get("_auth_user_id"):
                    client.force_login(actor)  # a logout route ended the session: the next request is his again
                if response.status_code >= 500:
                    tally.server_errors.append(where)
                elif allowed(route, method) or _refused(response) or response.status_code in (400, 409):
                    continue
                elif wrote or not strict_post and method == "post":
                    # Something was written, or (foreign objects) anything at all was answered.
                    tally.leaks.append(where + (" [audit row written]" if wrote else ""))
                elif method != "post":
                    tally.leaks.append(where)  # PUT/PATCH/DELETE must be 405 outside DRF views
                else:
                    tally.accepted.append(where)


def test_it_builds_real_objects_that_their_owners_open(cast, world):
    """The control: 四川's reviewer (its filler for his export job) and the analyst open every built object's page,
    so the refusals below are about scope, not about objects that do not exist."""
    by_name = {r.name: r for r in routes()}
    failures = []
    for scope, per_route, owner in ((world.foreign, world.per_route, lambda n: cast.zy_urban if n.startswith(
            "exports:") else cast.sc_reviewer), (world.own, world.per_route_own, lambda n: cast.analyst)):
        for name in OBJECT_PAGES:
            route = by_name[name]
            client = Client(raise_request_exception=False)
            client.force_login(owner(name))
            url = route.url(_kwargs(route, scope, per_route)) + ("?task=t2019" if name == "results:dry_run" else "")
            response = client.get(url, HTTP_ACCEPT="application/json" if route.is_api else "text/html")
            if response.status_code != 200:
                failures.append(f"{owner(name).username} GET {url} ({name}) → {response.status_code}")
    assert failures == []


def test_it_refuses_every_route_with_a_foreign_object_to_every_role_and_level(cast, world):
    todo, unbuilt = [], []
    for route in routes():
        if not route.kwargs:
            continue
        values = _kwargs(route, world.foreign, world.per_route)
        if values is None:
            unbuilt.append(f"{route.name} ({route.pattern})")
        else:
            todo.append((route, values))
    assert not unbuilt, "routes without an object factory (add one or list them in NO_FACTORY):\n" + "\n".join(
        unbuilt)
    tally = Tally()
    _run(todo, [getattr(cast, a) for a in ACTORS],
         lambda r: ["get", "post"] + (["put", "patch", "delete"] if r.is_api else []), tally,
         allowed=lambda r, m: False)
    covered = sum(1 for r, _ in todo if r.name not in NO_FACTORY)
    print(f"\nforeign-object matrix: {len(todo)} routes ({covered} with real foreign objects) × {len(ACTORS)} "
          f"roles/levels: {tally.requests} requests, {len(tally.leaks)} leaks, "
          f"{len(tally.server_errors)} server errors")
    assert tally.server_errors == []
    assert tally.leaks == [], "\n".join(tally.leaks)


def test_it_refuses_every_write_to_the_read_only_role(cast, world):
    todo, unbuilt = [], []
    for route in routes():
        values = _kwargs(route, world.own, world.per_route_own)
        if values is None:
            unbuilt.append(route.name)
        else:
            todo.append((route, values))
    assert not unbuilt
    tally = Tally()
    _run(todo, [getattr(cast, READ_ONLY)], lambda r: WRITE_METHODS, tally,
         allowed=lambda r, m: r.name in SELF_SERVICE or (m == "post" and r.name in ANALYST_DUTIES), strict_post=True)
    print(f"\nread-only writes: {len(todo)} routes × {len(WRITE_METHODS)} methods: {tally.requests} requests, "
          f"{len(tally.leaks)} leaks, {len(tally.server_errors)} server errors; POST answered without a write "
          f"on {len(tally.accepted)} GET-only pages:\n" + "\n".join(tally.accepted))
    assert tally.server_errors == []
    assert tally.leaks == [], "\n".join(tally.leaks)
    # A GET-only page answers 405 to POST and a write route refuses the role with 403: no page shrugs a POST off.
    assert [a for a in tally.accepted if not any(f"({name})" in a for name in COMPUTE)] == []
