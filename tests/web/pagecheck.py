"""Reading pages with an HTML parser, and the checks every page must pass."""

from __future__ import annotations

from typing import Any

import lxml.html
from lxml.html import HtmlElement

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def parse(response: Any) -> HtmlElement:
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    return lxml.html.fromstring(response.text)


def text_of(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def links(tree: HtmlElement) -> dict[str, str]:
    """Link text -> href, for every link of the page."""
    return {text_of(a): a.get("href", "") for a in tree.iter("a")}


def math_elements(tree: HtmlElement) -> list[HtmlElement]:
    return [e for e in tree.iter() if isinstance(e.tag, str) and e.tag.split("}")[-1] == "math"]


def assert_page_hygiene(tree: HtmlElement) -> None:
    """What every HTML page of the site keeps to (the policy forbids the rest anyway)."""
    assert tree.get("lang") == "en"
    # Landmarks: one banner, one main, one contentinfo, and named navigation.
    assert len(tree.xpath("//header[contains(@class, 'site-header')]")) == 1
    assert len(tree.xpath("//main[@id='main']")) == 1
    assert len(tree.xpath("//footer")) == 1
    for nav in tree.iter("nav"):
        assert nav.get("aria-label"), "every <nav> has a name"
    assert tree.xpath("//a[@class='skip-link' and @href='#main']")
    # No inline script, handler or style: scripts come from /static, styles from the stylesheet.
    for script in tree.iter("script"):
        assert script.get("src", "").startswith("/static/"), "no inline or remote script"
        assert not (script.text or "").strip()
    assert not list(tree.iter("style")), "no <style> element"
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in element.attrib:
            assert not name.lower().startswith("on"), f"inline handler {name} on <{element.tag}>"
            assert name.lower() != "style", f"inline style on <{element.tag}>"
    for tag, attribute in (("link", "href"), ("img", "src"), ("script", "src")):
        for element in tree.iter(tag):
            value = element.get(attribute, "")
            assert not value.startswith(("http:", "https:", "//")), f"remote {tag}: {value}"
    # Every form control has a label.
    labelled = {label.get("for") for label in tree.iter("label")}
    for control in tree.xpath("//input[not(@type='hidden') and not(@type='radio')] | //select"):
        assert control.get("id") in labelled or control.getparent().tag == "label", (
            f"control {control.get('name')} has no label"
        )
    for radio in tree.xpath("//input[@type='radio']"):
        assert radio.getparent().tag == "label"
