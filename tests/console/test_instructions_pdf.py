"""The printable Get Records instructions as a PDF download (WeasyPrint).

The PDF is read back with pypdf: its pages, their size and their text. Room 12 of the
campaign has three old accounts still to merge (`ava.k`, `ben22`, `cleo`), one merged
(`mayar7`); Room 14 has `dev.o`.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader

from carryover.audit.models import AuditEvent, EventType
from carryover.console import pdf as pdf_module
from carryover.console.pdf import LocalStaticFetcher, ResourceRefused, html_to_pdf
from tests.console.conftest import temporary
from tests.console.test_erase import state
from tests.personas import PERSONAS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LETTER = (612, 792)
A4 = (595, 842)


def read_pdf(content: bytes) -> tuple[list[str], list[tuple[int, int]]]:
    """Each page's text, and each page's size in points."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    texts = [page.extract_text() for page in reader.pages]
    sizes = [(round(page.mediabox.width), round(page.mediabox.height)) for page in reader.pages]
    return texts, sizes


def pdf_url(campaign: Any, **params: str) -> str:
    url = reverse("console:instructions_pdf", args=[campaign.section.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def downloads() -> list[dict[str, Any]]:
    return [
        {"actor": e.actor_id, "account": e.account_id, **e.data}
        for e in AuditEvent.objects.filter(event_type=EventType.LOGINS_EXPORTED).order_by("id")
    ]


# --- the download -------------------------------------------------------------------------------


def test_the_pdf_is_the_poster_then_a_card_per_old_account_still_to_merge(
    client, campaign, teacher
):
    client.force_login(teacher)

    response = client.get(pdf_url(campaign))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="get-records-room-12-314159.pdf"'
    )
    assert response["Cache-Control"] == "no-store"
    texts, sizes = read_pdf(response.content)
    assert sizes == [LETTER, LETTER]
    poster, cards = texts
    assert "Bring your old math records to" in poster
    for step in ("Your old username", "Your old passcode", "Your school's account number"):
        assert step in poster
    assert "\n314159\n" in poster
    assert poster.endswith("Maple Elementary · Room 12 · account 314159 · page 1 of 2")
    # The toolbar (back link, print and download buttons) is the screen's only.
    assert "Download PDF" not in poster and "Back to" not in poster
    assert cards.count("Get my old records") == 3
    for username in ("ava.k", "ben22", "cleo"):
        assert f"1 · Old username {username}\n" in cards
    assert cards.count("3 · Account number 314159") == 3
    assert "mayar7" not in cards and "dev.o" not in cards
    assert downloads() == [
        {
            "actor": teacher.pk,
            "account": campaign.account.pk,
            "format": "pdf",
            "section_id": campaign.section.pk,
            "erase_set": False,
            "via": "instructions",
            "cards": 3,
        }
    ]


def test_without_cards_the_pdf_is_the_poster_alone_on_a4(client, campaign, school_admin):
    client.force_login(school_admin)

    response = client.get(pdf_url(campaign, cards="0", paper="a4"))

    texts, sizes = read_pdf(response.content)
    assert sizes == [A4]
    assert "\n314159\n" in texts[0]
    assert "Cut-out cards" not in texts[0] and "ava.k" not in texts[0]
    assert [(d["actor"], d["cards"]) for d in downloads()] == [(school_admin.pk, None)]


def test_an_unknown_paper_size_is_a_404_and_nothing_is_recorded(client, campaign, teacher):
    client.force_login(teacher)

    response = client.get(pdf_url(campaign, paper="legal"))

    assert response.status_code == 404
    assert downloads() == []


def test_thirty_cards_break_between_rows_never_through_a_card(client, campaign, teacher):
    names = [f"kid{i:02d}" for i in range(26)] + ["student.07.longname"]
    for name in names:
        temporary(campaign.section, name, history=None)
    everyone = sorted(["ava.k", "ben22", "cleo", *names])
    client.force_login(teacher)

    for paper, size in (("letter", LETTER), ("a4", A4)):
        texts, sizes = read_pdf(client.get(pdf_url(campaign, paper=paper)).content)

        assert sizes == [size] * 5
        on_cards = texts[1:]
        # Every card is whole on its page: its title and its three lines.
        per_page = [page.count("Get my old records") for page in on_cards]
        for page, count in zip(on_cards, per_page, strict=True):
            assert count % 2 == 0 or page is on_cards[-1]
            assert page.count("1 · Old username ") == count
            assert page.count("2 · Old passcode") == count
            assert page.count("3 · Account number 314159") == count
        assert sum(per_page) == 30
        assert max(per_page) == 8  # two columns, four rows
        shown = [
            line.removeprefix("1 · Old username ")
            for page in on_cards
            for line in page.splitlines()
            if line.startswith("1 · Old username ")
        ]
        # In order, each once, and a long username on one line (a smaller font).
        assert shown == everyone
        assert texts[-1].endswith("page 5 of 5")


def test_the_filename_is_safe_whatever_the_class_is_called(client, campaign, teacher):
    client.force_login(teacher)
    section = campaign.section

    section.name = 'Room "7" / Ärger\\..'
    section.save()
    named = client.get(pdf_url(campaign, cards="0"))
    section.name = "!!!"
    section.save()
    unnamed = client.get(pdf_url(campaign, cards="0"))

    assert named["Content-Disposition"] == (
        'attachment; filename="get-records-room-7-arger-314159.pdf"'
    )
    assert unnamed["Content-Disposition"] == (
        f'attachment; filename="get-records-class-{section.pk}-314159.pdf"'
    )


def test_the_page_offers_the_download_with_its_own_cards_choice(client, campaign, teacher):
    client.force_login(teacher)
    page = reverse("console:instructions", args=[campaign.section.pk])
    download = reverse("console:instructions_pdf", args=[campaign.section.pk])

    with_cards = client.get(page).content.decode()
    without = client.get(page, {"cards": "0"}).content.decode()

    assert f'class="print-toolbar__pdf" href="{download}?cards=1" download>Download PDF' in (
        with_cards
    )
    assert f'href="{download}?cards=0&amp;paper=a4" download>PDF on A4' in without
    assert downloads() == []  # looking at the page is not a download


# --- who may download it ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_class_teacher_and_the_account_admin_get_the_pdf(
    client,
    campaign,
    persona,
    teacher,
    other_teacher,
    school_admin,
    support_staff,
    other_teacher_elsewhere,
    other_admin_elsewhere,
):
    people = {
        "anonymous": None,
        "legacy_student": campaign.leftovers[0],
        "rostered_student": campaign.rostered,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "school_admin": school_admin,
        "other_admin_elsewhere": other_admin_elsewhere,
        "other_teacher_elsewhere": other_teacher_elsewhere,
        "support_staff": support_staff,
    }
    if people[persona] is not None:
        client.force_login(people[persona])
    before = state()
    events_before = AuditEvent.objects.count()

    response = client.get(pdf_url(campaign))

    if persona in {"teacher", "school_admin"}:
        assert response.status_code == 200
        texts, _ = read_pdf(response.content)
        assert "1 · Old username ava.k\n" in texts[1]
        assert [d["actor"] for d in downloads()] == [people[persona].pk]
    elif persona in {"anonymous", "legacy_student"}:
        # The old account's temporary seat ended 5 days ago: its session ended with it.
        assert response.status_code == 302
        assert urlparse(response["Location"]).path == reverse("web:sign_in")
    else:
        assert response.status_code == 404
        assert b"%PDF" not in response.content and b"ben22" not in response.content
    if persona not in {"teacher", "school_admin"}:
        assert state() == before
        assert AuditEvent.objects.count() == events_before


