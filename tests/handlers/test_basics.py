"""/start, /help, /language, /settings, unknown input and stale buttons, fed to the Dispatcher."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import User
from tests.support.recording import RecordingSession, button_press, private_message
from tests.support.settings import ADMIN_ID

TRAINEE = 5550001


async def test_start_greets_in_telegram_language_and_remembers_the_person(
    feed, recorder: RecordingSession, session: AsyncSession
) -> None:
    await feed(private_message(TRAINEE, "/start", language_code="ru", first_name="Айгерим"))
    [text] = recorder.sent_texts(TRAINEE)
    assert "Айгерим" in text
    assert "/help" in text
    assert "Welcome" not in text  # spoken in Russian, not English
    user = await session.get(User, TRAINEE)
    assert user is not None
    assert user.language_code == "ru"
    assert user.locale is None  # a hint from Telegram is not a choice


async def test_start_falls_back_to_english_for_unsupported_language(
    feed, recorder: RecordingSession
) -> None:
    await feed(private_message(TRAINEE, "/start", language_code="pt-br"))
    assert recorder.sent_texts(TRAINEE)[0].startswith("Welcome")


async def test_help_lists_admin_commands_only_for_admins(feed, recorder: RecordingSession) -> None:
    await feed(private_message(TRAINEE, "/help"))
    await feed(private_message(ADMIN_ID, "/help"))
    trainee_help = recorder.sent_texts(TRAINEE)[0]
    admin_help = recorder.sent_texts(ADMIN_ID)[0]
    assert "/timezone" in trainee_help
    assert "/status" not in trainee_help
    assert "/status" in admin_help


async def test_language_choice_is_stored_and_used(
    feed, recorder: RecordingSession, session: AsyncSession
) -> None:
    await feed(private_message(TRAINEE, "/language"))
    [ask] = recorder.of_type(SendMessage)
    buttons = [b for row in ask.reply_markup.inline_keyboard for b in row]
    assert [b.text.lstrip("✓ ") for b in buttons] == [
        "English",
        "中文",
        "Русский",
        "Français",
        "Español",
        "العربية",
    ]
    assert all(len(b.callback_data.encode()) <= 64 for b in buttons)
    recorder.clear()
    await feed(button_press(TRAINEE, "lang:fr"))
    assert "français" in recorder.sent_texts(TRAINEE)[0].lower()
    user = await session.get(User, TRAINEE)
    assert user is not None
    assert user.locale == "fr"
    recorder.clear()
    await feed(private_message(TRAINEE, "/help", language_code="en"))
    assert "Voici" in recorder.sent_texts(TRAINEE)[0]


async def test_forged_language_button_changes_nothing(
    feed, recorder: RecordingSession, session: AsyncSession
) -> None:
    await feed(private_message(TRAINEE, "/start"))
    recorder.clear()
    await feed(button_press(TRAINEE, "lang:xx"))
    [answer] = recorder.of_type(AnswerCallbackQuery)
    assert answer.text == "This button is no longer active."
    user = await session.get(User, TRAINEE)
    assert user is not None
    assert user.locale is None


async def test_garbage_callback_is_answered_harmlessly(feed, recorder: RecordingSession) -> None:
    await feed(button_press(TRAINEE, "tzok:Not/AZone"))
    await feed(button_press(TRAINEE, "\x00garbage"))
    answers = recorder.of_type(AnswerCallbackQuery)
    assert len(answers) == 2
    assert recorder.of_type(SendMessage) == []


async def test_unknown_command_and_stray_text_get_a_hint(feed, recorder: RecordingSession) -> None:
    await feed(private_message(TRAINEE, "/frobnicate now"))
    await feed(private_message(TRAINEE, "hello?"))
    unknown, stray = recorder.sent_texts(TRAINEE)
    assert "/frobnicate" in unknown
    assert "/help" in unknown
    assert "/help" in stray


async def test_admin_command_refused_for_a_trainee(feed, recorder: RecordingSession) -> None:
    await feed(private_message(TRAINEE, "/status"))
    [text] = recorder.sent_texts(TRAINEE)
    assert "only for the programme's organisers" in text
    await feed(private_message(ADMIN_ID, "/status"))
    assert "Bot status" in recorder.sent_texts(ADMIN_ID)[0]


async def test_settings_shows_language_and_missing_time_zone(
    feed, recorder: RecordingSession
) -> None:
    await feed(private_message(TRAINEE, "/settings", language_code="es"))
    [text] = recorder.sent_texts(TRAINEE)
    assert "Español" in text
