"""An API rule in words, for the description of the operation it guards."""

from __future__ import annotations

# What happens to a request the rule does not admit, per rule.
_MISS = {
    "listRule": "records it does not match are left out of the list",
    "viewRule": "a record it does not match answers 404",
    "createRule": "a new record it does not match is refused with 400 (nothing is written)",
    "updateRule": "a record it does not match answers 404",
    "deleteRule": "a record it does not match answers 404",
    "authRule": "a record it does not match cannot log in (400)",
}

# Hints about what an expression reads, in plain words.
_HINTS = (
    ("@request.auth.id", "it depends on who is signed in (guests have an empty `@request.auth.id`)"),
    ("@request.auth.collectionName", "it checks which auth collection the requester belongs to"),
    ("@request.body", "it reads the submitted body"),
    ("@request.query", "it reads the query string"),
    ("@request.headers", "it reads request headers"),
    ("@request.context", "it depends on how the request came (default, oauth2, otp, password, realtime, protectedFile)"),
    ("@request.method", "it depends on the HTTP method"),
    ("@collection.", "it looks up records of other collections"),
    ("_via_", "it follows relations back from other collections"),
    ("@now", "it compares with the current time"),
)


def in_words(name: str, rule: str | None) -> str:
    """`null` → superusers only; `""` → anyone; an expression → the text and what it reads."""
    if rule is None:
        return "**Superusers only** (the rule is null)."
    if rule == "":
        return "**Anyone**, guests included (the rule is empty)."
    hints = [text for needle, text in _HINTS if needle in rule]
    words = f"**Superusers, and requests for which this rule holds:** `{rule}`. "
    if hints:
        words += "In plain words: " + "; ".join(hints) + ". "
    miss = _MISS.get(name)
    if miss:
        words += f"Otherwise {miss}."
    return words.strip()
