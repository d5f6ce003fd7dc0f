"""Open a rendered report in real headless Chromium (Debian's) with the network off,
and collect what a reader's browser would show: console errors, requests, figures, TOC links."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
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


# Elements drawn wider than the text column (a table that overflows it, a figure).
OVERFLOWING = """() => {
  const column = document.querySelector('main, .main-container') || document.body;
  const right = column.getBoundingClientRect().right;
  return [...column.querySelectorAll('table, img, svg, pre, .operating-point-explorer')]
    .filter(e => e.getBoundingClientRect().right > right + 1)
    .map(e => e.tagName.toLowerCase() + ': ' + (e.textContent || '').trim().slice(0, 60));
}"""

# Table headers whose alignment differs from their column's cells (numbers would
# sit under the wrong header).
MISALIGNED_HEADERS = """() => {
  const side = node => getComputedStyle(node).textAlign
    .replace('-webkit-', '').replace('start', 'left').replace('end', 'right');
  return [...document.querySelectorAll('table')].flatMap(table => {
    const row = table.querySelector('tbody tr');
    if (!row) return [];
    return [...table.querySelectorAll('thead th')].filter((th, i) => row.children[i] &&
      side(th) !== side(row.children[i])).map(th => th.textContent.trim());
  });
}"""

EXPLORER_READING = """() => Object.fromEntries(
  [...document.querySelectorAll('.operating-point-explorer [data-measure]')]
  .map(node => [node.dataset.measure, node.dataset.value === '' ? null : Number(node.dataset.value)]))"""

# Everything the explorer shows: each output's data-value and visible text, the ROC marker's
# coordinates and the curve's points (SVG attributes, as written).
EXPLORER_STATE = """() => {
  const root = document.querySelector('.operating-point-explorer');
  const nodes = [...root.querySelectorAll('[data-measure]')];
  const point = root.querySelector('.explorer-point');
  return {values: (""" + EXPLORER_READING + """)(),
          texts: Object.fromEntries(nodes.map(node => [node.dataset.measure, node.textContent])),
          point: [point.getAttribute('cx'), point.getAttribute('cy')],
          curve: root.querySelector('.explorer-curve').getAttribute('points')};
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
        facts["overflowing"] = page.evaluate(OVERFLOWING)
        facts["misaligned_headers"] = page.evaluate(MISALIGNED_HEADERS)
        landings = {}
        for target in facts["toc"]:
            page.click(f'#TOC a[href="#{target}"]')
            page.wait_for_timeout(50)
            landings[target] = page.evaluate(LANDING, target)
        browser.close()
    return {"console_errors": console_errors, "requests": requests, **facts, "landings": landings}


def drive_explorer(html: Path, threshold_positions: list[int], prevalences_per_mille: list[int]) -> dict:
    """Move the operating-point explorer's sliders as a reader would (keyboard on the
    slider, then the value set directly) and read every number it shows after each move."""
    readings = {"initial": None, "thresholds": [], "prevalences": [], "errors": []}
    with offline_page(html, readings["errors"]) as page:
        readings["initial"] = page.evaluate(EXPLORER_READING)
        threshold = page.locator('.operating-point-explorer input[name="threshold"]')
        threshold.focus()
        page.keyboard.press("Home")  # the lowest threshold: every image positive
        readings["lowest"] = page.evaluate(EXPLORER_READING)
        readings["slider_max"] = int(threshold.get_attribute("max"))
        for position in threshold_positions:
            threshold.fill(str(position))
            readings["thresholds"].append(page.evaluate(EXPLORER_READING))
        prevalence = page.locator('.operating-point-explorer input[name="prevalence"]')
        for per_mille in prevalences_per_mille:
            prevalence.fill(str(per_mille))
            readings["prevalences"].append(page.evaluate(EXPLORER_READING))
        page.click('.operating-point-explorer button[name="validation-threshold"]')
        readings["back_to_validation"] = page.evaluate(EXPLORER_READING)
    return readings


@contextmanager
def offline_page(html: Path, errors: list):
    """``html`` loaded in headless Chromium with the network off; page errors go to ``errors``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        page = browser.new_context(offline=True).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(html.resolve().as_uri(), wait_until="load")
        try:
            yield page
        finally:
            browser.close()


def explorer_states(html: Path, moves: list[tuple[str, int | str]]) -> dict:
    """The explorer as it starts, then after each move: ("threshold", slider position) or
    ("prevalence", per mille) sets that slider as a reader would (fill: the value, then the
    input event); ("key", key) presses a key on the threshold slider; ("click", button name)
    presses a button. Each state: EXPLORER_STATE."""
    seen = {"errors": [], "states": []}
    with offline_page(html, seen["errors"]) as page:
        seen["initial"] = page.evaluate(EXPLORER_STATE)
        threshold = page.locator('.operating-point-explorer input[name="threshold"]')
        seen["slider_max"] = int(threshold.get_attribute("max"))
        for kind, value in moves:
            if kind == "click":
                page.click(f'.operating-point-explorer button[name="{value}"]')
            elif kind == "key":
                threshold.focus()
                page.keyboard.press(value)
            else:
                page.locator(f'.operating-point-explorer input[name="{kind}"]').fill(str(value))
            seen["states"].append(page.evaluate(EXPLORER_STATE))
    return seen
