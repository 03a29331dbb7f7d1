"""Field unlockers: another app (sampling's 整改要求) may open single fields of a locked submission to its unit's
fillers. An unlocker is `fn(submission) -> set[(member key or "", field code)]`; registered in an AppConfig.ready().
The save path asks here; every field no unlocker names stays locked."""

from __future__ import annotations

from collections.abc import Callable

_UNLOCKERS: list[Callable] = []


def register_field_unlocker(fn: Callable) -> None:
    if fn not in _UNLOCKERS:
        _UNLOCKERS.append(fn)


def unlocked_fields(submission) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for fn in _UNLOCKERS:
        out |= set(fn(submission))
    return out
