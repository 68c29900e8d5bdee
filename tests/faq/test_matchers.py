"""The application's kept matchers: built once per programme, built again when its FAQ changes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.services.faq import library
from bot.services.faq.asking import Matchers
from tests.faq.import_support import FAQ_YAML, PROGRAMME, make_programme


async def test_a_matcher_is_kept_until_the_faq_is_imported_again(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    text = FAQ_YAML.read_bytes()
    assert (await library.import_faq(session, PROGRAMME, text, "faq.yaml", clock.now())).ok
    matchers = Matchers()
    first = await matchers.of(session, programme_id)
    assert await matchers.of(session, programme_id) is first

    clock.advance(timedelta(minutes=5))
    changed = text.replace(b"How do I join the online sessions on ClassIn?", b"How to join?")
    assert (await library.import_faq(session, PROGRAMME, changed, "faq.yaml", clock.now())).ok
    again = await matchers.of(session, programme_id)
    assert again is not first
    verdict = await matchers.ask(session, programme_id, "how to join", "en")
    assert verdict.matches[0].id == "join-classin"
