"""Answers to quiz polls: recorded once each, many in one short transaction.

Telegram tells us of a vote with a ``poll_answer`` (poll id, voter, chosen options). The
sender binds a poll's id to its question when it writes down the send; the outbox writes
outcomes in batches, so an answer may come first, and the question is then the voter's one
question sent and not answered yet (each trainee has at most one at a time per quiz; the newest
wins). A vote in a poll bound to someone else (a forwarded question) counts for no one.
Answers to polls we did not send, from someone no longer enrolled, to a closed quiz, a
retracted vote and a second vote change nothing either. An answered question queues the next
one; the last one the score.

A cohort answers together (the quiz opens for everyone at once), so answers are written in
batches (:class:`VoteWriter`): each answer waits for the commit of the batch that holds it, so
nothing is reported handled before it is stored, and a batch costs a few statements whatever
its size. On SQLite, whose one writer at a time is the limit, that is what lets hundreds of
answers a second through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db
from bot.db.models import Programme, User
from bot.db.quizzes import Quiz, QuizPoll, QuizRun
from bot.db.status import EnrolmentStatus
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.markup import h
from bot.services.quizzes.library import quiz_title
from bot.services.quizzes.sending import POLL_KIND, SCORE_KIND, poll_key, poll_payload, viewer_of

log = logging.getLogger(__name__)

#: The most answers written in one transaction.
BATCH_LIMIT = 200


class Outcome(StrEnum):
    """What became of one poll answer."""

    RECORDED = "recorded"
    UNKNOWN = "unknown"  # a poll we did not send
    NOT_RECIPIENT = "not_recipient"
    NOT_ENROLLED = "not_enrolled"
    CLOSED = "closed"
    RETRACTED = "retracted"
    ALREADY = "already"


@dataclass(frozen=True, slots=True)
class Vote:
    """One ``poll_answer``: ``voter`` is the person's row when the caller has it already."""

    poll_id: str
    user_id: int
    option_ids: list[int]
    now: datetime
    voter: User | None = None


def _fraction(points: float) -> str:
    return f"{points:g}"


@dataclass(slots=True)
class _Batch:
    session: AsyncSession
    context: quiz_db.VoteContext
    runs: dict[int, tuple[QuizRun, Quiz, Programme]]
    voters: dict[int, User]
    envelopes: list[Envelope] = field(default_factory=list)

    def bind(self, poll: QuizPoll, poll_id: str) -> None:
        poll.poll_id = poll_id[:64]
        self.context.bound[poll.poll_id] = poll
        self.session.add(poll)

    def status_of(self, poll: QuizPoll) -> str | None:
        return next((s for p, s in self.context.mine.get(poll.user_id, []) if p is poll), None)


async def _read(session: AsyncSession, votes: Sequence[Vote]) -> _Batch:
    context = await quiz_db.vote_context(
        session, {v.poll_id for v in votes}, {v.user_id for v in votes}
    )
    # The runs a vote can be for: a bound poll's, or one of the voter's unanswered questions.
    run_ids = {poll.run_id for poll in context.bound.values()}
    run_ids |= {p.run_id for mine in context.mine.values() for p, _s in mine if not p.answered_at}
    runs = await quiz_db.runs_with_quizzes(session, run_ids)
    voters = {v.user_id: v.voter for v in votes if v.voter is not None and v.voter.id == v.user_id}
    missing = {v.user_id for v in votes} - set(voters)
    if missing:
        rows = await session.exec(select(User).where(col(User.id).in_(sorted(missing))))
        voters.update({user.id: user for user in rows.all()})
    return _Batch(session, context, runs, voters)


