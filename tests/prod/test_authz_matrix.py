"""An authorization matrix generated from the URL resolver, so routes added later are included automatically.

1. Foreign objects: every route with an object in its URL × every Shandong role and level (alliance, city and
   province fillers; city and province reviewers; a sibling city's reviewer) × GET, POST (+ PUT, PATCH, DELETE on
   the API) with an object of 四川 / another user → 401/403/404/405 or a redirect to a login page, no 5xx, and
   no audit row written.
2. Writes by a read-only role: every route × POST, PUT, PATCH, DELETE as the national analyst (who may read
   everything) → 400/403/404/405 or a login redirect, and no audit row — except the listed self-service routes
   (own password, own tokens, own notifications, starting an export).

A URL parameter the matrix cannot fill fails the test with the route's name: give it a factory below or list it
in NO_FACTORY with the reason. The figures (requests, leaks) are printed: `pytest tests/prod/test_authz_matrix.py
-s`.
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
# Routes after which the session may be gone: log the actor in again, or every later route measures nothing.
SESSION_ENDING = {"logout", "admin:logout", "password_change"}
# POST routes that compute without writing: any signed-in user may ask (the figures of a value, a check run).
COMPUTE = {"submission_check_api": "runs the form's checks on posted values; nothing is stored"}
# Parameters of routes whose objects the matrix does not build yet: each is requested with an id that does not
# exist (must still be refused, never a 5xx), and counted separately.
NO_FACTORY = {
    "api-notice-detail": "notice objects of the communication app",
    "api-question-detail": "question objects of the communication app",
    "api-question-act": "question objects of the communication app",
    "api-attachment": "attachment objects of the files app",
    "api-rectification-detail": "rectification items of the sampling app",
    "api-rectification-answer": "rectification items of the sampling app",
    "api-rectification-close": "rectification items of the sampling app",
    "api-rectification-reopen": "rectification items of the sampling app",
    "api-rectification-escalate": "rectification items of the sampling app",
    "sampling:batch": "sampling batches", "sampling:export": "sampling batches", "sampling:sample": "samples",
    "sampling:raise": "samples", "sampling:onsite": "samples", "sampling:item": "rectification items",
    "sampling:act": "rectification items", "files:download": "uploaded files",
    "communication:notice": "notices", "communication:notice_withdraw": "notices",
    "communication:question": "questions", "communication:question_act": "questions",
    "communication:faq_promote": "questions", "communication:faq_withdraw": "FAQ entries",
    "communication:unsubscribe": "signed tokens (a forged one must answer 400)",
    "results:dry_run": "scoring schemes",
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


@dataclass
class World:
    foreign: dict[str, str]  # kwarg → value naming an object outside every actor's scope
    own: dict[str, str]  # kwarg → value inside the read-only actor's scope
    per_route: dict[str, dict[str, str]]  # route name → kwargs of a foreign per-user object


@pytest.fixture
def world(cast) -> World:
    from accounts.actions import token_issue
    from exports.actions import export_request
    from review.actions import field_comment_add
    from review.models import Notification
    from tests.filling import fill_form

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
    per_route = {
        "exports:status": {"pk": str(job.pk)}, "exports:download": {"pk": str(job.pk)},
        "token_revoke": {"pk": str(token.pk)}, "api-token-detail": {"pk": str(token.pk)},
        "review:notification_open": {"pk": str(note.pk)},
    }
    return World(foreign=foreign, own=own, per_route=per_route)


def _kwargs(route: Route, world: World, scope: dict[str, str]) -> dict[str, str] | None:
    """The URL values for `route`, or None when the matrix cannot build its object."""
    values = dict(world.per_route.get(route.name, {}))
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
         allowed: Callable[[Route], bool], strict_post: bool = False) -> None:
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
                elif allowed(route) or _refused(response) or response.status_code in (400, 409):
                    continue
                elif wrote or not strict_post and method == "post":
                    # Something was written, or (foreign objects) anything at all was answered.
                    tally.leaks.append(where + (" [audit row written]" if wrote else ""))
                elif method != "post":
                    tally.leaks.append(where)  # PUT/PATCH/DELETE must be 405 outside DRF views
                else:
                    tally.accepted.append(where)


def test_it_refuses_every_route_with_a_foreign_object_to_every_role_and_level(cast, world):
    todo, unbuilt = [], []
    for route in routes():
        if not route.kwargs:
            continue
        values = _kwargs(route, world, world.foreign)
        if values is None:
            unbuilt.append(f"{route.name} ({route.pattern})")
        else:
            todo.append((route, values))
    assert not unbuilt, "routes without an object factory (add one or list them in NO_FACTORY):\n" + "\n".join(
        unbuilt)
    tally = Tally()
    _run(todo, [getattr(cast, a) for a in ACTORS],
         lambda r: ["get", "post"] + (["put", "patch", "delete"] if r.is_api else []), tally,
         allowed=lambda r: False)
    covered = sum(1 for r, _ in todo if r.name not in NO_FACTORY)
    print(f"\nforeign-object matrix: {len(todo)} routes ({covered} with real foreign objects) × {len(ACTORS)} "
          f"roles/levels: {tally.requests} requests, {len(tally.leaks)} leaks, "
          f"{len(tally.server_errors)} server errors")
    assert tally.server_errors == []
    assert tally.leaks == [], "\n".join(tally.leaks)


def test_it_refuses_every_write_to_the_read_only_role(cast, world):
    todo, unbuilt = [], []
    for route in routes():
        values = _kwargs(route, world, world.own)
        if values is None:
            unbuilt.append(route.name)
        else:
            todo.append((route, values))
    assert not unbuilt
    tally = Tally()
    _run(todo, [getattr(cast, READ_ONLY)], lambda r: WRITE_METHODS, tally,
         allowed=lambda r: r.name in SELF_SERVICE, strict_post=True)
    print(f"\nread-only writes: {len(todo)} routes × {len(WRITE_METHODS)} methods: {tally.requests} requests, "
          f"{len(tally.leaks)} leaks, {len(tally.server_errors)} server errors; POST answered without a write "
          f"on {len(tally.accepted)} GET-only pages:\n" + "\n".join(tally.accepted))
    assert tally.server_errors == []
    assert tally.leaks == [], "\n".join(tally.leaks)
    # A GET-only page answers 405 to POST and a write route refuses the role with 403: no page shrugs a POST off.
    assert [a for a in tally.accepted if not any(f"({name})" in a for name in COMPUTE)] == []
