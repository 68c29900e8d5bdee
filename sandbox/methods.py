"""Bot API methods the sandbox answers with realistic results."""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from sandbox.errors import bad_request
from sandbox.formatting import FormattedText
from sandbox.models import UploadedFile
from sandbox.rules import caption_text, message_text
from sandbox.spec import ATTACH_PREFIX, ApiSpec
from sandbox.state import (
    ACTIVE_STATUSES,
    ADMIN_STATUSES,
    ChatState,
    StoredFile,
    StoredMessage,
    World,
    now_epoch,
)

# Sends count against flood limits and are where injected server errors strike.
SEND_METHODS = frozenset(
    {
        "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "copyMessage",
        "copyMessages", "forwardMessage", "forwardMessages", "sendVideo", "sendAudio",
        "sendAnimation", "sendVoice", "sendVideoNote", "sendSticker", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendInvoice", "sendPaidMedia",
        "sendGame", "sendChecklist",
    }
)  # fmt: skip

#: Calls that never count against the flood limits, even strictly: the long poll, the
#: webhook, the bot's own profile and menus.
UNCOUNTED = frozenset(
    {
        "getUpdates", "getMe", "getWebhookInfo", "setWebhook", "deleteWebhook", "logOut",
        "close", "setMyCommands", "deleteMyCommands", "getMyCommands", "setMyName",
        "getMyName", "setMyDescription", "getMyDescription", "setMyShortDescription",
        "getMyShortDescription", "setMyDefaultAdministratorRights", "setChatMenuButton",
        "getMyDefaultAdministratorRights", "getChatMenuButton", "getFile",
    }
)  # fmt: skip

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
DOWNLOAD_LIMIT = 20 * 1024 * 1024
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


