"""The staff web console: the same tickets and use cases as the chat, in a browser (see web/app.py)."""
