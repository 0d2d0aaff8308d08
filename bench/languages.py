"""What speaking many languages costs: loading the catalogs, and rendering for a reader.

    python -m bench.languages [--repeat 5]

In one process: the memory and time it takes to load each catalog the first time a reader
of its language gets a message, then every sentence of the template rendered for an English
reader and for a reader of each other language, side by side, with the ratio to English.
The round trip with a German-speaking program is in ``bench.roundtrip``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import string
import time
from pathlib import Path

from babel.messages.pofile import read_po

from commands.languages import DOMAIN, LOCALE_DIR, SOURCE, SPOKEN, catalog
from commands.text import bold
from commands.words import t, tn, written

FIELDS = string.Formatter()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sentences() -> list:
    """Every sentence of the template as the code says it, its placeholders filled."""
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as f:
        template = read_po(f)
    out = []
    for message in template:
        if not message.id or message.context:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        names = {name for i in ids for _, name, _, _ in FIELDS.parse(i) if name}
        parts = {name: bold(name) for name in names - ({"n"} if len(ids) > 1 else set())}
        if len(ids) == 1:
            out.append(t(ids[0], **parts))
        else:
            out.append(tn(ids[0], ids[1], 3, **parts))
    return out


def main(repeat: int = 5) -> dict:
    gc.collect()
    base = rss_mb()
    print(f"RSS before any catalog: {base:.1f} MB")
    loads = {}
    for language in SPOKEN:
        started = time.perf_counter()
        catalog(language)
        loads[language] = time.perf_counter() - started
    loaded = rss_mb()
    print("first load of each catalog: " + ", ".join(f"{lang} {secs * 1000:.1f} ms" for lang, secs in loads.items()))
    print(f"RSS with all {len(SPOKEN)} catalogs loaded: {loaded:.1f} MB (+{loaded - base:.1f} MB)")

    messages = sentences()
    from datetime import datetime, timezone

    when = written(datetime(2027, 3, 16, 15, 0, tzinfo=timezone.utc), None, "weekday moment")
    timing: dict[str, float] = {}
    for language in SPOKEN:  # warm: Babel's locale data, each language once
        for m in messages[:50]:
            m.plain(language)
        when.plain(language)
    for _ in range(repeat):
        for language in SPOKEN:
            started = time.perf_counter()
            for m in messages:
                m.plain(language)
                m.html(language)
            when.plain(language)
            elapsed = (time.perf_counter() - started) / (len(messages) + 1)
            timing[language] = min(timing.get(language, float("inf")), elapsed)
    print(f"\nRendering each of {len(messages)} sentences as plain text and HTML (best of {repeat}):")
    for language in SPOKEN:
        ratio = timing[language] / timing[SOURCE]
        print(f"  {language}: {timing[language] * 1e6:6.1f} µs a sentence, {ratio:.2f}x English")
    return {"sentences": len(messages), "timing": timing, "rss": (base, loaded), "loads": loads}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)