@dataclass
class Call:
    """One validated Bot API call."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    world: World
    spec: ApiSpec
    chat: ChatState | None = None

    @property
    def target(self) -> ChatState:
        """The chat named by ``chat_id``; 400 when the call did not name one."""
        if self.chat is None:
            raise bad_request("chat_id is empty")
        return self.chat


Handler = Callable[[Call], Any]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register a function as the implementation of Bot API methods."""

    def register(function: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = function
        return function

    return register


# -- bot and session -----------------------------------------------------------------------


@handles("getMe")
def get_me(call: Call) -> dict[str, Any]:
    """The bot, with the capability flags only getMe returns."""
    user = call.world.bot_user()
    for name, field in call.spec.fields_of("User").items():
        if field.types == ("Boolean",) and "Returned only in getMe" in field.description:
            user[name] = False
    user["can_join_groups"] = True
    names = call.world.names
    if names.get(""):
        user["first_name"] = names[""]
    return user


@handles("logOut", "close")
def log_out(call: Call) -> bool:
    """Nothing to release locally."""
    return True


@handles("setWebhook")
def set_webhook(call: Call) -> bool:
    """Remember the webhook; getUpdates then conflicts with it, as in Telegram."""
    world = call.world
    url = call.params["url"]
    if call.params.get("drop_pending_updates"):
        world.updates.clear()
    if "allowed_updates" in call.params:
        world.updates.set_allowed(call.params["allowed_updates"])
    if not url:
        world.webhook = None
        return True
    if not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook = {"url": url, "max_connections": call.params.get("max_connections", 40)}
    return True


@handles("deleteWebhook")
def delete_webhook(call: Call) -> bool:
    """Forget the webhook; optionally drop pending updates."""
    call.world.webhook = None
    if call.params.get("drop_pending_updates"):
        call.world.updates.clear()
    return True


@handles("getWebhookInfo")
def get_webhook_info(call: Call) -> dict[str, Any]:
    """An empty URL means getUpdates is in use."""
    world = call.world
    info = call.spec.skeleton("WebhookInfo", pending_update_count=len(world.updates))
    if world.webhook is not None:
        info.update(world.webhook)
    if world.updates.allowed is not None:
        info["allowed_updates"] = sorted(world.updates.allowed)
    return info


# -- commands and descriptions --------------------------------------------------------------


def scope_key(scope: dict[str, Any] | None) -> str:
    """Canonical JSON of a command scope; the default scope when none is given."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))


@handles("setMyCommands")
def set_my_commands(call: Call) -> bool:
    """Store commands per (scope, language); an empty list deletes them."""
    key = (scope_key(call.params.get("scope")), call.params.get("language_code", ""))
    commands = call.params["commands"]
    if commands:
        call.world.commands[key] = commands
    else:
        call.world.commands.pop(key, None)
    return True


@handles("getMyCommands")
def get_my_commands(call: Call) -> list[dict[str, Any]]:
    """The commands exactly for the given scope and language."""
    key = (scope_key(call.params.get("scope")), call.params.get("language_code", ""))
    return list(call.world.commands.get(key, []))


@handles("deleteMyCommands")
def delete_my_commands(call: Call) -> bool:
    """Drop the commands of one scope and language."""
    key = (scope_key(call.params.get("scope")), call.params.get("language_code", ""))
    call.world.commands.pop(key, None)
    return True


def _set_text(store: dict[str, str], call: Call, field: str) -> bool:
    language = call.params.get("language_code", "")
    value = call.params.get(field, "")
    if value:
        store[language] = value
    else:
        store.pop(language, None)
    return True


@handles("setMyDescription")
def set_my_description(call: Call) -> bool:
    """Per-language description shown in an empty chat with the bot."""
    return _set_text(call.world.descriptions, call, "description")


@handles("getMyDescription")
def get_my_description(call: Call) -> dict[str, Any]:
    """The stored description for a language."""
    language = call.params.get("language_code", "")
    return {"description": call.world.descriptions.get(language, "")}


@handles("setMyShortDescription")
def set_my_short_description(call: Call) -> bool:
    """Per-language short description shown on the bot's profile."""
    return _set_text(call.world.short_descriptions, call, "short_description")


@handles("getMyShortDescription")
def get_my_short_description(call: Call) -> dict[str, Any]:
    """The stored short description for a language."""
    language = call.params.get("language_code", "")
    return {"short_description": call.world.short_descriptions.get(language, "")}


@handles("setMyName")
def set_my_name(call: Call) -> bool:
    """Per-language bot name."""
    return _set_text(call.world.names, call, "name")


@handles("getMyName")
def get_my_name(call: Call) -> dict[str, Any]:
    """The stored name for a language, or the default name."""
    language = call.params.get("language_code", "")
    return {"name": call.world.names.get(language, "Trainee Assistant")}


@handles("setChatMenuButton")
def set_chat_menu_button(call: Call) -> bool:
    """The menu button of one private chat, or the default one (chat 0)."""
    chat_id = call.params.get("chat_id", 0)
    call.world.menu_buttons[chat_id] = call.params.get("menu_button", {"type": "default"})
    return True


@handles("getChatMenuButton")
def get_chat_menu_button(call: Call) -> dict[str, Any]:
    """A chat's own menu button, else the default one."""
    buttons = call.world.menu_buttons
    chat_id = call.params.get("chat_id", 0)
    return buttons.get(chat_id) or buttons.get(0) or {"type": "commands"}


# -- sending --------------------------------------------------------------------------------


def _sender(call: Call) -> dict[str, Any]:
    return call.world.bot_user()


def _markup(call: Call, content: dict[str, Any], stored_keyboard: list[list[str]]) -> None:
    """Inline keyboards belong to the message; reply keyboards to the chat."""
    markup = call.params.get("reply_markup")
    if not markup:
        return
    if "inline_keyboard" in markup:
        content["reply_markup"] = markup
        return
    chat = call.target
    if "keyboard" in markup:
        rows = [[str(button.get("text", "")) for button in row] for row in markup["keyboard"]]
        stored_keyboard.extend(rows)
        chat.reply_keyboard = rows
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def _reply(call: Call, content: dict[str, Any]) -> None:
    params = call.params
    reply = params.get("reply_parameters")
    if reply is None and "reply_to_message_id" in params:
        reply = {
            "message_id": _legacy_int(params["reply_to_message_id"]),
            "allow_sending_without_reply": _legacy_bool(params.get("allow_sending_without_reply")),
        }
    if reply is None:
        return
    chat = call.target
    if "chat_id" in reply and reply["chat_id"] != chat.id:
        chat = call.world.find_chat(reply["chat_id"])
    target = chat.messages.get(reply["message_id"])
    if target is None:
        if reply.get("allow_sending_without_reply"):
            return
        raise bad_request("message to be replied not found")
    quoted = {k: v for k, v in target.message.items() if k != "reply_to_message"}
    content["reply_to_message"] = quoted


def _legacy_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request('parameter "reply_to_message_id" must be of type Integer') from None


def _legacy_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})


