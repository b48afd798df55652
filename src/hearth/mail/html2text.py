"""A plain-text rendering of an HTML mail body, as PocketBase's `tools/mailer/html2text.go` makes it.

Whitespace runs collapse to one space, block elements start a new line (`<br>` always does), list
items get a "- " prefix, links become `[text](href)`, and the content of style, script, form and
similar elements is dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_WHITESPACE = re.compile(r"\s+")
_SKIP = frozenset(
    {
        "style", "script", "iframe", "applet", "object", "svg", "img",
        "button", "form", "textarea", "input", "select", "option", "template",
    }
)  # fmt: skip
_INLINE = frozenset({"a", "span", "small", "strike", "strong", "sub", "sup", "em", "b", "u", "i"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.active: list[str] = self.out
        self.links: list[tuple[list[str], str]] = []  # (text buffer, href) of the open <a>s
        self.can_add_newline = False
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth = 1
            return
        if tag == "br":
            self.active.append("\r\n")
            self.can_add_newline = False
        elif self.can_add_newline and tag not in _INLINE:
            self.active.append("\r\n")
            self.can_add_newline = False
        if tag == "li":
            self.active.append("- ")
        if tag == "a":
            href = next((v or "" for k, v in attrs if k == "href"), "")
            self.active = []
            self.links.append((self.active, href))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if tag == "a" and self.links:
            buffer, href = self.links.pop()
            self.active = self.links[-1][0] if self.links else self.out
            text = "".join(buffer).strip() or "LINK"
            # PocketBase writes the link to the top-level text, whatever encloses it.
            self.out.append(f"[{text}]" + (f"({href})" if href else ""))

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        text = _WHITESPACE.sub(" ", data)
        if not self.can_add_newline:
            text = text.lstrip(" ")
        if text:
            self.active.append(text)
            self.can_add_newline = True


def html_to_text(html: str) -> str:
    parser = _Converter()
    parser.feed(html)
    parser.close()
    while parser.links:  # unclosed <a>
        parser.handle_endtag("a")
    return "".join(parser.out).strip()
