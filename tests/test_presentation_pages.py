"""Every page links a print stylesheet (media="print") and a favicon, both served from static/."""
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/lists/project/", "/lists/reform/", "/flags/", "/ranking/"])
def test_pages_link_the_print_stylesheet_and_the_favicon(client, leader, real_plan, path):
    client.force_login(leader)
    html = client.get(path).content.decode()
    printing = re.search(r'<link rel="stylesheet" href="([^"]+/css/print\.css)" media="print">', html)
    icon = re.search(r'<link rel="icon" href="([^"]+/favicon\.svg)" type="image/svg\+xml">', html)
    assert printing and icon, path


def test_the_print_stylesheet_prints_a4_landscape_without_navigation():
    css = open(finders.find("css/print.css"), encoding="utf-8").read()
    assert re.search(r"@page\s*{[^}]*size:\s*A4 landscape", css)
    assert re.search(r"nav\.navbar[^{]*{[^}]*display:\s*none", css)
    assert re.search(r"thead\s*{[^}]*display:\s*table-header-group", css)
    assert finders.find("favicon.svg")


def test_the_login_page_has_the_favicon_too(client):
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()
