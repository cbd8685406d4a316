"""Every main page fits a phone's width (390 px): wide tables scroll inside their own box.

A page wider than the viewport makes the whole page scroll sideways, the navigation and the
headings with it. Each page is opened as the compliance officer, who sees the most controls
(and the administrator's settings as the administrator), and passes axe-core at that size too:
a table that scrolls must be reachable by the keyboard.
"""

from __future__ import annotations

import pytest

from tests.browser.pages import check_pages, main_pages
from tests.browser.test_accessibility import AXE, blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# The page's width, and the outermost elements that reach past the viewport outside any scrolling
# box, for the message.
MEASURE = """() => {
  const width = window.innerWidth;
  const clipped = (element) => {
    for (let outer = element.parentElement; outer && outer !== document.body; outer = outer.parentElement) {
      if (getComputedStyle(outer).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (element.getBoundingClientRect().right > width + 1 && !clipped(element)
        && !wide.some((outer) => outer.contains(element))) {
      wide.push(element);
    }
  }
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + [...element.classList].map((c) => "." + c).join("");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    wide: wide.slice(0, 5).map((e) => `${name(e)} (${Math.round(e.getBoundingClientRect().right)} px)`),
  };
}"""


def wider_than_the_screen(page, path: str) -> list[str]:
    size = page.evaluate(MEASURE)
    if size["scrollWidth"] <= size["innerWidth"]:
        return []
    return [f"{size['scrollWidth']} px wide in {size['innerWidth']}: {', '.join(size['wide'])}"]


def fits_and_is_accessible(page, path: str) -> list[str]:
    return wider_than_the_screen(page, path) + blocking_violations(page, path)


def test_every_main_page_fits_a_390_px_wide_screen(browser, live_server):
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci --prefix tests/browser/axe)")
    paths = main_pages()
    found = check_pages(browser, live_server, paths, ("officer",), fits_and_is_accessible, PHONE, scripts=(AXE,))
    assert not found, f"{len(found)} problems on a 390 px screen:\n  " + "\n  ".join(found)
