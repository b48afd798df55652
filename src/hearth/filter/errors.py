"""The one error the filter language raises."""

from __future__ import annotations


class FilterSyntaxError(Exception):
    """A filter or sort expression that does not parse, or that exceeds a parser limit.

    `position` is the 0-based character offset into the text where the problem was found.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at position {self.position})"
