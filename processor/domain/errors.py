"""Exceptions for "could not run" (exit 2). Problems in the input are Issues, not exceptions."""

from __future__ import annotations


class KieumauError(Exception):
    """Base of every error that stops a command; its message is Vietnamese and meant for users."""


class CatalogueError(KieumauError):
    """The criteria catalogue is missing or invalid."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.args[0]] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class TemplateError(KieumauError):
    """A Word template is missing or uses a tag the data does not provide."""


class HistoryError(KieumauError):
    """The history store cannot be opened or holds nothing for what was asked."""
