from django.shortcuts import redirect
from django.urls import reverse


class ForcePasswordChangeMiddleware:
    """A user with a one-time password can do nothing until it is changed (pages redirect, API answers 403)."""

    ALLOWED_NAMES = ("password_change", "password_change_done", "logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse(n) for n in self.ALLOWED_NAMES}
            if request.path not in allowed and not request.path.startswith("/static/"):
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"detail": "首次登录须先修改密码。"}, status=403)
                return redirect(f"{reverse('password_change')}?next={request.path}")
        return self.get_response(request)
