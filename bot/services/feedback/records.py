"""A trainee's feedback in ``/mydata``, and what ``/forgetme`` leaves of it.

``/forgetme`` keeps the cohort's figures right: a response stays with its ratings and choices
but without the person or their typed words, a request stays (for the response rate) without
the person, unanswered ones are cancelled, and their queued forms and nudges are dropped.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import outbox as outbox_db
from bot.services.feedback.planning import keys_prefix


async def data_of_user(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """The person's forms (when sent, status) and the answers they gave under their name."""
    forms: dict[int, str] = {}

    async def key_of(form_id: int) -> str:
        if form_id not in forms:
            form = await feedback_db.get_form(session, form_id)
            forms[form_id] = form.key if form is not None else str(form_id)
        return forms[form_id]

    requests = [
        {
            "form": await key_of(request.form_id),
            "session_id": request.session_id,
            "status": request.status,
            "opens_at": request.opens_at.isoformat(),
            "closes_at": request.closes_at.isoformat(),
            "nudges_sent": request.nudges_sent,
            "answers_in_progress": dict(request.draft),
        }
        for request in await feedback_db.requests_of_user(session, user_id)
    ]
    responses = [
        {
            "form": await key_of(response.form_id),
            "session_id": response.session_id,
            "answers": dict(response.answers),
            "submitted_at": response.submitted_at.isoformat(),
        }
        for response in await feedback_db.responses_of_user(session, user_id)
    ]
    return {"forms": requests, "answers": responses}


async def forget_user(session: AsyncSession, user_id: int) -> None:
    """Erase the person from feedback (see the module's docstring); flushes only."""
    for request in await feedback_db.requests_of_user(session, user_id):
        if request.id is not None:
            await outbox_db.cancel_pending(session, key_prefix=keys_prefix(request.id))
    await feedback_db.erase_user(session, user_id)
