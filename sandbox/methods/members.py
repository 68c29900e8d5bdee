"""Chats and their members: chat info, member standing, leaving, bans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.spec import ApiSpec
from sandbox.state import (
    ACTIVE_STATUSES,
    ADMIN_STATUSES,
    ChatState,
    World,
    now_epoch,
)

# -- chats and members ---------------------------------------------------------------------


def chat_member(
    spec: ApiSpec,
    user: dict[str, Any],
    status: str,
    rights: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """A ``ChatMember`` of the subtype matching ``status``; ``rights`` adjust an administrator's."""
    if status == "creator":
        return spec.skeleton("ChatMemberOwner", status=status, user=user, is_anonymous=False)
    if status == "administrator":
        granted = {
            name: True
            for name, field in spec.fields_of("ChatMemberAdministrator").items()
            if field.required and name.startswith("can_") and name != "can_be_edited"
        }
        granted["can_send_welcome_messages"] = True
        granted.update(rights or {})
        return spec.skeleton(
            "ChatMemberAdministrator",
            status=status,
            user=user,
            can_be_edited=False,
            is_anonymous=False,
            **granted,
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
    rights = call.target.bot_rights if user_id == world.bot_id else None
    return chat_member(call.spec, user, _member_status(world, call.target, user_id), rights)


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
        admins.append(chat_member(call.spec, world.bot_user(), chat.bot_status, chat.bot_rights))
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
    old = chat_member(call.spec, world.bot_user(), chat.bot_status, chat.bot_rights)
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


def require_admin(chat: ChatState, action: str) -> None:
    if chat.is_private:
        raise bad_request(f"can't {action} in private chats")
    if not chat.bot_is_admin():
        raise bad_request(f"not enough rights to {action}")


@handles("banChatMember")
def ban_chat_member(call: Call) -> bool:
    """Remove a user and keep them out."""
    chat = call.target
    require_admin(chat, "restrict/ban chat members")
    user_id = call.params["user_id"]
    if chat.members.get(user_id) == "creator":
        raise bad_request("can't remove chat owner")
    chat.members[user_id] = "kicked"
    return True


@handles("unbanChatMember")
def unban_chat_member(call: Call) -> bool:
    """Let a banned user back in; without only_if_banned a member is removed too."""
    chat = call.target
    require_admin(chat, "restrict/ban chat members")
    user_id = call.params["user_id"]
    status = chat.members.get(user_id, "left")
    if status == "creator":
        raise bad_request("can't remove chat owner")
    if status == "kicked" or not call.params.get("only_if_banned"):
        chat.members[user_id] = "left"
    return True
