"""FAQ matching: accuracy on our own trainee questions, speed with 500 entries, the event loop.

1. ``benchmarks/data/faq_questions.yaml`` against ``examples/faq.yaml``: top-1 and top-3
   accuracy per language and per kind (plain, cross-lingual), and the off-topic questions'
   escalation rate, for the tune and the test half separately. The thresholds in
   ``bot.services.faq.matching`` (CONFIDENT, SUGGEST) were chosen on the tune half only; the
   test half is reported as it comes. A right answer counts for top-1 only when it is not
   escalated; an off-topic question counts only when escalated.
2. 500 entries (the 15 real ones and synthetic ones made of the same words shuffled): p50 and
   p99 time per question over the whole set, index build time, peak Python memory
   (tracemalloc) of building and asking, and peak RSS.
3. 50 questions at once through ``asyncio.to_thread``, as the bot asks them: the event loop's
   worst lag meanwhile (a ticker that should wake every millisecond); then the same through a
   one-thread executor, which leaves the loop more of the GIL.
"""

from __future__ import annotations

import asyncio
import random
import time
import tracemalloc
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import peak_rss_mb, percentile
from bot.services.faq.matching import CONFIDENT, SUGGEST, EntryText, Matcher, entries_from_faq

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "examples" / "faq.yaml"
QUESTIONS = ROOT / "benchmarks" / "data" / "faq_questions.yaml"
ENTRIES = 500


def load() -> tuple[list[EntryText], list[dict[str, Any]]]:
    entries = entries_from_faq(yaml.safe_load(FAQ.read_text(encoding="utf-8")))
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    by_id = {entry.id: entry for entry in entries}
    for q in questions:
        if q["kind"] == "cross-lingual" and q["lang"] in by_id[q["id"]].questions:
            raise ValueError(f"not cross-lingual: {q}")
        if q["kind"] == "plain" and q["lang"] not in by_id[q["id"]].questions:
            raise ValueError(f"cross-lingual, marked plain: {q}")
    return entries, questions


def synthetic(entries: list[EntryText], count: int) -> list[EntryText]:
    """``count`` made-up entries whose texts mix the real ones' words."""
    rng = random.Random(12)
    made: list[EntryText] = []
    for n in range(count):
        base = entries[n % len(entries)]
        questions = {}
        answers = {}
        for lang, text in base.questions.items():
            words = (text + " " + base.answers[lang]).split()
            rng.shuffle(words)
            questions[lang] = " ".join(words[:8]) + f" topic{n}"
            answers[lang] = " ".join(words[8:40])
        made.append(EntryText(f"synthetic-{n}", base.category, questions, answers))
    return made


def evaluate(matcher: Matcher, questions: list[dict[str, Any]], split: str) -> None:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    escalated = [0, 0]
    for q in (q for q in questions if q["split"] == split):
        verdict = matcher.ask(q["q"], q["lang"])
        if q["kind"] == "off-topic":
            escalated[0] += verdict.escalate
            escalated[1] += 1
            continue
        ids = [m.id for m in verdict.matches]
        top1 = not verdict.escalate and ids[:1] == [q["id"]]
        top3 = q["id"] in ids
        for key in (f"{q['kind']}/{q['lang']}", q["kind"]):
            hits[key][0] += top1
            hits[key][1] += top3
            hits[key][2] += 1
    print(f"-- {split} half --")
    for key in sorted(hits, key=lambda k: ("/" not in k, k)):
        one, three, total = hits[key]
        print(f"  {key:22} top-1 {one / total:6.1%}  top-3 {three / total:6.1%}  (n={total})")
    print(f"  off-topic escalated {escalated[0]}/{escalated[1]}")


async def event_loop_lag(
    matcher: Matcher, texts: list[tuple[str, str]], pool: ThreadPoolExecutor | None = None
) -> tuple[float, float]:
    """Seconds for the asks through to_thread (or ``pool``), and the loop's worst lag."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - started - 0.001)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    if pool is None:
        await asyncio.gather(*(asyncio.to_thread(matcher.ask, q, lang) for q, lang in texts))
    else:
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(pool, matcher.ask, q, lang) for q, lang in texts)
        )
    took = time.perf_counter() - started
    done.set()
    await tick
    return took, worst


async def main() -> None:
    entries, questions = load()
    print(f"thresholds: CONFIDENT={CONFIDENT} SUGGEST={SUGGEST} ({len(questions)} questions)")
    matcher = Matcher(entries)
    for split in ("tune", "test"):
        evaluate(matcher, questions, split)

    tracemalloc.start()
    started = time.perf_counter()
    big = Matcher(entries + synthetic(entries, ENTRIES - len(entries)))
    built = time.perf_counter() - started
    times: list[float] = []
    for q in questions * 3:
        started = time.perf_counter()
        big.ask(q["q"], q["lang"])
        times.append(time.perf_counter() - started)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"-- {ENTRIES} entries --")
    print(f"  index built in {built:.2f} s")
    print(
        f"  per question p50 {percentile(times, 50) * 1000:.2f} ms, "
        f"p99 {percentile(times, 99) * 1000:.2f} ms, max {max(times) * 1000:.2f} ms"
    )
    print(f"  peak Python memory {peak:.1f} MB, peak RSS {peak_rss_mb():.0f} MB")
    texts = [(q["q"], q["lang"]) for q in questions[:50]]
    await event_loop_lag(big, texts)  # the default executor's threads started
    took, worst = await event_loop_lag(big, texts)
    print(f"  50 asks via to_thread in {took * 1000:.0f} ms; worst loop lag {worst * 1000:.1f} ms")
    with ThreadPoolExecutor(max_workers=1) as pool:
        took, worst = await event_loop_lag(big, texts, pool)
    print(
        f"  the same on one worker thread in {took * 1000:.0f} ms; worst lag {worst * 1000:.1f} ms"
    )
