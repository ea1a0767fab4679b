"""The printable Get Records instructions as a PDF (WeasyPrint).

Imported only by the PDF view, on first use: WeasyPrint (and Pango under it) never
loads at Django start-up.

The PDF is the instructions page itself, rendered with its print stylesheet. Every
resource the page names goes through `LocalStaticFetcher`, which serves static files
from the finders or `STATIC_ROOT` and refuses anything else: a PDF render never
touches the network, never reads a file outside the static files, and a URL that
sneaks into the page (a school name is text, but templates change) is left out
instead of fetched.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils._os import safe_join
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# US schools print on Letter; elsewhere A4. The margins are the print stylesheet's.
PAPER_SIZES: Final = {"letter": "letter", "a4": "A4"}

# `!important`: this is a user stylesheet, and the page's own `@page { size: auto }` would
# win over it otherwise.
_PAGE_CSS: Final = """
@page {{
  size: {size} !important;
  @bottom-center {{
    content: "{footer}page " counter(page) " of " counter(pages);
    font: 8pt "Helvetica Neue", Arial, sans-serif;
    color: #4a5563;
  }}
}}
"""

# WeasyPrint draws an inline SVG with the styles inside it only, while in a browser the
# print stylesheet colours the Get Records pictures (`.print-step .gr-step__icon`) and
# strokes the padlock's shackle. The same rules, carried into each picture.
_STEP_ICON = re.compile(r'<svg\b[^>]*\bclass="[^"]*\bgr-step__icon\b[^"]*"[^>]*>')
_STEP_ICON_STYLE: Final = "<style>svg{fill:#0b5d7a;stroke:#0b5d7a}.gr-step__hole{fill:#fff}</style>"


class ResourceRefused(ValueError):
    """A URL the PDF render will not fetch: not one of our static files."""


class LocalStaticFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's URL fetcher, local files only.

    A URL under the static URL (relative to the page, or `STATIC_URL` itself when it
    names a CDN) is read from the static files finders, then `STATIC_ROOT` (where the
    hashed names of the manifest storage live). Any other URL, scheme or path is
    refused, and noted in `refused`: WeasyPrint then leaves that resource out.
    """

    def __init__(self, *, base_url: str) -> None:
        # No protocol is allowed to reach the parent's opener; `fetch` never calls it.
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self.static_prefix = urljoin(base_url, settings.STATIC_URL or "/static/")
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.local_path(url)
        if path is None:
            self.refused.append(url)
            logger.warning("PDF render: refused to fetch %s", url[:200])
            raise ResourceRefused(f"not a local static file: {url[:200]}")
        self.fetched.append(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    def local_path(self, url: str) -> Path | None:
        """The static file a URL names, or None for anything that is not one."""
        parts = urlsplit(url)
        bare = parts._replace(query="", fragment="").geturl()
        if parts.scheme not in ("http", "https") or not bare.startswith(self.static_prefix):
            return None
        name = unquote(bare[len(self.static_prefix) :])
        normal = posixpath.normpath(name)
        if (
            not name
            or "\x00" in name
            or "\\" in name
            or normal != name
            or normal.startswith(("/", "../"))
            or normal == ".."
        ):
            return None
        found = finders.find(normal)
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
        if settings.STATIC_ROOT:
            try:
                collected = Path(safe_join(str(settings.STATIC_ROOT), normal))
            except SuspiciousFileOperation:
                return None
            if collected.is_file():
                return collected
        return None


def html_to_pdf(
    html: str, *, base_url: str, paper: str = "letter", footer: str = ""
) -> tuple[bytes, LocalStaticFetcher]:
    """Render `html` for print on `paper` (a key of PAPER_SIZES), local resources only,
    with `footer` and the page number at the foot of each page.

    Returns the PDF and the fetcher (what it served and what it refused).
    """
    fetcher = LocalStaticFetcher(base_url=base_url)
    html = _STEP_ICON.sub(lambda match: match.group(0) + _STEP_ICON_STYLE, html)
    footer = _css_string(f"{footer} · ") if footer else ""
    page_css = _PAGE_CSS.format(size=PAPER_SIZES[paper], footer=footer)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=[CSS(string=page_css, url_fetcher=fetcher)])
    return bytes(pdf), fetcher


def render_instructions_pdf(request: HttpRequest, context: dict[str, Any], *, paper: str) -> bytes:
    """The instructions page of `context` (see `views.instructions`) as a PDF."""
    html = render_to_string("console/instructions.html", {**context, "pdf": True}, request)
    section = context["section"]
    footer = f"{section.school.name} · {section.name} · account {context['account'].account_number}"
    pdf, _ = html_to_pdf(html, base_url=request.build_absolute_uri(), paper=paper, footer=footer)
    return pdf


def _css_string(text: str) -> str:
    """`text` safe inside a double-quoted CSS string (names come from the roster)."""
    return "".join(ch if ch.isalnum() or ch in " .,·-_'()&" else f"\\{ord(ch):06X}" for ch in text)
