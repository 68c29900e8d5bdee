"""What can go wrong with an announcement; each error means nothing was changed."""

from __future__ import annotations

from collections.abc import Iterable


class AnnouncementError(Exception):
    """Something about the announcement is wrong; nothing was changed."""


class EmptyAudience(AnnouncementError):
    """Nobody reachable matches the audience."""


class InvalidContent(AnnouncementError):
    """The content is missing, too long, or its HTML is not what Telegram accepts."""


class TimeInPast(AnnouncementError):
    """The requested sending time has already passed."""


class UnknownCohort(AnnouncementError):
    """No cohort has one of the given codes."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = sorted(codes)
        super().__init__(", ".join(self.codes))


class NotAllowed(AnnouncementError):
    """The organiser may not reach this cohort or act on this campaign."""


class CampaignNotFound(AnnouncementError):
    """No campaign has this id."""


class AlreadyFinished(AnnouncementError):
    """The campaign is done or cancelled already."""
