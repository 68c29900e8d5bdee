"""Bot API methods the sandbox answers with realistic results, one module per group.

Importing the package registers every method's implementation in ``HANDLERS``.
"""

from sandbox.methods import (
    callbacks,
    editing,
    files,
    forum,
    invites,
    members,
    polls,
    profile,
    sending,
)
from sandbox.methods.base import HANDLERS, SEND_METHODS, UNCOUNTED, Call, Handler, handles
from sandbox.methods.invites import admit
from sandbox.methods.members import chat_member

__all__ = [
    "HANDLERS",
    "SEND_METHODS",
    "UNCOUNTED",
    "Call",
    "Handler",
    "admit",
    "callbacks",
    "chat_member",
    "editing",
    "files",
    "forum",
    "handles",
    "invites",
    "members",
    "polls",
    "profile",
    "sending",
]
