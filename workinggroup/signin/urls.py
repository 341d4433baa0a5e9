"""Sign-in steps under /signin/, the member's own pages under /account/."""

from django.urls import path

from workinggroup.signin import account, views

app_name = "signin"

urlpatterns = [
    path("signin/", views.signin, name="login"),
    path("signin/verify/", views.verify, name="verify"),
    path("signin/enrol/", views.enrol, name="enrol"),
    path("signin/out/", views.signout, name="logout"),
    path("account/", account.home, name="account"),
    path("account/password/", account.password, name="password"),
    path("account/tokens/", account.tokens, name="tokens"),
    path("account/tokens/<uuid:token_id>/revoke/", account.token_revoke, name="token_revoke"),
    path("account/sessions/", account.sessions, name="sessions"),
    path("account/sessions/<uuid:session_id>/end/", account.session_end, name="session_end"),
]
