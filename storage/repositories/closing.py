"""PostgreSQL: the writes that end an update, held back to go to the server as one statement.

A dialog step writes three things: the update's record (a repeat must change nothing), the reply (an
outbox row) and the conversation. Each was a round trip of its own, inside BEGIN ... COMMIT: seven round
trips an update with the first read, each waking a server process and then the bot (bench/INBOUND.md,
eighth round). Here the update is read without a transaction (storage.repositories.chats.begin_update:
under READ COMMITTED a statement inside one sees the same), the reply takes an outbox id reserved by that
read, and the record, the reply and the conversation (and a resident's profile, when the step saved
one) go in one statement at the commit. A single
statement is atomic by itself, so no BEGIN and no COMMIT are sent: two round trips for a dialog step.

Nothing else changes order: any other statement of the unit of work first writes what is held (each alone,
in the transaction that statement begins), and the record still goes last, with the commit. An update found
recorded then (a repeat handled at the same time elsewhere) writes nothing of what was held, and the unit of
work rolls back what it wrote before (gridcore.errors.RepeatedUpdate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql

from storage.direct import direct
from storage.models import ConversationRow, ProcessedUpdateRow, ResidentRow
from storage.repositories.outbox import insert_row, row_insert

processed_updates: Table = ProcessedUpdateRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class Upserted:
    """A table whose rows a unit of work replaces whole (insert, or update every column on its key)."""

    name: str  # also the prefix of its parameters in the closing statement
    table: Table
    key: str
    columns: tuple[str, ...]  # the key first


CONVERSATION = Upserted("conversation", ConversationRow.__table__,  # type: ignore[arg-type]
                        "chat_id", ("chat_id", "user_id", "dialog", "step", "turn", "data", "prompts",
                                    "updated_at"))
RESIDENT = Upserted("resident", ResidentRow.__table__,  # type: ignore[arg-type]
                    "user_id", ("user_id", "chat_id", "display_name", "username", "phone",
                                "home_building_code"))
UPSERTED = (CONVERSATION, RESIDENT)  # the closing statement's order


@dataclass
class HeldRow:
    """An outbox row not written yet: its values (outbox.ROW_KEYS and "id", plus `claimed_until`, or
    `held` and `lease_until` when it is leased only if the chat has no other pending row; see SqlOutbox),
    and what to tell once it is written: its claimed_until."""

    values: dict[str, Any]
    leased_if_alone: bool
    written: Callable[[datetime | None], None]


class ClosingWrites:
    """The held writes of one unit of work (PostgreSQL only; SQLite writes at once, as before): at most
    one outbox row, and one row of each Upserted table."""

    def __init__(self) -> None:
        self.update: dict[str, Any] | None = None  # {"update_id", "at"} from begin_update
        self.reserved_id: int | None = None  # an outbox id taken by begin_update's read
        self.row: HeldRow | None = None
        self.upserts: dict[Upserted, dict[str, Any]] = {}

    @property
    def holds_writes(self) -> bool:
        return self.row is not None or bool(self.upserts)

    def hold_row(self, values: dict[str, Any], leased_if_alone: bool,
                 written: Callable[[datetime | None], None]) -> None:
        assert self.row is None, "one held row at a time: write_held() first"
        self.row = HeldRow(values, leased_if_alone, written)

    def hold_upsert(self, upserted: Upserted, values: dict[str, Any]) -> bool:
        """Hold a row's upsert; a later one of the same row replaces it. False (nothing held) if another
        row of the table is held already: the caller writes this one now, which writes that one first."""
        held = self.upserts.get(upserted)
        if held is not None and held[upserted.key] != values[upserted.key]:
            return False
        self.upserts[upserted] = values
        return True

    def take_id(self) -> int | None:
        """The reserved outbox id, once: a row that gets it is held; the others are written at once."""
        reserved, self.reserved_id = self.reserved_id, None
        return reserved

    def discard(self) -> None:
        """Rolled back: nothing held is written, and the update is not recorded."""
        self.update = self.row = self.reserved_id = None
        self.upserts = {}

    async def write_held(self, execute: Callable[..., Any]) -> None:
        """Write what is held, each alone (another statement is about to run, or the unit of work ends
        without an update to record)."""
        row, upserts = self.row, self.upserts
        self.row, self.upserts = None, {}
        if row is not None:
            result = await execute(insert_row("postgresql", row.leased_if_alone, with_id=True), row.values)
            row.written(result.one().claimed_until)
        for upserted, values in upserts.items():
            await execute(_write_upsert(upserted), values)

    async def close(self, execute: Callable[..., Any]) -> bool:
        """The update's record with what is held, in one statement. False: the update was recorded
        already (nothing held was written)."""
        if self.update is None:
            await self.write_held(execute)
            return True
        row, upserts = self.row, self.upserts
        parameters = dict(self.update)
        if row is not None:
            parameters.update(row.values)
        for upserted, values in upserts.items():
            parameters.update({f"{upserted.name}_{key}": value for key, value in values.items()})
        statement = _closing(None if row is None else row.leased_if_alone,
                             tuple(upserted in upserts for upserted in UPSERTED))
        result = (await execute(statement, parameters)).one()
        self.update = self.row = None
        self.upserts = {}
        if result.recorded is None:
            return False
        if row is not None:
            row.written(result.claimed_until)
        return True


def _upsert(upserted: Upserted, prefix: str = "", *where: Any) -> Any:
    table = upserted.table
    values = select(*[bindparam(prefix + key, type_=table.c[key].type) for key in upserted.columns])
    statement = postgresql.insert(table).from_select([table.c[key] for key in upserted.columns],
                                                     values.where(*where))
    replaced = {key: statement.excluded[key] for key in upserted.columns if key != upserted.key}
    return statement.on_conflict_do_update(index_elements=[table.c[upserted.key]], set_=replaced)


@cache
def _write_upsert(upserted: Upserted) -> Any:
    return direct(_upsert(upserted))


@cache
def _closing(row: bool | None, upserts: tuple[bool, ...]) -> Any:
    """The record, then (only if it was new) the held row (row: leased_if_alone, or None for no row) and
    the held upserts (one flag per UPSERTED). Data-modifying CTEs run whether or not the query reads
    them; each of the others reads the record's RETURNING, the one way for them to see it."""
    recorded = (postgresql.insert(processed_updates)
                .values(update_id=bindparam("update_id", type_=processed_updates.c.update_id.type),
                        at=bindparam("at", type_=processed_updates.c.at.type))
                .on_conflict_do_nothing(index_elements=[processed_updates.c.update_id])
                .returning(processed_updates.c.update_id).cte("recorded"))
    is_new = select(recorded.c.update_id).exists()
    columns = [select(recorded.c.update_id).scalar_subquery().label("recorded")]
    if row is not None:
        written = row_insert("postgresql", row, True, is_new).cte("written")
        columns.append(select(written.c.claimed_until).scalar_subquery().label("claimed_until"))
    for upserted, held in zip(UPSERTED, upserts, strict=True):
        if held:
            table = upserted.table
            saved = (_upsert(upserted, f"{upserted.name}_", is_new)
                     .returning(table.c[upserted.key]).cte(f"saved_{upserted.name}"))
            columns.append(select(func.count()).select_from(saved).scalar_subquery().label(upserted.name))
    return direct(select(*columns))
