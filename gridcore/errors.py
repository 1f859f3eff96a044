class DomainError(Exception):
    """A rule of the domain was broken; the message says which."""


class IllegalTransition(DomainError):
    def __init__(self, number: str, status: str, action: str) -> None:
        super().__init__(f"ticket {number}: cannot {action} while {status}")
        self.number = number
        self.status = status
        self.action = action

