from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Notification


@login_required
def queue(request):
    return render(request, "review/queue.html", {})


@login_required
def progress(request):
    return render(request, "review/progress.html", {})


@login_required
def notifications(request):
    items = Notification.objects.filter(recipient=request.user)[:200]
    return render(request, "review/notifications.html", {"items": items})