def _text_content(formatted: FormattedText) -> dict[str, Any]:
    content: dict[str, Any] = {"text": formatted.text}
    if formatted.entities:
        content["entities"] = formatted.entities
    return content


def _caption_content(formatted: FormattedText | None) -> dict[str, Any]:
    if formatted is None or not formatted.text:
        return {}
    content: dict[str, Any] = {"caption": formatted.text}
    if formatted.entities:
        content["caption_entities"] = formatted.entities
    return content


def _html(call: Call, field: str) -> str | None:
    mode = str(call.params.get("parse_mode") or "")
    return call.params.get(field) if mode.lower() == "html" else None


def _post(
    call: Call,
    content: dict[str, Any],
    *,
    html: str | None = None,
    document_bytes: bytes | None = None,
) -> StoredMessage:
    keyboard: list[list[str]] = []
    _markup(call, content, keyboard)
    _reply(call, content)
    stored = call.world.add_message(
        call.target,
        _sender(call),
        content,
        from_bot=True,
        html=html,
        document_bytes=document_bytes,
    )
    stored.reply_keyboard = keyboard
    return stored


@handles("sendMessage")
def send_message(call: Call) -> dict[str, Any]:
    """A text message; HTML is parsed into plain text and entities."""
    formatted = message_text(call.params)
    if formatted is None:
        raise bad_request("message text is empty")
    stored = _post(call, _text_content(formatted), html=_html(call, "text"))
    return stored.message


