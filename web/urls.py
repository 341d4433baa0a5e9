"""The pages' URL map, included at the site root by workinggroup/urls.py."""

app_name = "web"
urlpatterns: list = []
