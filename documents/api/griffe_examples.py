"""Griffe extension for the API reference: the house docstring style's ``Example:`` section is an examples section.

The project's Google-style docstrings head their doctests ``Example:`` (the Google style guide's spelling, also
read by napoleon); griffe's Google parser knows only ``Examples:`` and would render an ``Example:`` section as an
admonition of markdown text, where ``r["params"]["Om0"]`` reads as a link. This renames the heading before the
docstring is parsed, so the examples render as code. Used by ``mkdocs.yml`` (``extensions:``); not part of the
package.
"""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rewrite ``Example:`` section headings to ``Examples:`` on every object's docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and "Example:" in obj.docstring.value:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
