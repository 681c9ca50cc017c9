"""What the base template's cached navigation fragment is keyed by: the data version (read once
per request, only when a page renders the fragment) and the release of the code."""
from django.conf import settings


def versions(request):
    def data_version():
        row = getattr(request, "evaluation_row", None)
        if row is None:
            from .evaluation import state

            row = request.evaluation_row = state()
        return row.version

    return {"data_version": data_version, "release": settings.TRACKER_RELEASE}
