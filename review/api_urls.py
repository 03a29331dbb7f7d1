from rest_framework.routers import SimpleRouter

from .api import SubmissionViewSet

router = SimpleRouter()
router.register("submissions", SubmissionViewSet, basename="api-submission")

urlpatterns = router.urls
