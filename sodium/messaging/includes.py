"""Content blocks that include other blocks ({% render "signature" %}): what saving refuses.

A block may include the practice's other blocks by name. Saving refuses a block that includes
itself, a loop (a includes b, which includes a — at any length), and renaming a block other
blocks include by its old name (they would stop rendering); `included_by` names the blocks
a delete would break. Unknown names are refused by
`liquid.validate`, given the practice's block names. Rendering stays bounded whatever is saved
(`sodium.liquid`): a loop that got in some other way fails with a message.
"""

from __future__ import annotations

from sodium import liquid
from sodium.models import ContentBlock, Practice


def _fold(name: str) -> str:
    return name.strip().casefold()


def _includes(subject: str, body: str) -> list[str]:
    names: list[str] = []
    for source in (subject, body):
        try:
            found = liquid.rendered_blocks(source)
        except liquid.TemplateError:
            continue  # a syntax error is reported by validation
        names += [n for n in found if n and n not in names]
    return names


def practice_block_names(practice: Practice, *, exclude: ContentBlock | None = None) -> list[str]:
    """Return the names of the practice's content blocks (but `exclude`)."""
    qs = ContentBlock.objects.filter(practice=practice)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.values_list("name", flat=True))


def include_errors(
    *, practice: Practice, name: str, subject: str, body: str, block: ContentBlock | None
) -> list[str]:
    """Return why saving block `name` with this subject and body would break includes.

    Reads every block of the practice once (names, subjects, bodies), whatever it holds.
    """
    me = _fold(name)
    others = ContentBlock.objects.filter(practice=practice).only("pk", "name", "subject", "body")
    if block is not None and block.pk:
        others = others.exclude(pk=block.pk)
    graph: dict[str, list[str]] = {}
    shown: dict[str, str] = {me: name}
    for other in others:
        graph[_fold(other.name)] = [_fold(n) for n in _includes(other.subject, other.body)]
        shown[_fold(other.name)] = other.name
    mine = _includes(subject, body)
    graph[me] = [_fold(n) for n in mine]
    problems: list[str] = []
    if me in graph[me]:
        problems.append("A content block cannot include itself.")
    loop = _loop_back_to(me, graph)
    if loop and len(loop) > 2:
        path = " → ".join(f"“{shown.get(n, n)}”" for n in loop)
        problems.append(
            f"That would make a loop: {path}. A block cannot include a block that includes it."
        )
    if block is not None and block.pk and _fold(block.name) != me:
        old = _fold(block.name)
        users = sorted(shown[n] for n, inc in graph.items() if n != me and old in inc)
        if users:
            problems.append(
                f"{', '.join(f'“{u}”' for u in users)} include{'s' if len(users) == 1 else ''} "
                f"this block as “{block.name}”: change {'it' if len(users) == 1 else 'them'} "
                "before renaming this one."
            )
    return problems


def included_by(block: ContentBlock) -> list[str]:
    """Return the names of the practice's other blocks that include `block` (deleting it
    would break them). Reads the practice's blocks once."""
    me = _fold(block.name)
    others = (
        ContentBlock.objects.filter(practice_id=block.practice_id)
        .exclude(pk=block.pk)
        .only("name", "subject", "body")
        .order_by("name")
    )
    return [o.name for o in others if me in {_fold(n) for n in _includes(o.subject, o.body)}]


def _loop_back_to(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    """Return a path start → … → start through the include graph, or None."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None
