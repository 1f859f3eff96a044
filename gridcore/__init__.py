"""gridcore — the pure domain of gridbot: community, roster, tickets and their lifecycle.

No I/O lives here: no database, no Telegram, no templates, no clock. Callers pass time in.
"""
