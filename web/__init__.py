"""The pages: views, forms, templates and static files, on top of every app's selectors and
services (as healthchecks keeps hc/front beside hc/api). No app imports `web`."""
