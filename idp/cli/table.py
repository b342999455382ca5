"""Plain-text tables for the terminal: aligned columns, upper-case English headings."""

from __future__ import annotations

from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> str:
    columns = zip(headers, *rows, strict=False)
    widths = [max(len(str(cell)) for cell in column) for column in columns]

    def line(cells: Sequence[str]) -> str:
        return (indent + "  ".join(f"{c!s:<{w}}" for c, w in zip(cells, widths, strict=True))
                ).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
