"""The Content-Security-Policy allows no inline script or style, and no page needs one.

The browser tests (tests/e2e) also fail on any CSP violation Chromium reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2] / "carryover"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style[\s>]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.django_db
def test_pages_send_a_policy_without_inline_script_or_style(client, teacher):
    client.force_login(teacher)

    for url in (reverse("web:sign_in"), reverse("web:classes"), "/healthz"):
        response = client.get(url)
        if url == "/healthz":
            continue  # JSON, answered before the page middleware
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def _templates() -> list[Path]:
    return sorted(ROOT.glob("**/templates/**/*.html"))


def test_there_are_templates_to_check():
    assert len(_templates()) > 30


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_style_or_handlers(path):
    text = path.read_text(encoding="utf-8")

    assert not INLINE_SCRIPT.search(text), "move the script to a static file"
    assert not STYLE_ATTRIBUTE.search(text), "use a class in the stylesheet"
    assert not STYLE_BLOCK.search(text), "move the styles to a static file"
    assert not EVENT_HANDLER.search(text), "attach the handler from a static script"


@pytest.mark.django_db
def test_the_seats_bar_is_drawn_without_a_style_attribute(client, school_admin, legacy_student):
    client.force_login(school_admin)

    page = client.get(reverse("console:seats")).content.decode()

    assert 'class="campaign-progress"' in page
    assert not STYLE_ATTRIBUTE.search(page)
    assert not INLINE_SCRIPT.search(page)
