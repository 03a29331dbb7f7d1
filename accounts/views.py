from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from . import actions
from .models import ApiToken
from .tokens import active_tokens


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, then the action that lifts the first-login lock; goes on to `next` if given."""

    success_url = reverse_lazy("password_change_done")

    def _next_url(self) -> str:
        url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        safe = url_has_allowed_host_and_scheme(url, allowed_hosts={self.request.get_host()},
                                               require_https=self.request.is_secure())
        return url if safe and url != reverse("password_change") else ""

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        context["next"] = self._next_url()
        return context

    def get_success_url(self) -> str:
        return self._next_url() or str(self.success_url)

    def form_valid(self, form) -> HttpResponse:
        # The form validated the old and the new password; the write is the action's (with its audit row).
        actions.user_password_change(acting_user=self.request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, self.request.user)
        return HttpResponseRedirect(self.get_success_url())


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    return render(request, "accounts/tokens.html", {
        "tokens": active_tokens().filter(user=request.user), "days": settings.FJZL_API_TOKEN_DAYS})


@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    try:
        token = actions.token_revoke(acting_user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404("没有该令牌。") from None
    messages.success(request, f"令牌 {token.prefix}… 已吊销。")
    return redirect("tokens")


@login_required
@require_safe
def profile(request: HttpRequest) -> HttpResponse:
    """个人信息: who the user is, which unit, role and the last login; links to 修改密码."""
    return render(request, "registration/profile.html", {"profile_user": request.user})
