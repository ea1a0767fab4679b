"""Browser tests: Playwright drives the system Chromium through the real pages.

Each test gets `page` (a fresh browser context pointed at pytest-django's
`live_server`) and `shot`, which saves a numbered screenshot of each step into
`test-artifacts/e2e/<test name>/NN-<step>.png`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("CARRYOVER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A headless system Chromium for one test.

    Playwright's sync API keeps an asyncio loop running in this thread, so Django takes
    every ORM call of the test body for async code and refuses it. The test body is plain
    synchronous code (the live server answers from its own thread), so
    DJANGO_ALLOW_ASYNC_UNSAFE is set, but only while Playwright runs: set for the whole
    session it would leak into other tests (and the subprocesses some of them start, where
    `check --deploy` warns about it). Hence one Playwright (and Chromium) per test.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} (set CARRYOVER_CHROMIUM to use "
            "another path). Install it with: apt-get install -y chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    opened = context.new_page()
    # The Content-Security-Policy allows no inline script or style: a page that still
    # needs one is broken for real users, so any refusal Chromium reports fails the test.
    refusals: list[str] = []
    opened.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()
    assert not refusals, f"the page broke the Content-Security-Policy: {refusals}"


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """`shot("signed-in")` saves the whole page as the test's next numbered step."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = {"n": 0}

    def take(step: str) -> Path:
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
