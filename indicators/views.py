from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import Role, Unit
from reporting.catalog_loader import task_definitions
from reporting.models import Task
from reporting.selectors import current_task, submissions_for

from .analysis import REPORTED, summarise

FORM_ORDER = ("t1", "t2", "t3", "t4")


@login_required
@require_safe
def analysis(request):
    """Results and target attainment of one form across the user's scope, grouped by province (or city)."""
    user = request.user
    if user.role == Role.FILLER:
        raise PermissionDenied
    tasks = list(Task.objects.all())
    task = next((t for t in tasks if t.code == request.GET.get("task")), None) or current_task()
    definitions = task_definitions(task) if task else {}
    forms = [(c, definitions[c]["title"]) for c in FORM_ORDER if c in definitions] + [
        (c, d["title"]) for c, d in definitions.items() if c not in FORM_ORDER and not d.get("parent")]
    form_code = request.GET.get("form") or (forms[0][0] if forms else "")
    include_drafts = request.GET.get("drafts") == "1"
    summaries, n_units = [], 0
    if form_code in definitions:
        qs = submissions_for(user).filter(task=task, form_code=form_code)
        if not include_drafts:
            qs = qs.filter(status__in=REPORTED)
        # Group by the level just below the viewer: provinces for the nation, cities for a province.
        depth = len(user.unit.path.strip("/").split("/")) if user.unit_id else 1
        rows = []
        for path, result in qs.values_list("unit__path", "result").iterator(chunk_size=2000):
            parts = path.strip("/").split("/")
            rows.append((parts[depth] if len(parts) > depth else parts[-1], result))
        n_units = len(rows)
        group_names = dict(Unit.objects.filter(code__in={g for g, _ in rows}).values_list("code", "name"))
        summaries = summarise(definitions[form_code].get("indicators", []), rows, group_names)
    return render(request, "indicators/analysis.html", {
        "tasks": tasks, "task": task, "forms": forms, "form_code": form_code, "summaries": summaries,
        "n_units": n_units, "include_drafts": include_drafts,
    })
