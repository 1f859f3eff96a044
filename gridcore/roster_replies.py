"""The roster's 常用回复 (`replies:` on a category, and at the top level as the community-wide default):
per kind (progress, resolve) a list of standard texts, validated like the rest of the roster."""

from __future__ import annotations

from yaml.nodes import Node

from gridcore.community import MAX_REPLIES_PER_KIND, MAX_REPLY_CHARS, Replies
from gridcore.roster_reader import Reader

REPLY_KINDS = ("progress", "resolve")
_REPLIES = (set(), set(REPLY_KINDS))


def parse_replies(r: Reader, node: Node | None, what: str) -> Replies:
    """`replies: {progress: [...], resolve: [...]}`; empty Replies when absent or wrong (reported)."""
    if node is None:
        return Replies()
    f = r.fields(node, f"{what} replies", _REPLIES)
    if f is None:
        return Replies()
    kinds: dict[str, tuple[str, ...]] = {}
    for kind in REPLY_KINDS:
        where = f"{what} replies {kind}"
        listed = r.texts(f.get(kind), where)
        if len(listed) > MAX_REPLIES_PER_KIND:
            r.problem(f[kind], f"{where}: at most {MAX_REPLIES_PER_KIND} texts (a phone shows one per row)")
        for text, item in listed:
            if len(text) > MAX_REPLY_CHARS:
                r.problem(item, f"{where}: a text is {len(text)} characters, at most {MAX_REPLY_CHARS}")
        seen: set[str] = set()
        for text, item in listed:
            if text in seen:
                r.problem(item, f'{where}: "{text}" is listed twice')
            seen.add(text)
        kinds[kind] = tuple(dict.fromkeys(text for text, _ in listed))[:MAX_REPLIES_PER_KIND]
    return Replies(**kinds)