def _input_file(call: Call, value: Any, kind: str) -> StoredFile:
    """Resolve an InputFile-or-String value to a stored file of ``kind``."""
    world = call.world
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "photo" and not value.data.startswith(_IMAGE_MAGIC) and not _is_webp(value.data):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return world.add_file(kind, value.data, value.filename, _content_type(value))
    if not isinstance(value, str) or not value:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if value.startswith(ATTACH_PREFIX):
        part = call.files.get(value[len(ATTACH_PREFIX) :])
        if part is None:
            raise bad_request(f"file {value!r} is not attached to the request")
        return _input_file(call, part, kind)
    if value.startswith(("http://", "https://")):
        # No network here: the sandbox stands in an empty file for what Telegram would fetch.
        name = urlparse(value).path.rsplit("/", 1)[-1] or "file"
        return world.add_file(kind, b"", name)
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def _content_type(part: UploadedFile) -> str | None:
    if part.content_type and part.content_type != "application/octet-stream":
        return part.content_type
    return None


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG, GIF or JPEG header; a square guess otherwise."""
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:3] == b"GIF" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return 512, 512


def _photo_sizes(call: Call, stored: StoredFile) -> list[dict[str, Any]]:
    width, height = _image_size(stored.data)
    full = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": width,
        "height": height,
    }
    biggest = max(width, height)
    if biggest <= 90:
        return [full]
    scale = 90 / biggest
    thumb = call.world.add_file(
        "photo", stored.data, stored.file_name, stored.mime_type, variant="thumbnail"
    )
    small = {
        "file_id": thumb.file_id,
        "file_unique_id": thumb.file_unique_id,
        "file_size": len(stored.data),
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
    }
    return [small, full]


@handles("sendDocument")
def send_document(call: Call) -> dict[str, Any]:
    """A document: an upload, a file_id sent before, or a URL."""
    caption = caption_text(call.params)
    stored_file = _input_file(call, call.params["document"], "document")
    content = {"document": stored_file.document(), **_caption_content(caption)}
    stored = _post(call, content, html=_html(call, "caption"), document_bytes=stored_file.data)
    return stored.message


@handles("sendPhoto")
def send_photo(call: Call) -> dict[str, Any]:
    """A photo with its sizes."""
    caption = caption_text(call.params)
    stored_file = _input_file(call, call.params["photo"], "photo")
    content = {"photo": _photo_sizes(call, stored_file), **_caption_content(caption)}
    stored = _post(call, content, html=_html(call, "caption"))
    return stored.message


@handles("sendMediaGroup")
def send_media_group(call: Call) -> list[dict[str, Any]]:
    """An album of documents or of photos."""
    media: list[dict[str, Any]] = call.params["media"]
    kinds = {item["type"] for item in media}
    if not kinds <= {"document", "photo"}:
        raise bad_request(f"method is not supported by the sandbox for media types {sorted(kinds)}")
    if len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    group_id = str(secrets.randbits(60))
    prepared: list[tuple[dict[str, Any], bytes | None]] = []
    for item in media:
        caption = caption_text(item)
        kind = item["type"]
        stored_file = _input_file(call, item["media"], kind)
        content: dict[str, Any] = {"media_group_id": group_id, **_caption_content(caption)}
        if kind == "photo":
            content["photo"] = _photo_sizes(call, stored_file)
            prepared.append((content, None))
        else:
            content["document"] = stored_file.document()
            prepared.append((content, stored_file.data))
    messages = []
    for content, data in prepared:
        _reply(call, content)
        stored = call.world.add_message(
            call.target, _sender(call), content, from_bot=True, document_bytes=data
        )
        messages.append(stored.message)
    return messages


@handles("sendChatAction")
def send_chat_action(call: Call) -> bool:
    """A typing indicator and the like; nothing stays in the chat."""
    if call.params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _content_of(source: StoredMessage) -> dict[str, Any]:
    keys = ("text", "entities", "caption", "caption_entities", "document", "photo")
    return {k: source.message[k] for k in keys if k in source.message}


@handles("copyMessage")
def copy_message(call: Call) -> dict[str, Any]:
    """A copy without a link to the original; the caption may be replaced."""
    world = call.world
    source_chat = world.find_chat(call.params["from_chat_id"])
    source = world.find_message(source_chat, call.params["message_id"], "message to copy not found")
    content = _content_of(source)
    if not content:
        raise bad_request("message can't be copied")
    if "caption" in call.params and "text" not in content:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_caption_content(caption_text(call.params)))
    stored = _post(call, content, html=source.html, document_bytes=source.document_bytes)
    return {"message_id": stored.message_id}


@handles("forwardMessage")
def forward_message(call: Call) -> dict[str, Any]:
    """A forward that names the original sender."""
    world = call.world
    source_chat = world.find_chat(call.params["from_chat_id"])
    source = world.find_message(
        source_chat, call.params["message_id"], "message to forward not found"
    )
    content = _content_of(source)
    if not content:
        raise bad_request("message can't be forwarded")
    original = source.message
    if source_chat.is_private or "from" in original:
        origin = {"type": "user", "date": original["date"], "sender_user": original["from"]}
    else:
        origin = {"type": "chat", "date": original["date"], "sender_chat": source_chat.chat}
    content["forward_origin"] = origin
    stored = world.add_message(
        call.target,
        _sender(call),
        content,
        from_bot=True,
        html=source.html,
        document_bytes=source.document_bytes,
    )
    return stored.message


# -- editing and deleting ------------------------------------------------------------------


def _editable(call: Call) -> StoredMessage | None:
    """The message an edit addresses; ``None`` for inline messages."""
    params = call.params
    if "inline_message_id" in params:
        return None
    if "message_id" not in params or call.chat is None:
        raise bad_request("message identifier is not specified")
    stored = call.world.find_message(call.chat, params["message_id"], "message to edit not found")
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    return stored


def _apply_edit(stored: StoredMessage, changes: dict[str, Any], removed: tuple[str, ...]) -> None:
    message = stored.message
    current = {k: message.get(k) for k in (*changes, *removed)}
    wanted = {**{k: None for k in removed}, **changes}
    if current == wanted:
        raise bad_request(NOT_MODIFIED)
    for key in removed:
        message.pop(key, None)
    message.update(changes)
    message["edit_date"] = now_epoch()


def _edit_markup(call: Call) -> tuple[dict[str, Any], tuple[str, ...]]:
    markup = call.params.get("reply_markup")
    if markup:
        return {"reply_markup": markup}, ()
    return {}, ("reply_markup",)


@handles("editMessageText")
def edit_message_text(call: Call) -> dict[str, Any] | bool:
    """New text; an omitted reply_markup removes the inline keyboard, as in Telegram."""
    formatted = message_text(call.params)
    if formatted is None:
        raise bad_request("message text is empty")
    stored = _editable(call)
    if stored is None:
        return True
    if "text" not in stored.message:
        raise bad_request("there is no text in the message to edit")
    changes, removed = _edit_markup(call)
    changes["text"] = formatted.text
    if formatted.entities:
        changes["entities"] = formatted.entities
    else:
        removed = (*removed, "entities")
    _apply_edit(stored, changes, removed)
    stored.html = _html(call, "text")
    return stored.message


@handles("editMessageCaption")
def edit_message_caption(call: Call) -> dict[str, Any] | bool:
    """New caption (omitted means none) for a media message."""
    formatted = caption_text(call.params)
    stored = _editable(call)
    if stored is None:
        return True
    if "text" in stored.message:
        raise bad_request("there is no caption in the message to edit")
    changes, removed = _edit_markup(call)
    caption = _caption_content(formatted)
    changes.update(caption)
    removed = (*removed, *(k for k in ("caption", "caption_entities") if k not in caption))
    _apply_edit(stored, changes, removed)
    stored.html = _html(call, "caption")
    return stored.message


@handles("editMessageReplyMarkup")
def edit_message_reply_markup(call: Call) -> dict[str, Any] | bool:
    """New inline keyboard; an omitted one removes it."""
    stored = _editable(call)
    if stored is None:
        return True
    changes, removed = _edit_markup(call)
    _apply_edit(stored, changes, removed)
    return stored.message


def _deletable(chat: ChatState, stored: StoredMessage) -> bool:
    return stored.from_bot or chat.is_private or chat.bot_status in ADMIN_STATUSES


@handles("deleteMessage")
def delete_message(call: Call) -> bool:
    """Remove a message from the chat for everyone."""
    chat = call.target
    stored = call.world.find_message(chat, call.params["message_id"], "message to delete not found")
    if not _deletable(chat, stored):
        raise bad_request("message can't be deleted")
    del chat.messages[stored.message_id]
    return True


@handles("deleteMessages")
def delete_messages(call: Call) -> bool:
    """Remove several messages; ones that are gone already are skipped."""
    chat = call.target
    for message_id in call.params["message_ids"]:
        stored = chat.messages.get(message_id)
        if stored is not None and _deletable(chat, stored):
            del chat.messages[message_id]
    return True


@handles("pinChatMessage")
def pin_chat_message(call: Call) -> bool:
    """Mark a message pinned."""
    chat = call.target
    if not chat.bot_is_admin():
        raise bad_request("not enough rights to manage pinned messages in the chat")
    stored = call.world.find_message(chat, call.params["message_id"], "message to pin not found")
    stored.pinned = True
    if stored.message_id in chat.pinned:
        chat.pinned.remove(stored.message_id)
    chat.pinned.append(stored.message_id)
    return True


@handles("unpinChatMessage")
def unpin_chat_message(call: Call) -> bool:
    """Unpin one message, or the most recently pinned one."""
    chat = call.target
    if not chat.bot_is_admin():
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = call.params.get("message_id")
    if message_id is None:
        if not chat.pinned:
            raise bad_request("message to unpin not found")
        message_id = chat.pinned[-1]
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    stored = chat.messages.get(message_id)
    if stored is not None:
        stored.pinned = False
    return True


@handles("unpinAllChatMessages")
def unpin_all_chat_messages(call: Call) -> bool:
    """Unpin everything in the chat."""
    chat = call.target
    for message_id in chat.pinned:
        stored = chat.messages.get(message_id)
        if stored is not None:
            stored.pinned = False
    chat.pinned.clear()
    return True


# -- callbacks and files -------------------------------------------------------------------


@handles("answerCallbackQuery")
def answer_callback_query(call: Call) -> bool:
    """Each query can be answered once."""
    query_id = call.params["callback_query_id"]
    world = call.world
    if query_id not in world.open_queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    world.open_queries.discard(query_id)
    keys = ("text", "show_alert", "url", "cache_time")
    world.callback_answers[query_id] = {k: call.params[k] for k in keys if k in call.params}
    return True


@handles("getFile")
def get_file(call: Call) -> dict[str, Any]:
    """A path to download a known file from."""
    stored = call.world.files.get(call.params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return stored.api_file()


# -- chats and members ---------------------------------------------------------------------


def chat_member(spec: ApiSpec, user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``ChatMember`` of the subtype matching ``status``."""
    if status == "creator":
        return spec.skeleton("ChatMemberOwner", status=status, user=user, is_anonymous=False)
    if status == "administrator":
        rights = {
            name: True
            for name, field in spec.fields_of("ChatMemberAdministrator").items()
            if field.required and name.startswith("can_") and name != "can_be_edited"
        }
        rights["can_send_welcome_messages"] = True
        return spec.skeleton(
            "ChatMemberAdministrator",
            status=status,
            user=user,
            can_be_edited=False,
            is_anonymous=False,
            **rights,
        )
    if status == "restricted":
        return spec.skeleton(
            "ChatMemberRestricted", status=status, user=user, is_member=True, until_date=0
        )
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    return {"status": status, "user": user}


