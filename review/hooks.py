"""Extension points of the review workflow for apps above it (registered from their AppConfig.ready()).

- `submit_gates`: fn(submission) -> list of blocking items ({"kind", "check", "message", "fields", "member"}),
  added to the engine's when 上报 is checked (e.g. the self-assessment report is required and incomplete);
- `on_submitted`: fn(submission, snapshot, acting_user), run inside the submit transaction after the snapshot;
- `comment_targets`: fn(submission) -> {target code: label}, things besides fields a reviewer may comment on
  (e.g. "report.s1" for a report section);
- `review_panels`: fn(request, submission) -> HTML shown on the review page below the values;
- `board_notes`: fn(task, [(submission id, unit level)]) -> {submission id: short text} shown under a unit's
  status on the board;
- `submission_links`: fn(submission) -> [(label, url)] shown in the 上报 box (e.g. the report editor);
- `board_links`: fn(request, task, unit) -> [(label, url)] shown above the progress board (e.g. a zip download).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

submit_gates: list[Callable[[Any], list[dict]]] = []
on_submitted: list[Callable[[Any, Any, Any], None]] = []
comment_targets: list[Callable[[Any], dict[str, str]]] = []
review_panels: list[Callable[[Any, Any], str]] = []
board_notes: list[Callable[[Any, list[tuple[int, str]]], dict[int, str]]] = []
submission_links: list[Callable[[Any], list[tuple[str, str]]]] = []
board_links: list[Callable[[Any, Any, Any], list[tuple[str, str]]]] = []


def extra_blocking(submission) -> list[dict]:
    return [item for gate in submit_gates for item in gate(submission)]


def extra_targets(submission) -> dict[str, str]:
    out: dict[str, str] = {}
    for targets in comment_targets:
        out.update(targets(submission))
    return out


def panels(request, submission) -> list[str]:
    return [html for panel in review_panels if (html := panel(request, submission))]


def notes(task, cells: list[tuple[int, str]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for source in board_notes:
        for pk, text in source(task, cells).items():
            out[pk] = f"{out[pk]} · {text}" if pk in out else text
    return out


def links(submission) -> list[tuple[str, str]]:
    return [link for source in submission_links for link in source(submission)]