# --- it never fetches anything from the network -------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A web server on the loopback address that notes every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"body { color: red }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_remote_resources_in_the_html_are_refused_not_fetched(listener):
    origin, hits = listener
    html = (
        f'<link rel="stylesheet" href="{origin}/style.css">'
        f'<p>Hello</p><img src="{origin}/pixel.png" alt="">'
        '<img src="file:///etc/passwd" alt="">'
        f'<div style="background: url({origin}/bg.png)">x</div>'
    )

    content, fetcher = html_to_pdf(html, base_url="http://testserver/classes/1/instructions.pdf")

    assert hits == []
    assert sorted(fetcher.refused) == sorted(
        [f"{origin}/style.css", f"{origin}/pixel.png", "file:///etc/passwd", f"{origin}/bg.png"]
    )
    assert fetcher.fetched == []
    texts, _ = read_pdf(content)
    assert texts[0].startswith("Hello")


def test_a_remote_static_url_and_a_url_in_the_names_are_never_fetched(
    client, campaign, teacher, listener, monkeypatch
):
    """Even with STATIC_URL on another host (a CDN) the page's CSS comes from disk, and
    a URL typed into a class or school name stays text."""
    origin, hits = listener
    fetchers: list[LocalStaticFetcher] = []

    class Spy(LocalStaticFetcher):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            fetchers.append(self)

    monkeypatch.setattr(pdf_module, "LocalStaticFetcher", Spy)
    campaign.section.name = f'Room 12 <img src="{origin}/class.png">'
    campaign.section.save()
    campaign.section.school.name = f"url({origin}/school.png)"
    campaign.section.school.save()
    client.force_login(teacher)

    with override_settings(STATIC_URL=f"{origin}/static/"):
        response = client.get(pdf_url(campaign))

    assert response.status_code == 200
    assert hits == []
    [fetcher] = fetchers
    assert fetcher.fetched == [f"{origin}/static/console/print.css"]
    assert fetcher.refused == []
    texts, _ = read_pdf(response.content)
    assert f'Room 12 <img src="{origin}/class.png">' in texts[0]
    # The stylesheet applied: the poster has a page of its own, the cards the next.
    assert len(texts) == 2 and "Cut-out cards" in texts[1]


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.org/static/console/print.css",
        "http://evil.example/static/console/print.css",
        "http://testserver/media/print.css",
        "http://testserver/static/../../carryover/settings.py",
        "http://testserver/static/%2e%2e/%2e%2e/carryover/settings.py",
        "http://testserver/static/console/../../../../etc/passwd",
        "http://testserver/static//etc/passwd",
        "http://testserver/static/%2Fetc%2Fpasswd",
        "http://testserver/static/console%5C..%5C..%5Csettings.py",
        "http://testserver/static/",
        "http://testserver/static/console/missing.css",
        "file:///etc/passwd",
        "ftp://testserver/static/console/print.css",
        "data:text/css,body{color:red}",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url):
    fetcher = LocalStaticFetcher(base_url="http://testserver/classes/1/instructions.pdf")

    with pytest.raises(ResourceRefused):
        fetcher.fetch(url)

    assert fetcher.refused == [url]


def test_the_fetcher_serves_static_files_from_the_finders_and_static_root(tmp_path):
    fetcher = LocalStaticFetcher(base_url="http://testserver/classes/1/instructions.pdf")

    found = fetcher.fetch("http://testserver/static/console/print.css?v=2#top")

    assert found.content_type == "text/css"
    assert found.read() == (ROOT / "carryover/console/static/console/print.css").read_bytes()
    # The manifest storage's hashed names exist only in STATIC_ROOT, after collectstatic.
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "print.0123abcd.css").write_text("p { color: red }")
    with override_settings(STATIC_ROOT=tmp_path):
        collected = fetcher.fetch("http://testserver/static/console/print.0123abcd.css")
    assert collected.read() == b"p { color: red }"
    assert fetcher.refused == []


def test_django_starts_without_loading_weasyprint():
    probe = (
        "import sys, django; django.setup(); "
        "from django.test import Client; import carryover.urls, carryover.console.views; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'pydyf')))"
    )

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        timeout=120,
    )

    assert result.stdout.strip() == "[]"
