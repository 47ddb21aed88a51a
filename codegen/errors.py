"""The one error codegen raises for input it cannot turn into TypeScript."""

from __future__ import annotations


class CodegenError(ValueError):
    """Invalid input for the client generator; the message names the Python objects.

    Raised before anything is written, so existing generated files stay as they were.
    """
