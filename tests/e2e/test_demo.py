"""The terminal demo, driven as a newcomer would: typed lines, numbered buttons, Ctrl-D."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_chat_in_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env["LOG_LEVEL"] = "WARNING"
    typed = "/start\n2\nKampala\n1\n/settings\n9\n:help\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--database", str(tmp_path / "demo.db")],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Welcome, Amina!" in out
    assert "[2] 🕒 Time zone" in out
    assert "Kampala (Uganda)" in out
    assert "Saved: Kampala (Uganda)" in out
    assert "Time zone: Africa/Kampala" in out
    assert "(there is no button 9)" in out
    assert "Demo commands:" in out
    assert out.rstrip().endswith("Demo ended.")
    assert "Traceback" not in result.stderr
