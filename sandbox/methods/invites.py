"""Invite links and join requests, and a user joining a group."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.methods.members import chat_member, require_admin
from sandbox.spec import ApiSpec
from sandbox.state import (
    ChatState,
    World,
    now_epoch,
)

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
    require_admin(chat, "manage chat invite links")
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
    require_admin(chat, "manage chat invite links")
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
    require_admin(chat, "manage chat invite links")
    link = chat.invite_links.get(call.params["invite_link"])
    if link is None:
        raise bad_request("INVITE_HASH_INVALID")
    link["is_revoked"] = True
    return link


@handles("exportChatInviteLink")
def export_chat_invite_link(call: Call) -> str:
    """A new primary link; the previous primary link stops working."""
    chat = call.target
    require_admin(chat, "manage chat invite links")
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
    require_admin(chat, "manage join requests")
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