def _member_status(world: World, chat: ChatState, user_id: int) -> str:
    if user_id == world.bot_id:
        return "member" if chat.is_private else chat.bot_status
    if chat.is_private:
        return "member" if user_id == chat.id else "left"
    return chat.members.get(user_id, "left")


@handles("getChat")
def get_chat(call: Call) -> dict[str, Any]:
    """Full chat information."""
    chat = call.target
    gifts = call.spec.skeleton("AcceptedGiftTypes")
    return call.spec.skeleton(
        "ChatFullInfo",
        **chat.chat,
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types=gifts,
    )


@handles("getChatMember")
def get_chat_member(call: Call) -> dict[str, Any]:
    """A member's standing; users the sandbox never met are not found."""
    world = call.world
    user_id = call.params["user_id"]
    user = world.user_data(user_id)
    if user is None:
        raise bad_request("user not found", violation=False)
    return chat_member(call.spec, user, _member_status(world, call.target, user_id))


@handles("getChatAdministrators")
def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    """Creator and administrators, the bot included when it is one."""
    world = call.world
    chat = call.target
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    admins = []
    for user_id, status in chat.members.items():
        user = world.user_data(user_id)
        if status in ADMIN_STATUSES and user is not None:
            admins.append(chat_member(call.spec, user, status))
    if chat.bot_status in ADMIN_STATUSES:
        admins.append(chat_member(call.spec, world.bot_user(), chat.bot_status))
    return admins


