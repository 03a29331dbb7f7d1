"""The project's URLs plus one plain DRF endpoint, to test API access rules independently of other apps."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns


class WhoAmI(APIView):
    def get(self, request):
        return Response({"username": request.user.username})


urlpatterns = [path("api/test/whoami/", WhoAmI.as_view()), *project_urlpatterns]
