from rest_framework.routers import SimpleRouter

from .api import FaqViewSet, NoticeViewSet, QuestionViewSet

router = SimpleRouter()
router.register("notices", NoticeViewSet, basename="api-notice")
router.register("questions", QuestionViewSet, basename="api-question")
router.register("faq", FaqViewSet, basename="api-faq")

urlpatterns = router.urls