@handles("getChatMemberCount")
def get_chat_member_count(call: Call) -> int:
    """Members present now, the bot included."""
    chat = call.target
    if chat.is_private:
        return 2
    people = sum(1 for status in chat.members.values() if status in ACTIVE_STATUSES)
    return people + (1 if chat.bot_status in ACTIVE_STATUSES else 0)


@handles("leaveChat")
def leave_chat(call: Call) -> bool:
    """The bot leaves a group; Telegram reports that as a my_chat_member update."""
    world = call.world
    chat = call.target
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    old = chat_member(call.spec, world.bot_user(), chat.bot_status)
    chat.bot_status = "left"
    world.updates.push(
        "my_chat_member",
        {
            "chat": chat.chat,
            "from": world.bot_user(),
            "date": now_epoch(),
            "old_chat_member": old,
            "new_chat_member": chat_member(call.spec, world.bot_user(), "left"),
        },
    )
    return True


def _require_admin(chat: ChatState, action: str) -> None:
    if chat.is_private:
        raise bad_request(f"can't {action} in private chats")
    if not chat.bot_is_admin():
        raise bad_request(f"not enough rights to {action}")


@handles("banChatMember")
def ban_chat_member(call: Call) -> bool:
    """Remove a user and keep them out."""
    chat = call.target
    _require_admin(chat, "restrict/ban chat members")
    user_id = call.params["user_id"]
    if chat.members.get(user_id) == "creator":
        raise bad_request("can't remove chat owner")
    chat.members[user_id] = "kicked"
    return True


@handles("unbanChatMember")
def unban_chat_member(call: Call) -> bool:
    """Let a banned user back in; without only_if_banned a member is removed too."""
    chat = call.target
    _require_admin(chat, "restrict/ban chat members")
    user_id = call.params["user_id"]
    status = chat.members.get(user_id, "left")
    if status == "creator":
        raise bad_request("can't remove chat owner")
    if status == "kicked" or not call.params.get("only_if_banned"):
        chat.members[user_id] = "left"
    return True


