"""aiogram imported with its types' validators deferred (bot/telegram_types.py): every model still builds,
with the fields an eager import gives it. Each case runs in a fresh interpreter, since the import happens
once per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DESCRIBE_MODELS = """
import json, re, sys
from pydantic import BaseModel
if sys.argv[1] == "deferred":
    from bot.telegram_types import defer_validators
    assert defer_validators()
import aiogram
import bot.telegram_session  # the bot's own subclasses of aiogram's methods

def models():
    seen, stack = set(), list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        if model not in seen:
            seen.add(model)
            stack.extend(model.__subclasses__())
            if model.__module__.split(".")[0] in ("aiogram", "bot") and \\
                    not model.__pydantic_generic_metadata__["parameters"]:
                yield model

built_before_use = sum(model.__pydantic_complete__ for model in models())
described = {}
for model in models():
    model.model_rebuild()  # raises if a name cannot be resolved
    fields = re.sub(r" at 0x[0-9a-f]+", "", repr(model.model_fields))
    described[f"{model.__module__}.{model.__qualname__}"] = [model.__pydantic_complete__, fields]
print(json.dumps({"built_before_use": built_before_use, "models": described}))
"""


def describe_models(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", DESCRIBE_MODELS, mode], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_every_model_builds_with_the_fields_of_an_eager_import() -> None:
    eager, deferred = describe_models("eager"), describe_models("deferred")
    assert len(deferred["models"]) > 600  # aiogram's types and methods, and the bot's subclasses
    assert "bot.telegram_session.SendMessageForId" in deferred["models"]
    unbuilt = [name for name, (complete, _) in deferred["models"].items() if not complete]
    assert unbuilt == []
    assert deferred["models"] == eager["models"]
    # the point of it: most validators are not built until something uses them
    assert eager["built_before_use"] == len(eager["models"]) - 1  # all but aiogram's generic base
    assert deferred["built_before_use"] < len(deferred["models"]) / 2


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_deferred_import_parses_updates_and_builds_requests() -> None:
    printed = run_python("""
from bot.telegram_types import defer_validators
defer_validators()
from aiogram.types import Update, InlineKeyboardMarkup, InlineKeyboardButton, Message
from aiogram.methods import Response
from bot.telegram_session import SendMessageForId
assert not Message.__pydantic_complete__
update = Update.model_validate({"update_id": 7, "callback_query": {
    "id": "1", "from": {"id": 5, "is_bot": False, "first_name": "王"}, "chat_instance": "c", "data": "d",
    "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "问",
                "entities": [{"type": "text_mention", "offset": 0, "length": 1,
                              "user": {"id": 5, "is_bot": False, "first_name": "王"}}]}}})
request = SendMessageForId(chat_id=5, text="好", reply_markup=InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="是", callback_data="yes")]]))
sent = Response[Message].model_validate({"ok": True, "result": {
    "message_id": 9, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "好"}})
print(update.callback_query.message.entities[0].user.first_name,
      request.reply_markup.inline_keyboard[0][0].callback_data, sent.result.message_id)
""")
    assert printed == "王 yes 9"


def test_nothing_changes_when_aiogram_was_imported_first() -> None:
    printed = run_python("""
import aiogram.types
from bot.telegram_types import defer_validators
print(defer_validators(), aiogram.types.Message.__pydantic_complete__)
""")
    assert printed == "False True"
