"""JSON endpoints of the data-entry page (autosave, on-demand check, member entries).

They only parse input and call reporting.actions; scoping is reporting.selectors.submissions_for (404 outside
the user's scope). Anonymous calls get 401 JSON rather than a login redirect, so the page can keep the
typed values locally and ask the user to log in again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Unit
from reporting.evaluation import evaluate_submission
from reporting.workflow import TransitionError

from . import actions
from .models import Submission
from .panel import attach_definitions, client_result, live_panel
from .selectors import submissions_for
from .views import edit_state, member_payload, member_rows_of, page_submission

KEY_RE = re.compile(r"^[0-9A-Za-z_-]{8,36}$")
MAX_CHANGES = 5000


log = logging.getLogger(__name__)

class BadRequest(Exception):
    pass


def json_login_required(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "登录已过期，请重新登录；您填写的内容已保留在本机。",
                                 "login_url": reverse("login")}, status=401)
        try:
            return view(request, *args, **kwargs)
        except BadRequest as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except actions.FieldLocked as exc:
            return JsonResponse({"error": str(exc), "refused": True, "code": "locked"}, status=409)
        except (actions.SaveRefused, TransitionError) as exc:
            return JsonResponse({"error": str(exc), "refused": True}, status=403)
        except Http404:
            return JsonResponse({"error": "报表不存在或无权访问。"}, status=404)

    return wrapper


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest("请求格式错误。") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求格式错误。")
    return data


def state_payload(user, submission: Submission, members: list | None = None) -> dict[str, Any]:
    """`members`: the entries (with `unit_code`) when the caller holds them; read here otherwise."""
    editable, reason = edit_state(user, submission)
    if members is None:
        members = list(member_rows_of(submission))
    return {
        "id": submission.pk,
        "revision": submission.revision,
        "status": submission.status,
        "status_display": submission.get_status_display(),
        "editable": editable,
        "readonly_reason": reason,
        "values": submission.values or {},
        "members": member_payload(members),
        "explanations": submission.explanations or {},
        "result": client_result(submission.result),
    }


@require_GET
@json_login_required
def submission_state(request: HttpRequest, pk: int) -> JsonResponse:
    """The stored values, members, explanations and cached check result of one submission."""
    submission = _submission(request.user, pk)
    return JsonResponse(state_payload(request.user, submission))


def _changes(data: dict[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("changes") or []
    if not isinstance(raw, list) or len(raw) > MAX_CHANGES:
        raise BadRequest("请求格式错误：changes 应为列表。")
    changes = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise BadRequest("请求格式错误：每项修改须含 field。")
        change = {"field": item["field"], "member": str(item.get("member") or ""), "value": item.get("value")}
        if "base" in item:
            change["base"] = item["base"]
        changes.append(change)
    return changes


def _explanations(data: dict[str, Any]) -> dict[str, str] | None:
    raw = data.get("explanations")
    if raw in (None, {}):
        return None
    if not isinstance(raw, dict):
        raise BadRequest("请求格式错误：explanations 应为对象。")
    return {str(k)[:120]: "" if v is None else str(v) for k, v in raw.items()}


def _submission(user, pk: int) -> Submission:
    """One submission in the user's scope (reporting.selectors; 404 outside), its form version from the process's
    cache instead of decoding the definition again."""
    return attach_definitions(page_submission(user, pk))


def _ensure_in_scope(user, pk: int) -> None:
    """404 unless the submission is in the user's scope (reporting.selectors; no row is loaded)."""
    if not submissions_for(user).filter(pk=pk).exists():
        raise Http404


