"""CorrectionRepository: corrected categories, the training pairs of a community's triage."""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gridcore.ports import TriageCorrection
from storage.models import TriageCorrectionRow

corrections: Table = TriageCorrectionRow.__table__  # type: ignore[assignment]


class SqlCorrectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, correction: TriageCorrection) -> None:
        await self._session.execute(insert(corrections).values(
            community_code=correction.community_code, text=correction.text, suggested=correction.suggested,
            chosen=correction.chosen, source=correction.source, at=correction.at))

    async def for_community(self, community_code: str, limit: int) -> list[TriageCorrection]:
        c = corrections.c
        result = await self._session.execute(
            select(c.community_code, c.text, c.suggested, c.chosen, c.source, c.at)
            .where(c.community_code == community_code).order_by(c.at.desc(), c.id.desc()).limit(limit))
        return [TriageCorrection(row.community_code, row.text, row.suggested, row.chosen, row.source, row.at)
                for row in result]
