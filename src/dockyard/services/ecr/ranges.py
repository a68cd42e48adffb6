"""HTTP byte ranges (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`) of one part."""

from __future__ import annotations


class BadRange(ValueError):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """The [start, end) a Range header asks of `size` bytes (the whole without one)."""
    if header is None:
        return 0, size
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise BadRange(f"unsupported range {header!r}")
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    valid = all(not part or (part.isascii() and part.isdigit()) for part in (first, last))
    if not dash or not valid or not (first or last):
        raise BadRange(f"invalid range {header!r}")
    if not first:  # the last n bytes
        n = int(last)
        if n == 0:
            raise BadRange("empty suffix range")
        return max(size - n, 0), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or (last and int(last) < start):
        raise BadRange(f"range {header!r} is outside 0-{size - 1}")
    return start, end
