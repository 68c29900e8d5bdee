"""Answers to callback queries (pressed inline buttons)."""

from __future__ import annotations

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles


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
