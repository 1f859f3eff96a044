"""The category suggestion of a report (gridcore.triage) with the community's own corrections: the
pairs recorded when a resident picked another category or a worker re-categorised a ticket
(uow.corrections), kept as each community's CorrectionMemory and rebuilt when they change."""

from __future__ import annotations

from collections.abc import Hashable

from gridcore.ports import TriageCorrection
from gridcore.triage import CorrectionMemory, Suggestion, TopicModel, suggest
from handlers.context import Context

MEMORY_SIZE = 500  # the newest corrections of a community that the suggestion learns from


class Triage:
    """One per process: the model, and per community its memory with the corrections it was built of."""

    def __init__(self, model: TopicModel | None) -> None:
        self.model = model
        self._memories: dict[str, tuple[Hashable, CorrectionMemory]] = {}

    async def suggest(self, ctx: Context, text: str) -> Suggestion:
        memory = await self.memory(ctx) if self.model is not None else None
        return suggest(text, ctx.community.categories, self.model, memory)

    async def memory(self, ctx: Context) -> CorrectionMemory | None:
        """The community's memory; its corrections are read again only when a newer one was added (they
        are only ever added, so the newest one names the list)."""
        assert self.model is not None
        code = ctx.community.code
        newest = await ctx.uow.corrections.for_community(code, 1)
        if not newest:
            return None
        key = version(newest[0])
        cached = self._memories.get(code)
        if cached is None or cached[0] != key:
            corrections = await ctx.uow.corrections.for_community(code, MEMORY_SIZE)
            cached = version(corrections[0]), CorrectionMemory.of(self.model,
                                                                  [(c.text, c.chosen) for c in corrections])
            self._memories[code] = cached
        return cached[1]


def version(newest: TriageCorrection) -> Hashable:
    return newest.at, newest.text, newest.chosen, newest.source


KEYWORDS_ONLY = Triage(None)


async def suggestion_for(ctx: Context, text: str) -> Suggestion:
    return await (ctx.triage or KEYWORDS_ONLY).suggest(ctx, text)
