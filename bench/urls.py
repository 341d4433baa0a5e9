from django.urls import path

from bench.plainupload.views import plain_upload
from workinggroup.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/plain/", plain_upload)]