# -- invite links and join requests --------------------------------------------------------


def _check_link_options(call: Call) -> None:
    params = call.params
    if params.get("creates_join_request") and "member_limit" in params:
        raise bad_request(
            "member limit can't be specified for links requiring administrator approval"
        )
    expire = params.get("expire_date")
    if expire is not None and expire != 0 and expire <= now_epoch():
        raise bad_request("EXPIRE_DATE_INVALID")


@handles("createChatInviteLink")
def create_chat_invite_link(call: Call) -> dict[str, Any]:
    """A new additional invite link."""
    chat = call.target
    _require_admin(chat, "manage chat invite links")
    _check_link_options(call)
    params = call.params
    link: dict[str, Any] = {
        "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
        "creator": call.world.bot_user(),
        "creates_join_request": bool(params.get("creates_join_request", False)),
        "is_primary": False,
        "is_revoked": False,
    }
    for key in ("name", "expire_date", "member_limit"):
        if params.get(key):
            link[key] = params[key]
    chat.invite_links[link["invite_link"]] = link
    return link


@handles("editChatInviteLink")
def edit_chat_invite_link(call: Call) -> dict[str, Any]:
    """Change an existing link's options."""
    chat = call.target
    _require_admin(chat, "manage chat invite links")
    _check_link_options(call)
    link = chat.invite_links.get(call.params["invite_link"])
    if link is None:
        raise bad_request("INVITE_HASH_INVALID")
    for key in ("name", "expire_date", "member_limit", "creates_join_request"):
        if key in call.params:
            link[key] = call.params[key]
    return link


@handles("revokeChatInviteLink")
def revoke_chat_invite_link(call: Call) -> dict[str, Any]:
    """Revoke a link created by the bot."""
    chat = call.target
    _require_admin(chat, "manage chat invite links")
    link = chat.invite_links.get(call.params["invite_link"])
    if link is None:
        raise bad_request("INVITE_HASH_INVALID")
    link["is_revoked"] = True
    return link


@handles("exportChatInviteLink")
def export_chat_invite_link(call: Call) -> str:
    """A new primary link; the previous primary link stops working."""
    chat = call.target
    _require_admin(chat, "manage chat invite links")
    if chat.primary_link is not None:
        chat.invite_links[chat.primary_link]["is_revoked"] = True
    url = f"https://t.me/+{secrets.token_urlsafe(12)}"
    chat.primary_link = url
    chat.invite_links[url] = {
        "invite_link": url,
        "creator": call.world.bot_user(),
        "creates_join_request": False,
        "is_primary": True,
        "is_revoked": False,
    }
    return url


def admit(world: World, spec: ApiSpec, chat: ChatState, user_id: int) -> None:
    """A user joins a group: a chat_member update and a new_chat_members service message."""
    user = world.user_data(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}
    old_status = chat.members.get(user_id, "left")
    chat.members[user_id] = "member"
    world.updates.push(
        "chat_member",
        {
            "chat": chat.chat,
            "from": user,
            "date": now_epoch(),
            "old_chat_member": chat_member(spec, user, old_status),
            "new_chat_member": chat_member(spec, user, "member"),
        },
    )
    stored = world.add_message(chat, user, {"new_chat_members": [user]}, from_bot=False)
    world.updates.push("message", stored.message)


def _join_request(call: Call) -> tuple[ChatState, int]:
    chat = call.target
    _require_admin(chat, "manage join requests")
    user_id = call.params["user_id"]
    if user_id not in chat.join_requests:
        raise bad_request("HIDE_REQUESTER_MISSING")
    chat.join_requests.discard(user_id)
    return chat, user_id


@handles("approveChatJoinRequest")
def approve_chat_join_request(call: Call) -> bool:
    """The requester becomes a member."""
    chat, user_id = _join_request(call)
    admit(call.world, call.spec, chat, user_id)
    return True


@handles("declineChatJoinRequest")
def decline_chat_join_request(call: Call) -> bool:
    """The request is dropped."""
    _join_request(call)
    return True
