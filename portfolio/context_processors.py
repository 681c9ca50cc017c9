"""What the base template's cached navigation fragment is keyed by: the data version (read once
per request, only when a page renders the fragment) and the release of the code."""
from django.conf import settings

from projects.versions import request_state


def versions(request):
    def data_version():
        return request_state(request).version

    return {"data_version": data_version, "release": settings.TRACKER_RELEASE}
