"""The stored state of one chat's dialog, so a restart mid-dialog resumes at the same step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Conversation:
    chat_id: int
    user_id: int
    dialog: str | None = None  # e.g. "report"; None when no dialog is under way
    step: str | None = None
    # Bumped every time the bot asks something with buttons; a button from an older turn is stale.
    turn: int = 0
    # The dialog's draft, serialised by the dialog itself (a typed draft at its edge).
    data: dict[str, Any] = field(default_factory=dict)
    # Outbox ids of the messages whose buttons are live now; they lose their buttons when the dialog
    # asks something new or ends, so only the newest question can be answered by a tap.
    prompts: list[int] = field(default_factory=list)
    updated_at: datetime | None = None

    def reset(self) -> None:
        self.dialog = None
        self.step = None
        self.data = {}
        self.turn += 1


@dataclass
class Resident:
    """What the bot remembers of a person who talks to it."""

    user_id: int
    chat_id: int
    display_name: str = ""
    username: str | None = None
    phone: str | None = None
    # The remembered home's building (offered after a first report, /home); a report naming no place
    # asks "还是 <home> 吗？". A stairwell QR code fills one report and never sets it.
    home_building_code: str | None = None
    # The community they talk to (a street office's bot serves several): from a QR deep link, their
    # remembered home, or their answer to "which community"; None until one of those.
    community_code: str | None = None
    # The rest of a remembered home (楼栋 above, in community_code): its unit and room, if given.
    home_unit: str | None = None
    home_room: str | None = None
    # The bot has offered to remember their home (asked once; /home changes it any time).
    home_offered: bool = False

    def move_to(self, community_code: str) -> bool:
        """Talk to `community_code` from now on; False if they already do. The home lies in the community
        it was saved in (building codes are unique only within a roster), so moving forgets it."""
        if self.community_code == community_code:
            return False
        if self.community_code is not None:
            self.home_building_code = self.home_unit = self.home_room = None
        self.community_code = community_code
        return True
