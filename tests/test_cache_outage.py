"""Issue 22, item 3: a cache outage is not an outage. With Redis (the cache, CACHE_URL) down every
page works, slower, and a save lands on the saved entry's page, not on an error page."""
import shutil
import socket
import subprocess
import time

import pytest
from django.conf import settings as django_settings

from reporting.models import StatusReport

from .test_access_and_reports import body_of, item_a, login, month_back, report_data  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = ["/", "/lists/project/", "/lists/policy/", "/ranking/", "/rollup/", "/flags/", "/my/", "/plans/",
         "/indicators/", "/reports/status/"]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cache_at(settings, url):
    """The suite's own cache configuration (config/settings.py), pointed at another Redis."""
    assert django_settings.CACHES["default"]["LOCATION"].startswith("redis://"), "the suite runs on Redis"
    settings.CACHES = {"default": {**django_settings.CACHES["default"], "LOCATION": url}}


def pages_and_a_save_work(client, user, item):
    login(client, user)
    for url in PAGES + [f"/items/{item.pk}/", f"/items/{item.pk}/report/"]:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
    response = client.post(f"/items/{item.pk}/report/", report_data(), follow=True)
    assert response.status_code == 200, response.status_code
    assert response.redirect_chain and response.redirect_chain[-1][0].startswith(f"/items/{item.pk}/")
    html = body_of(response)
    assert "系统出错" not in html and "请稍后重试" not in html
    assert StatusReport.objects.filter(item=item, month=month_back(1)).exists()


def test_pages_and_a_save_work_with_the_cache_unreachable(client, settings, unit_a_user, item_a, leader,
                                                          django_capture_on_commit_callbacks):
    redis_cache_at(settings, f"redis://127.0.0.1:{closed_port()}/1")
    with django_capture_on_commit_callbacks(execute=True):
        pages_and_a_save_work(client, unit_a_user, item_a)
    login(client, leader)
    for url in PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_redis_stopped_while_the_site_runs(client, settings, unit_a_user, item_a, tmp_path, monkeypatch,
                                           django_capture_on_commit_callbacks):
    """A Redis that served the pages (their fragments are cached, the pool holds connections) is
    stopped; the next pages and a save still work, and the cache is used again once it is back."""
    import config.cache
    from django.core.cache import cache

    monkeypatch.setattr(config.cache, "RETRY_SECONDS", 0.3)
    port = closed_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        redis_cache_at(settings, f"redis://127.0.0.1:{port}/1")
        login(client, unit_a_user)
        assert client.get("/").status_code == 200
        cache.set("probe", 1)
        assert cache.get("probe") == 1
        server.terminate()
        server.wait(10)

        with django_capture_on_commit_callbacks(execute=True):
            pages_and_a_save_work(client, unit_a_user, item_a)
        assert cache.get("probe") is None

        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        time.sleep(0.6)
        cache.set("probe", 2)
        assert cache.get("probe") == 2
    finally:
        server.terminate()
        server.wait(10)