def _apply(batch: _Batch, vote: Vote) -> Outcome:
    """Decide one vote against what the batch read (and what earlier votes of it changed)."""
    poll = batch.context.bound.get(vote.poll_id)
    bind = False
    if poll is None:
        if not vote.option_ids:
            return Outcome.UNKNOWN
        waiting = [
            p
            for p, _s in batch.context.mine.get(vote.user_id, [])
            if p.poll_id is None and p.answered_at is None
        ]
        if not waiting:
            return Outcome.UNKNOWN
        # The newest question sent wins (a question sent again is queued again).
        poll, bind = max(waiting, key=lambda p: (p.queued_at, p.id or 0)), True
    elif poll.user_id != vote.user_id:
        return Outcome.NOT_RECIPIENT
    if bind:
        batch.bind(poll, vote.poll_id)
    if not vote.option_ids:
        return Outcome.RETRACTED
    if poll.answered_at is not None:
        return Outcome.ALREADY
    found = batch.runs.get(poll.run_id)
    if batch.status_of(poll) != EnrolmentStatus.ACTIVE:
        return Outcome.NOT_ENROLLED
    if found is None or vote.now >= found[0].closes_at or poll.question >= len(found[1].questions):
        return Outcome.CLOSED
    run, quiz, programme = found
    assert run.id is not None
    voter = batch.voters.get(vote.user_id)
    locale = viewer_of(
        voter.locale if voter else None, voter.language_code if voter else None, None, programme
    ).locale
    question = quiz.questions[poll.question]
    chosen = int(vote.option_ids[0])
    poll.option = chosen
    poll.correct = chosen == int(question["correct"])
    poll.points = float(question.get("points", 1)) if poll.correct else 0.0
    poll.answered_at = vote.now
    batch.session.add(poll)
    following = poll.question + 1
    if following < len(quiz.questions):
        nxt = QuizPoll(
            run_id=poll.run_id,
            quiz_id=poll.quiz_id,
            cohort_id=poll.cohort_id,
            user_id=vote.user_id,
            question=following,
            queued_at=vote.now,
        )
        batch.session.add(nxt)
        batch.context.mine[vote.user_id].append((nxt, batch.status_of(poll)))
        batch.envelopes.append(
            Envelope(
                chat_id=vote.user_id,
                user_id=vote.user_id,
                kind=POLL_KIND,
                dedupe_key=poll_key(run.id, vote.user_id, following, nxt.sends),
                due_at=vote.now,
                not_after=run.closes_at,
                payload=poll_payload(
                    quiz,
                    following,
                    locale,
                    programme.default_locale,
                    run_id=run.id,
                    user_id=vote.user_id,
                    sends=nxt.sends,
                ),
            )
        )
        return Outcome.RECORDED
    earned = sum(p.points for p, _s in batch.context.mine[vote.user_id] if p.run_id == run.id)
    total = sum(float(q.get("points", 1)) for q in quiz.questions)
    with use_locale(locale):
        text = _("✅ <b>{title}</b>: done. Your score: {points} / {total}.").format(
            title=h(quiz_title(quiz, locale, programme.default_locale)),
            points=_fraction(earned),
            total=_fraction(total),
        )
    batch.envelopes.append(
        Envelope(
            chat_id=vote.user_id,
            user_id=vote.user_id,
            kind=SCORE_KIND,
            dedupe_key=f"qz:{run.id}:{vote.user_id}:score",
            due_at=vote.now,
            payload={"text": text},
        )
    )
    return Outcome.RECORDED


async def record_answers(session: AsyncSession, votes: Sequence[Vote]) -> list[Outcome]:
    """Record ``poll_answer`` votes, in order; commits once.

    Everything is read first (two or three queries for the whole batch) and written last, in
    one short write: on SQLite a write holds the database's one write lock until the commit,
    so reads between the first write and the commit would keep every other writer waiting.
    """
    if not votes:
        return []
    with session.no_autoflush:
        batch = await _read(session, votes)
        outcomes = [_apply(batch, vote) for vote in votes]
    if batch.envelopes:
        await enqueue(session, batch.envelopes, max(v.now for v in votes))
    await session.commit()
    return outcomes


async def record_answer(
    session: AsyncSession,
    poll_id: str,
    user_id: int,
    option_ids: list[int],
    now: datetime,
    voter: User | None = None,
) -> Outcome:
    """Record one ``poll_answer``; commits."""
    outcomes = await record_answers(session, [Vote(poll_id, user_id, option_ids, now, voter)])
    return outcomes[0]


class VoteWriter:
    """Writes the votes that arrive together in one transaction (a group commit).

    :meth:`record` returns once the vote's batch is committed. While one batch is written,
    the votes arriving meanwhile gather into the next. Should a batch fail, its votes are
    written one by one, so one bad vote fails alone.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._queue: list[tuple[Vote, asyncio.Future[Outcome]]] = []
        self._task: asyncio.Task[None] | None = None

    async def record(self, vote: Vote) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((vote, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="quiz-votes")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:BATCH_LIMIT], self._queue[BATCH_LIMIT:]
            await self._write(batch)

    async def _write(self, batch: list[tuple[Vote, asyncio.Future[Outcome]]]) -> None:
        try:
            async with self._session_factory() as session:
                outcomes = await record_answers(session, [vote for vote, _f in batch])
        except Exception:
            if len(batch) == 1:
                vote, future = batch[0]
                log.exception("quiz answer of %s not recorded", vote.user_id)
                with contextlib.suppress(asyncio.InvalidStateError):
                    future.set_exception(RuntimeError("the answer could not be recorded"))
                return
            for one in batch:
                await self._write([one])
            return
        for (_vote, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def close(self) -> None:
        """Wait for the votes being written."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
