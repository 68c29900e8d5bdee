"""Certificates of completion: one per person and cohort, with what verification shows.

A certificate keeps a copy of what it says (holder's name, programme, dates, hours), so it
can be verified whatever happens to the roster later, the PDF's bytes as sent, and the
Telegram file id once sent (resending is then one cheap call). Its code is random (see
:mod:`bot.services.certificates.codes`). When the holder asks to be forgotten only what
verification needs stays: the link to the person (``user_id``), the cohort link, the PDF,
the file id and the language go.

``certificate_lookups`` counts verification look-ups per Telegram user, so the limit on
trying codes holds across restarts; rows older than the window are deleted as new ones come.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, LargeBinary, UniqueConstraint, delete, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import utcnow
from bot.db.types import UTCDateTime


class CertificateStatus(StrEnum):
    """Whether a certificate still stands."""

    VALID = "valid"
    REVOKED = "revoked"


class Certificate(SQLModel, table=True):
    """A certificate of completion of one cohort, issued to one person."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("user_id", "cohort_id", name="uq_certificate_user_cohort"),)

    id: int | None = Field(default=None, primary_key=True)
    #: Ten characters of Crockford's base32, stored without the dash, upper case.
    code: str = Field(max_length=16, unique=True, index=True)
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    cohort_id: int | None = Field(
        default=None, foreign_key="cohorts.id", index=True, ondelete="SET NULL"
    )
    holder_name: str = Field(max_length=512)
    programme_title: str = Field(max_length=512)
    starts_on: date | None = None
    ends_on: date | None = None
    hours: float = 0.0
    language: str | None = Field(default=None, max_length=8)
    #: Why it was issued although the rule was not met (the completion verdict's exception).
    exception: str | None = Field(default=None, max_length=512)
    status: str = Field(default=CertificateStatus.VALID, max_length=16)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoke_reason: str | None = Field(default=None, max_length=512)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: Bumped on each re-issue (part of the delivery's dedupe key).
    version: int = 1
    pdf: bytes | None = Field(default=None, sa_type=LargeBinary)
    file_name: str | None = Field(default=None, max_length=128)
    file_id: str | None = Field(default=None, max_length=256)


class CertificateLookup(SQLModel, table=True):
    """One verification look-up by a Telegram user (for the rate limit)."""

    __tablename__ = "certificate_lookups"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=BigInteger, index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


async def by_code(session: AsyncSession, code: str) -> Certificate | None:
    result = await session.exec(select(Certificate).where(Certificate.code == code))
    return result.first()


async def by_id(session: AsyncSession, certificate_id: int) -> Certificate | None:
    return await session.get(Certificate, certificate_id)


async def of_cohort(session: AsyncSession, cohort_id: int) -> dict[int, Certificate]:
    """The cohort's certificates by holder."""
    result = await session.exec(select(Certificate).where(Certificate.cohort_id == cohort_id))
    return {row.user_id: row for row in result.all() if row.user_id is not None}


async def of_user(session: AsyncSession, user_id: int) -> Sequence[Certificate]:
    """A person's certificates, newest first."""
    result = await session.exec(
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(col(Certificate.issued_at).desc(), col(Certificate.id).desc())
    )
    return result.all()


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await by_code(session, code) is not None


async def set_file_id(session: AsyncSession, certificate_id: int, file_id: str) -> None:
    await session.exec(
        update(Certificate).where(col(Certificate.id) == certificate_id).values(file_id=file_id)
    )


async def count_lookups(session: AsyncSession, user_id: int, since: datetime) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(CertificateLookup)
        .where(CertificateLookup.user_id == user_id, col(CertificateLookup.at) >= since)
    )
    return int(result.one())


async def add_lookup(
    session: AsyncSession, user_id: int, at: datetime, forget_before: datetime
) -> None:
    """Count one look-up, and forget look-ups older than ``forget_before``."""
    await session.exec(delete(CertificateLookup).where(col(CertificateLookup.at) < forget_before))
    session.add(CertificateLookup(user_id=user_id, at=at))
    await session.flush()


async def erase_user(
    session: AsyncSession, user_id: int, cohort_ids: Collection[int] | None = None
) -> int:
    """Keep of a person's certificates (of ``cohort_ids``, else all) only what verification
    shows; with all, forget their look-ups too. Returns how many certificates were stripped.
    """
    where = [col(Certificate.user_id) == user_id]
    if cohort_ids is None:
        await session.exec(
            delete(CertificateLookup).where(col(CertificateLookup.user_id) == user_id)
        )
    else:
        where.append(col(Certificate.cohort_id).in_(list(cohort_ids)))
    result = await session.exec(
        update(Certificate)
        .where(*where)
        .values(
            user_id=None,
            cohort_id=None,
            language=None,
            exception=None,
            pdf=None,
            file_name=None,
            file_id=None,
        )
    )
    return int(result.rowcount or 0)
