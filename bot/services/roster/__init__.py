"""Rosters: reading the file organisers send, and applying it to a cohort."""

from bot.services.personal_links import new_code, personal_link
from bot.services.roster.columns import Column, RosterError, RosterParseResult, RosterRow
from bot.services.roster.importing import (
    MESSAGE_LIMIT,
    RosterImport,
    RosterOutcome,
    apply_roster,
    bot_username,
    describe_errors,
    describe_result,
    import_roster,
    links_file,
    roster_export,
    table_bytes,
)
from bot.services.roster.reading import MAX_FILE_BYTES, parse_roster
from bot.services.spreadsheets import neutralise

__all__ = [
    "MAX_FILE_BYTES",
    "MESSAGE_LIMIT",
    "Column",
    "RosterError",
    "RosterImport",
    "RosterOutcome",
    "RosterParseResult",
    "RosterRow",
    "apply_roster",
    "bot_username",
    "describe_errors",
    "describe_result",
    "import_roster",
    "links_file",
    "neutralise",
    "new_code",
    "parse_roster",
    "personal_link",
    "roster_export",
    "table_bytes",
]
