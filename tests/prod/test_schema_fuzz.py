"""Schema fuzzing: schemathesis generates requests from the OpenAPI schema the platform serves at /api/schema/ and
sends them to the app in-process (WSGI), authenticated with API tokens of a filler (济南's alliance 3701001), a
reviewer (济南市) and the national analyst. Every operation is fuzzed with schema-valid (positive) and
schema-violating (negative) data; path ids are generated or taken from real objects of both provinces (forms in
every state, notices, questions, report evidence, rectification items, the caller's own spare token), so the
generated bodies reach the views' real code paths and not only their 404s.

Checks: no response is a server error (not_a_server_error), and every documented response matches its schema
(response_schema_conformance). Bounded and derandomised (hypothesis' derandomize: the same generated data every
run; the real objects' ids follow the database's sequences, so the status counts can differ between runs);
FJZL_FUZZ_SCALE multiplies the examples and FJZL_FUZZ_SEED draws other ones, for a longer hunt by hand.
The figures are printed: `pytest tests/prod/test_schema_fuzz.py -s`.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

import pytest
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections

pytestmark = pytest.mark.django_db

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

ACTORS = ("jinan_urban", "jinan_reviewer", "analyst")  # a filler, a reviewer, the national analyst
# Examples per operation, actor and mode; FJZL_FUZZ_SCALE multiplies them for a longer hunt outside CI.
SCALE = float(os.environ.get("FJZL_FUZZ_SCALE", "1"))
# A seed (FJZL_FUZZ_SEED) draws other requests than CI's fixed ones, for a hunt; unset, every run is the same.
SEED = os.environ.get("FJZL_FUZZ_SEED")
EXAMPLES = {GenerationMode.POSITIVE: round(8 * SCALE), GenerationMode.NEGATIVE: round(6 * SCALE)}
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    tracebacks: list[str] = field(default_factory=list)
    no_negative: list[str] = field(default_factory=list)  # operations without anything to make invalid


@pytest.fixture(autouse=True)
def _local_media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}}


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, inside the test's transaction: like django.test.Client, the handler must
    not close the connection at the end of each request (it would end the transaction the test runs in)."""
    from django.core.wsgi import get_wsgi_application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def no_user_throttle(monkeypatch):
    """The per-user API rate (6000/hour) is not under test here; the login throttle stays on."""
    from accounts.throttling import UserThrottle

    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", {**UserThrottle.THROTTLE_RATES, "user": None})


def _ids(cast) -> dict[str, list[int]]:
    """Real objects for the path ids, per path prefix: both provinces' (the callers may see some of them)."""
    from tests.filling import APPROVED, CLEAN_DRAFT, REJECTED, SUBMITTED, fill_form
    from tests.prod.objects import shandong_objects, sichuan_objects

    sd, sc = shandong_objects(cast), sichuan_objects(cast)
    forms = [fill_form(cast.submission("3701001", "t3"), state=CLEAN_DRAFT),
             fill_form(cast.submission("3701001-2", "t3"), state=SUBMITTED),
             fill_form(cast.submission("3701002", "t4"), state=REJECTED),
             fill_form(cast.submission("3702002", "t4"), state=APPROVED),
             cast.submission("370100", "t2"), cast.submission("5120001", "t3")]
    return {
        "/api/submissions/": [s.pk for s in forms] + [sd.approved_submission_id, sc.approved_submission_id],
        "/api/rectifications/": [sd.item_id, sc.item_id],
        "/api/notices/": [sd.notice_id, sc.notice_id],
        "/api/questions/": [sd.question_id, sc.question_id],
        "/api/attachments/": [sd.attachment_id, sc.attachment_id],
    }


def _record_exceptions(tally: Tally):
    def receiver(sender, request=None, **kwargs):
        tally.tracebacks.append(f"{request.method} {request.get_full_path()}\n{traceback.format_exc()}")

    return receiver


def test_it_answers_fuzzed_api_requests_without_a_server_error_and_as_documented(cast, wsgi_app, no_user_throttle):
    from accounts.actions import token_issue
    from accounts.models import ApiToken

    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    ids = _ids(cast)
    tally = Tally()
    receiver = _record_exceptions(tally)
    got_request_exception.connect(receiver)
    try:
        for actor_name in ACTORS:
            actor = getattr(cast, actor_name)
            auth = {}

            def headers(actor=actor, auth=auth) -> dict[str, str]:
                # The fuzzer may revoke the caller's token (DELETE /api/auth/tokens/{id}/): issue a new one.
                if "token" not in auth or not ApiToken.objects.filter(pk=auth["token"].pk,
                                                                     revoked_at__isnull=True).exists():
                    auth["token"], auth["key"] = token_issue(acting_user=actor, name="fuzz")
                return {"Authorization": f"Token {auth['key']}"}

            spare, _ = token_issue(acting_user=actor, name="spare")
            pools = {**ids, "/api/auth/tokens/": [spare.pk]}
            for operation in operations:
                pool = next((v for prefix, v in pools.items() if operation.path.startswith(prefix)), [])
                for mode, examples in EXAMPLES.items():
                    _fuzz(operation, mode, examples, pool, headers, tally, actor_name)
    finally:
        got_request_exception.disconnect(receiver)

    print(f"\nschema fuzzing: {len(operations)} operations × {len(ACTORS)} users: {tally.requests} requests, "
          f"{len(tally.server_errors)} server errors, {len(tally.nonconforming)} responses not matching the "
          f"schema; statuses {dict(sorted(tally.statuses.items()))}; no negative data for "
          f"{len(set(tally.no_negative))} operations")
    for line in tally.server_errors + tally.nonconforming:
        print(line)
    for tb in tally.tracebacks[:20]:
        print(tb)
    assert tally.server_errors == []
    assert tally.nonconforming == []


def _fuzz(operation, mode, examples: int, pool: list[int], headers, tally: Tally, who: str) -> None:
    ids = st.sampled_from([*pool, None]) if pool else st.just(None)  # None: keep the generated id

    @(seed(int(SEED)) if SEED else lambda test: test)
    @settings(max_examples=examples, derandomize=SEED is None, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real_id=ids)
    def run(case, real_id):
        if real_id is not None and "id" in (case.path_parameters or {}):
            case.path_parameters["id"] = real_id
        response = case.call(headers=headers())
        tally.requests += 1
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        where = f"{who} {case.method} {case.formatted_path} [{mode.value}] → {response.status_code}"
        try:
            case.validate_response(response, checks=CHECKS, headers=headers())
        except (AssertionError, FailureGroup) as e:
            failures = e.exceptions if isinstance(e, FailureGroup) else [e]
            target = tally.server_errors if response.status_code >= 500 else tally.nonconforming
            target.append(f"{where}: " + "; ".join(_describe(f) for f in failures)
                          + f"\n    request: query={case.query} body={_short(case.body)}")

    try:
        run()
    except Unsatisfiable:  # nothing in the operation can be made invalid (e.g. negative data for GET /api/faq/)
        tally.no_negative.append(f"{case_label(operation)}")


def _describe(failure) -> str:
    title = getattr(failure, "title", "") or type(failure).__name__
    message = " ".join(str(getattr(failure, "message", "") or failure).split())
    return f"{title}: {message[:400]}"


def case_label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _short(body) -> str:
    text = repr(body)
    return text if len(text) < 300 else text[:300] + "…"