@require_POST
@json_login_required
def submission_save(request: HttpRequest, pk: int) -> JsonResponse:
    """Autosave: {base_revision, changes: [{field, member, value, base}], explanations} → saved/errors/conflicts.

    The scope is not read before the save: the action lets only a filler of the submission's own unit write
    (reporting.policy.can_edit), and that unit is always in the filler's scope. When the request or the action
    is refused, the scope decides first, so someone who may not see the form gets 404 as from every page."""
    try:
        data = _body(request)
        base_revision = data.get("base_revision")
        if base_revision is not None and not isinstance(base_revision, int):
            raise BadRequest("请求格式错误：base_revision 应为整数。")
        changes, explanations = _changes(data), _explanations(data)
    except BadRequest:
        _ensure_in_scope(request.user, pk)
        raise
    try:
        result = actions.submission_save(acting_user=request.user, submission_id=pk, changes=changes,
                                         explanations=explanations, base_revision=base_revision)
    except Submission.DoesNotExist as exc:
        raise Http404 from exc
    except (actions.SaveRefused, TransitionError):
        _ensure_in_scope(request.user, pk)
        raise
    saved = result.submission
    members = result.members or []
    try:
        payload = state_payload(request.user, saved, members)
    except DatabaseError:
        # The save has committed: a connection lost while reading what the page shows must not make it believe
        # (and retry) a failed save. It reloads the state with its next request.
        log.warning("state after the committed save of submission %s not readable", saved.pk, exc_info=True)
        payload = {"revision": saved.revision, "status": saved.status, "members": [], "stale": True}
    stored: dict[str, Any] = {}
    member_values = {m.key: m.values for m in members}
    for key in result.saved:
        member, _, code = key.rpartition("/")
        stored[key] = (member_values.get(member, {}) if member else saved.values).get(code)
    payload.update({
        "saved": result.saved,
        "stored": stored,
        "errors": result.errors,
        "conflicts": [c.as_dict() for c in result.conflicts],
    })
    try:
        if not payload.get("stale"):
            payload["panel"] = live_panel(request, saved, member_rows=[(m.key, m.values) for m in members])
    except DatabaseError:
        # The save has committed; a connection lost while rendering the panel must not make the page believe
        # (and retry) a failed save. The page keeps its panel and gets a fresh one with its next request.
        log.warning("panel after the committed save of submission %s not readable", saved.pk, exc_info=True)
        payload["stale"] = True
    return JsonResponse(payload)


@require_POST
@json_login_required
def submission_check(request: HttpRequest, pk: int) -> JsonResponse:
    """Run the checks on the saved values now, without saving anything (审核 button)."""

    submission = _submission(request.user, pk)
    submission.result = evaluate_submission(submission)  # shown, not stored: the check never writes
    return JsonResponse({"revision": submission.revision, "result": client_result(submission.result),
                         "panel": live_panel(request, submission, checked_at=timezone.now())})


@require_POST
@json_login_required
def member_add(request: HttpRequest, pk: int) -> JsonResponse:
    """Add a member entry under the client-made key; a retried request returns the same entry."""
    submission = _submission(request.user, pk)
    data = _body(request)
    key = str(data.get("key") or "")
    if not KEY_RE.match(key):
        raise BadRequest("成员单位标识无效。")
    member_unit = None
    if data.get("unit"):
        member_unit = Unit.objects.filter(code=str(data["unit"]), parent_id=submission.unit_id).first()
        if member_unit is None:
            raise BadRequest("只能添加本单位的成员单位。")
    entry = actions.member_add(acting_user=request.user, submission_id=submission.pk, key=key,
                               member_unit=member_unit)
    submission.refresh_from_db(fields=["revision"])
    return JsonResponse({"key": entry.key, "position": entry.position, "values": entry.values,
                         "unit": member_unit.code if member_unit else "", "revision": submission.revision})


@require_POST
@json_login_required
def member_remove(request: HttpRequest, pk: int, key: str) -> JsonResponse:
    """Remove a member entry (and its values); removing one already gone succeeds."""
    submission = _submission(request.user, pk)
    actions.member_remove(acting_user=request.user, submission_id=submission.pk, key=key)
    saved = _submission(request.user, submission.pk)
    return JsonResponse({"key": key, "removed": True, "revision": saved.revision, "result": client_result(saved.result),
                         "panel": live_panel(request, saved)})
