from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from . import actions


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.user_password_changed(acting_user=self.request.user)
        return response
