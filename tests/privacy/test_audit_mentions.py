"""Erasing a person empties their name from audit rows about someone else too."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import audit
from bot.db import erasure as erasure_db
from bot.db.models import RosterEntry
from tests.timetable.support import make_cohort

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_a_replacement_loses_the_new_persons_name_and_keeps_the_old_ones(
    session: AsyncSession,
) -> None:
    cohort = await make_cohort(session, "A-ROSTER")
    assert cohort.id is not None
    old = RosterEntry(cohort_id=cohort.id, full_name="Dilshod Rakhimov", personal_code="old1")
    new = RosterEntry(cohort_id=cohort.id, full_name="Ana Silva", personal_code="new1")
    session.add_all([old, new])
    await session.flush()
    assert old.id is not None
    assert new.id is not None
    replaced = await audit.record(
        session,
        action="replace",
        interface="cli",
        now=NOW,
        cohort_id=cohort.id,
        roster_entry_id=old.id,
        details={"name": "Dilshod Rakhimov", "replaced_by": "Ana Silva"},
    )
    moved = await audit.record(
        session,
        action="move",
        interface="telegram",
        now=NOW,
        cohort_id=cohort.id,
        roster_entry_id=new.id,
        details={"name": "Ana Silva", "from": "A-ROSTER", "to": "B-ROSTER"},
    )
    await session.commit()

    about = await erasure_db.forget_in_audit(
        session, user_id=None, roster_entry_ids=[new.id], needles=["Ana Silva", "new1"]
    )
    await session.commit()

    assert about == 1
    await session.refresh(replaced)
    await session.refresh(moved)
    # The row about Dilshod stays his; only the mention of Ana goes.
    assert replaced.details == {"name": "Dilshod Rakhimov", "replaced_by": "—"}
    assert replaced.roster_entry_id == old.id
    # The row about Ana keeps what was done, not whom.
    assert moved.details == {"name": "—", "from": "A-ROSTER", "to": "B-ROSTER"}
    assert moved.roster_entry_id is None
