"""SQL implementations of the gridcore.ports repositories. They return gridcore objects, never rows."""

from storage.repositories.chats import SqlConversationRepository, SqlResidentRepository
from storage.repositories.console import SqlConsoleRepository
from storage.repositories.corrections import SqlCorrectionRepository
from storage.repositories.outbox import SqlOutbox, SqlUpdateLog, decode_message, encode_message
from storage.repositories.roster import SqlRosterRepository
from storage.repositories.staff import SqlStaffRepository
from storage.repositories.tickets import SqlTicketRepository

__all__ = [
    "SqlConsoleRepository",
    "SqlConversationRepository",
    "SqlCorrectionRepository",
    "SqlOutbox",
    "SqlResidentRepository",
    "SqlRosterRepository",
    "SqlStaffRepository",
    "SqlTicketRepository",
    "SqlUpdateLog",
    "decode_message",
    "encode_message",
]
