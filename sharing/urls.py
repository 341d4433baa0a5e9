from django.urls import path

from sharing import lookup_api

urlpatterns = [
    path("lookup/", lookup_api.LookupView.as_view(), name="lookup"),
    path("lookup/hits/", lookup_api.HitsOnOurCasesView.as_view(), name="lookup-hits"),
]
