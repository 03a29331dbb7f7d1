from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import current_task, submissions_for


@login_required
def home(request):
    task = current_task()
    own = []
    if task is not None and request.user.unit_id:
        own = list(submissions_for(request.user).filter(task=task, unit_id=request.user.unit_id)
                   .order_by("form_code"))
    return render(request, "reporting/home.html", {"task": task, "own_submissions": own})
