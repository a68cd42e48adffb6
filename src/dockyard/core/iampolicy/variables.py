"""Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, defaults as in
`${aws:username, 'nobody'}`), replaced in `Resource` entries and in String/Arn condition
values of documents of version 2012-10-17."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SPECIAL = {"*": "*", "?": "?", "$": "$"}


def substitute(text: str, context: Mapping[str, Sequence[str]]) -> str | None:
    """`text` with its variables replaced by their single context values; None when one is
    absent (no default) or multi-valued: that entry then matches nothing."""
    if "${" not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("}", start)
        if end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        body = text[start + 2 : end]
        name, comma, default = body.partition(",")
        name = name.strip()
        if name in SPECIAL and not comma:
            out.append(SPECIAL[name])
        else:
            values = context.get(name.lower())
            if values is not None and len(values) == 1:
                out.append(values[0])
            elif comma and values is None:
                out.append(default.strip().strip("'"))
            else:
                return None
        pos = end + 1
