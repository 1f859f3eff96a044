"""Telegram updates become channel-neutral inputs; nothing a user can send is left without a kind."""

from __future__ import annotations

import pytest
from aiogram.types import Update

from bot.runtime import webhook_path
from bot.updates import to_incoming
from handlers.inputs import InputKind

USER = {"id": 5001, "is_bot": False, "first_name": "阿姨", "last_name": "张", "username": "zhang"}
PRIVATE = {"id": 5001, "type": "private", "first_name": "阿姨"}
GROUP = {"id": -1001000000011, "type": "supergroup", "title": "第一网格"}


def message_update(chat=PRIVATE, **content) -> Update:
    message = {"message_id": 7, "date": 1_790_000_000, "chat": chat, "from": USER, **content}
    return Update.model_validate({"update_id": 42, "message": message})


def test_text_and_commands():
    text = to_incoming(message_update(text="一楼堆放杂物"))
    assert (text.kind, text.text, text.chat_id, text.message_id) == (InputKind.TEXT, "一楼堆放杂物", 5001, 7)
    assert text.sender.display_name == "阿姨 张" and text.sender.username == "zhang"
    command = to_incoming(message_update(text="/start@gridbot_bot b_3"))
    assert (command.kind, command.command, command.args) == (InputKind.COMMAND, "start", "b_3")
    assert to_incoming(message_update(text="/")).kind is InputKind.TEXT


def test_photo_takes_the_largest_size_and_the_caption():
    sizes = [{"file_id": f"f{w}", "file_unique_id": f"u{w}", "width": w, "height": w} for w in (90, 800, 320)]
    photo = to_incoming(message_update(photo=sizes, caption="楼道堆物"))
    assert (photo.kind, photo.photo_file_id, photo.text) == (InputKind.PHOTO, "f800", "楼道堆物")


def test_a_voice_note_is_read_with_its_caption():
    voice = to_incoming(message_update(voice={"file_id": "AwAC-v", "file_unique_id": "v", "duration": 9},
                                       caption="楼道漏水"))
    assert (voice.kind, voice.voice_file_id, voice.text) == (InputKind.VOICE, "AwAC-v", "楼道漏水")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ({"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512,
                      "is_animated": False, "is_video": False}}, "sticker"),
        ({"audio": {"file_id": "a", "file_unique_id": "a", "duration": 3}}, "audio"),
        ({"document": {"file_id": "d", "file_unique_id": "d"}}, "document"),
        ({"dice": {"emoji": "🎲", "value": 3}}, "dice"),
        ({"new_chat_title": "x"}, "other"),
    ],
)
def test_content_the_bot_does_not_read_is_named(content, what):
    incoming = to_incoming(message_update(**content))
    assert (incoming.kind, incoming.what) == (InputKind.UNSUPPORTED, what)


def test_contact_location_edited_group_and_callback():
    contact = to_incoming(message_update(contact={"phone_number": "13812345678", "first_name": "张",
                                                  "user_id": 5001}))
    assert (contact.kind, contact.phone, contact.contact_user_id) == (InputKind.CONTACT, "13812345678", 5001)
    location = to_incoming(message_update(location={"latitude": 30.1, "longitude": 120.2}))
    assert location.kind is InputKind.LOCATION
    group = to_incoming(message_update(chat=GROUP, text="/help"))
    assert not group.is_private and group.chat_id == GROUP["id"]
    edited = Update.model_validate({"update_id": 43, "edited_message": {
        "message_id": 7, "date": 1, "edit_date": 2, "chat": PRIVATE, "from": USER, "text": "改了"}})
    assert to_incoming(edited).kind is InputKind.EDITED
    callback = Update.model_validate({"update_id": 44, "callback_query": {
        "id": "q1", "from": USER, "chat_instance": "c", "data": "r:3:yes",
        "message": {"message_id": 9, "date": 1, "chat": PRIVATE, "text": "?"}}})
    pressed = to_incoming(callback)
    assert (pressed.kind, pressed.button_data, pressed.message_id) == (InputKind.BUTTON, "r:3:yes", 9)
    member = Update.model_validate({"update_id": 45, "my_chat_member": {
        "chat": PRIVATE, "from": USER, "date": 1,
        "old_chat_member": {"status": "member", "user": USER},
        "new_chat_member": {"status": "kicked", "user": USER, "until_date": 0}}})
    assert to_incoming(member) is None


def test_webhook_listens_on_the_path_of_its_url():
    assert webhook_path("https://bot.example.org/hooks/gridbot") == "/hooks/gridbot"
    assert webhook_path("https://bot.example.org") == "/webhook"
