"""A planner's or leader's account that belongs to no organisation acts on nothing: every page
explains that (and who can fix it) instead of showing empty lists."""
from django.shortcuts import render
from django.urls import reverse

from .models import Role, organisation_of, role_of

OPEN_PATHS = ("/accounts/", "/health/", "/static/")


class OrganisationRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_superuser
                and not request.path.startswith(OPEN_PATHS)
                and role_of(user) in (Role.PLANNER, Role.LEADER) and organisation_of(user) is None):
            return render(request, "projects/no_organisation.html",
                          {"role": Role(role_of(user)).label, "logout_url": reverse("logout")}, status=403)
        return self.get_response(request)
