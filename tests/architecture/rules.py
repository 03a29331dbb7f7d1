"""Lint rules that hold the architecture contract (docs/ARCHITECTURE.md), checked by an AST walk of the source.

Each rule takes (path relative to the repository root, source text) and returns the violations as strings
"path:line: message", so a test can run it on the whole tree and on a deliberately bad snippet alike.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The app order, lowest first: an app may import itself and the apps before it, never one after it.
# New apps join at the top (they may import everything below; nothing older imports them). Where an older layer
# must ask a newer one (which fields are unlocked, is the report complete), it offers a hook/registry instead.
LAYERS: list[str] = [
    "engine",  # Django-free: compiled catalog, expressions, evaluation, condition trees, value generation
    "accounts",  # units, users, audit, scoping
    "reporting",  # tasks, form versions, submissions, workflow, edit policy, evaluation loader, entry pages
    "indicators",  # rule changes of a running task, re-evaluation jobs, analysis
    "exports",  # Excel export jobs, registry, templates and template import
    "review",  # review pages, comments, notifications, queue, progress board, DRF review API
    "demo",  # demo data laid out through the actions (seed_demo)
    "files",  # uploaded files (new apps from here on)
    "communication",
    "selfassessment",
    "sampling",
    "results",
    "config",  # settings and URL roots see every app
]
# Not scanned: tests, fixtures, benchmarks, scripts (they may use any layer).
NOT_SCANNED = {"tests", "benchmarks", "scripts", "docs", "static", "templates", ".venv", "node_modules"}
# The engine imports the standard library only.
ENGINE_FORBIDDEN = {"django", "rest_framework", "celery", "psycopg2", "redis"}

# ORM writes: the method names that write, and where writes may stand.
WRITE_METHODS = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
                 "update"}
QUERYSET_METHODS = {"objects", "filter", "exclude", "all", "select_for_update", "select_related",
                    "prefetch_related", "only", "defer", "order_by", "using", "none", "members", "task_forms"}
SQL_WRITE_PREFIXES = ("UPDATE ", "INSERT ", "DELETE ")
# Documented exceptions (path -> why); keep this list short and say why in docs/ARCHITECTURE.md too.
WRITE_EXCEPTIONS: dict[str, str] = {
    "accounts/models.py": "audit(): the helper every action calls to write its AuditEvent row",
    "sampling/transitions.py": "the rectification items' state machine: one locking function writes the item, "
                               "its step and audit rows in one transaction (as reporting/workflow.py does)",
    "selfassessment/catalog.py": "a framework version row is created on first sight of its content hash "
                                 "(content-addressed and idempotent, like FormVersion)",
    "selfassessment/wordfile.py": "python-docx Document.save(buffer) writes a Word file, not the ORM",
    "communication/wordfile.py": "python-docx Document.save(buffer) writes a Word file, not the ORM",
}
STATUS_MODULE = "reporting/workflow.py"
# Other models with a status of their own (not Submission.status), moved only by their app's action module.
OWN_STATUS_MODULES = {"exports/actions.py", "communication/actions.py", "results/actions.py"}


def project_apps() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_SCANNED)


def source_files() -> Iterator[tuple[str, str]]:
    """(relative path, text) of every product source file (not tests, migrations or benchmarks)."""
    for app in project_apps():
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            yield rel, path.read_text(encoding="utf-8")


def _rank(app: str) -> int | None:
    return LAYERS.index(app) if app in LAYERS else None


def _imported_tops(tree: ast.AST, own: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the own package
                yield node.lineno, own
            elif node.module:
                yield node.lineno, node.module.split(".")[0]


def import_violations(rel: str, text: str, apps: list[str] | None = None) -> list[str]:
    own = rel.split("/")[0]
    apps = project_apps() if apps is None else apps
    tree = ast.parse(text, rel)
    out = []
    own_rank = _rank(own)
    if own_rank is None:
        return [f"{rel}:1: app '{own}' has no place in tests/architecture/rules.py LAYERS (and docs/ARCHITECTURE.md)"]
    for line, top in _imported_tops(tree, own):
        if own == "engine" and top in ENGINE_FORBIDDEN:
            out.append(f"{rel}:{line}: the engine imports '{top}' (it must stay plain Python)")
        if top == own or top not in apps:
            continue
        rank = _rank(top)
        if rank is None or rank > own_rank:
            out.append(f"{rel}:{line}: '{own}' imports '{top}', a layer above it (order: {' ← '.join(LAYERS)})")
    return out


def _receiver_chain(node: ast.expr) -> list[str]:
    """Names along an attribute/call chain: Submission.objects.filter(...).update -> [Submission, objects, filter]."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            break
        else:
            break
    return list(reversed(names))


def _write_allowed(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (name == "actions.py" or "/actions/" in rel or rel == STATUS_MODULE or rel in WRITE_EXCEPTIONS)


def write_violations(rel: str, text: str) -> list[str]:
    if _write_allowed(rel):
        return []
    tree = ast.parse(text, rel)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS:
            method = node.func.attr
            receiver = node.func.value
            if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
                continue  # a model's own save()/delete() override calling Django's
            chain = _receiver_chain(receiver)
            if method == "update" and not (set(chain) & QUERYSET_METHODS):
                continue  # dict.update / set.update
            if method in ("save", "delete") and chain and chain[-1] in ("wb", "workbook", "session", "cache"):
                continue  # openpyxl workbooks, sessions and caches are not model rows
            out.append(f"{rel}:{node.lineno}: ORM write .{method}() outside an action module")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.lstrip().upper().startswith(SQL_WRITE_PREFIXES) and len(node.value) > 12:
                out.append(f"{rel}:{node.lineno}: SQL write outside an action module")
    return out


def status_violations(rel: str, text: str) -> list[str]:
    if rel == STATUS_MODULE or rel in OWN_STATUS_MODULES:
        return []
    tree = ast.parse(text, rel)
    out = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):
                if isinstance(t, ast.Attribute) and t.attr == "status":
                    out.append(f"{rel}:{node.lineno}: status assigned outside {STATUS_MODULE}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "update", "create", "bulk_create", "update_or_create", "get_or_create"):
            if any(k.arg == "status" for k in node.keywords):
                out.append(f"{rel}:{node.lineno}: status written by .{node.func.attr}() outside {STATUS_MODULE}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Submission":
            if any(k.arg == "status" for k in node.keywords):
                out.append(f"{rel}:{node.lineno}: Submission(status=…) outside {STATUS_MODULE}")
    return out
