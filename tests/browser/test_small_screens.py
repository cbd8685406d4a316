"""Every main page fits a phone's width (390 px): wide tables scroll inside their own box.

A page wider than the viewport makes the whole page scroll sideways, the navigation and the
headings with it. Each page is opened as the compliance officer, who sees the most controls
(and the administrator's settings as the administrator).
"""

from __future__ import annotations

import pytest

from tests.browser.pages import check_pages, main_pages

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


def test_every_main_page_fits_a_390_px_wide_screen(browser, live_server):
    found = check_pages(browser, live_server, main_pages(), ("officer",), wider_than_the_screen, PHONE)
    assert not found, f"{len(found)} pages do not fit the screen:\n  " + "\n  ".join(found)
