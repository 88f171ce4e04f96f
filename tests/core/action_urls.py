"""The project's URLs plus test-only routes for the shared page action view (tests/core/test_blocks.py)."""

from django.urls import path

from dms.urls import urlpatterns as project_urlpatterns

from .test_blocks import ComplaintButtons, ReasonButtons, SingleButton

urlpatterns = [
    path("test-actions/<int:pk>/<str:action>/", ComplaintButtons.as_view(), name="test_action"),
    path("test-reason/<int:pk>/<str:action>/", ReasonButtons.as_view(), name="test_reason"),
    path("test-single/<int:pk>/", SingleButton.as_view(), name="test_single"),
    *project_urlpatterns,
]
