"""Headless Chromium: a leader sees the 总体情况 card and downloads the month's 通报 from the
dashboard; the document's sentences are the card's. Screenshot in screenshots/ for a human look."""
import io
import os

from docx import Document

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from projects.models import Role  # noqa: E402
from tests.conftest import make_user  # noqa: E402
from tests.test_browser import login, page, shot  # noqa: E402,F401  (page is a fixture)


def test_a_leader_downloads_the_bulletin_with_the_cards_sentences(page, live_server, real_plan):
    make_user("bulletin_leader", Role.LEADER)
    login(page, live_server, "bulletin_leader", "pw-bulletin_leader")
    page.goto(live_server.url + f"/?plan={real_plan.code}")
    card = page.locator("#overview-card")
    assert card.is_visible()
    sentences = [card.locator(f'[data-figure="overview-{n}"]').inner_text() for n in (1, 2, 3)]
    assert sentences[0].startswith("1–10月累计完成投资")
    card.scroll_into_view_if_needed()
    shot(page, "dashboard_overview_card")
    with page.expect_download() as info:
        page.locator("#bulletin-docx").click()
    download = info.value
    assert download.suggested_filename.endswith("_202610.docx")
    with open(download.path(), "rb") as fh:
        paragraphs = [p.text for p in Document(io.BytesIO(fh.read())).paragraphs]
    for sentence in sentences:
        assert sentence in paragraphs
    assert page.js_errors == []
