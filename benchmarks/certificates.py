"""Rendering certificates: 500 PDFs, names in six scripts (Latin with accents, Vietnamese,
Cyrillic, Arabic, Chinese), on two worker processes, each rendering its half as one batch
(``render_many``: the fonts parsed once in each, the CJK faces cut down once to the batch's
characters).

Prints the wall time and the peak memory: ``ru_maxrss`` of this process and the largest of
its worker processes (``RUSAGE_CHILDREN``, read once the workers have exited), in MB.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime

COUNT = 500
WORKERS = 2
NAMES = (
    "Françoise Lefèvre-Hébert",
    "José Ñúñez Peña",
    "Nguyễn Thị Ánh",
    "Иван Петрович Сидоров",
    "محمد عبد الله",
    "王小明",
)


def _render_batch(indices: list[int]) -> int:
    from bot.db.certificates import Certificate
    from bot.services.certificates.issuing import content_of
    from bot.services.certificates.render import render_many

    contents = []
    for index in indices:
        certificate = Certificate(
            code=f"{index:010d}",
            holder_name=f"{NAMES[index % len(NAMES)]} {index}",
            programme_title="Seminar on Digital Trade",
            starts_on=date(2027, 3, 8),
            ends_on=date(2027, 4, 2),
            hours=40.0,
            language="en",
            issued_at=datetime(2027, 4, 3, tzinfo=UTC),
        )
        contents.append(content_of(certificate, "Seminar on Digital Trade", "Base", "bot"))
    return sum(len(pdf) for pdf in render_many(contents))


async def main() -> None:
    loop = asyncio.get_running_loop()
    batches = [list(range(w, COUNT, WORKERS)) for w in range(WORKERS)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        sizes = await asyncio.gather(
            *(loop.run_in_executor(pool, _render_batch, batch) for batch in batches)
        )
    elapsed = time.perf_counter() - started
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"certificates: {COUNT} rendered in {elapsed:.1f} s on {WORKERS} processes "
        f"({os.cpu_count()} cores), {sum(sizes) / COUNT / 1024:.0f} KB each; peak memory "
        f"{worker_mb:.0f} MB per worker, {own_mb:.0f} MB this process"
    )


if __name__ == "__main__":
    asyncio.run(main())
