"""Open a rendered report in real headless Chromium (Debian's) with the network off,
and collect what a reader's browser would show: console errors, requests, figures, TOC links."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
VIEWPORT_HEIGHT = 900

PAGE_FACTS = """() => {
  const images = [...document.querySelectorAll('img')].map(img => ({
    src: img.src.slice(0, 40), width: img.naturalWidth, height: img.naturalHeight, complete: img.complete}));
  const toc = [...document.querySelectorAll('#TOC a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  return {images, toc};
}"""

LANDING = """(id) => {
  const target = document.getElementById(decodeURIComponent(id));
  if (!target) return null;
  const heading = target.matches('h1,h2,h3,h4') ? target : target.querySelector('h1,h2,h3,h4');
  const atBottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
  return {top: target.getBoundingClientRect().top, hash: location.hash, atBottom,
          heading: heading ? heading.textContent.trim() : ''};
}"""


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium is not installed: `make setup` installs Debian's chromium package")


def inspect_report(html: Path) -> dict:
    """Load ``html`` offline; follow every table-of-contents link; return what happened."""
    from playwright.sync_api import sync_playwright

    console_errors, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": VIEWPORT_HEIGHT})
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(html.resolve().as_uri(), wait_until="load")
        facts = page.evaluate(PAGE_FACTS)
        landings = {}
        for target in facts["toc"]:
            page.click(f'#TOC a[href="#{target}"]')
            page.wait_for_timeout(50)
            landings[target] = page.evaluate(LANDING, target)
        browser.close()
    return {"console_errors": console_errors, "requests": requests, **facts, "landings": landings}
