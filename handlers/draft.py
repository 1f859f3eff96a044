"""The typed draft of a report, stored in the conversation between updates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

MAX_PHOTOS = 10
NO_ESTATE = "-"  # estate_code: the resident picked the buildings that belong to no estate


@dataclass
class ReportDraft:
    category_code: str | None = None
    suggested_category_code: str | None = None
    # Unsure between two: the second most likely category, offered beside the first as a button.
    alternative_category_code: str | None = None
    # What the bot guessed from the description, kept when the resident picks another one (the pair is
    # a correction the community's triage learns from); None once the description is typed anew.
    bot_suggestion: str | None = None
    description: str = ""
    building_code: str | None = None
    unit: str | None = None
    unit_asked: bool = False
    detail: str | None = None  # floor / room text; "" when the resident skipped it
    voice: str | None = None  # a voice note as the description (file id); the typed description may stay ""
    photos: list[str] = field(default_factory=list)
    photos_done: bool = False
    anonymous: bool | None = None
    duplicate_checked: bool = False
    duplicate_number: str | None = None
    phone_asked: bool = False  # 实名: the phone question was answered (shared, typed or declined)
    phone_change: bool = False  # asked again from the summary's 修改, although a number is on file
    # 代办: a building leader files for a neighbour (handlers.proxy). neighbour: None = not asked yet,
    # "" = the neighbour stays anonymous, else their name.
    on_behalf: bool = False
    neighbour: str | None = None
    neighbour_phone: str | None = None
    # Where, in a community with estates: the estate picked on the way to the building (NO_ESTATE: the
    # buildings of no estate); the buildings a typed name could mean (one per estate: asked which) and
    # the unit typed with it; the room a text named (kept for the home the bot offers to remember).
    estate_code: str | None = None
    place_candidates: list[str] = field(default_factory=list)
    candidate_unit: str | None = None
    room: str | None = None
    home_asked: bool = False  # "还是 <home> 吗？" answered, or not to be asked (the place was changed)
    home_only: bool = False  # no report: the resident sets their remembered home (/home, the offer)

    @classmethod
    def load(cls, data: dict[str, Any]) -> ReportDraft:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def dump(self) -> dict[str, Any]:
        return asdict(self)
