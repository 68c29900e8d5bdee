"""The bot itself: getMe, the session and webhook, commands, descriptions, names, menu buttons."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles

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
    if not url.startswith("https://") and not (world.loopback_webhooks and _loopback(url)):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.params.get("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    connections = call.params.get("max_connections", 40)
    if not 1 <= int(connections) <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    world.webhook = {"url": url, "max_connections": int(connections), "secret_token": secret}
    return True


#: What Telegram accepts as a webhook's secret token.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _loopback(url: str) -> bool:
    """An http:// URL on this machine (the sandbox may push there; Telegram never would)."""
    host = urlsplit(url).hostname or ""
    return url.startswith("http://") and host in {"127.0.0.1", "localhost", "::1"}


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
