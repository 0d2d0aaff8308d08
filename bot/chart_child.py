"""Draws one chart as a PNG image, in a process of its own.

``python -m bot.chart_child`` reads what to draw on stdin (JSON: ``title``, ``months``, a
label each, and ``series``, each a ``label`` and one number a month) and writes the PNG image
on stdout. Only this module imports the plotting library (matplotlib, with its
non-interactive Agg backend): loaded, it holds tens of megabytes for good, and the bot
draws a chart once a month or when the council asks. The process ends when the image is
written, and its memory goes with it (see ``bot.charts``).
"""

from __future__ import annotations

import io
import json
import sys

WIDTH, HEIGHT, DPI = 10.0, 5.6, 100  # inches, and dots an inch: a 1000 x 560 image
# Told apart by shape too, not by colour alone.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINES = ("-", "--", "-.", ":")


def read_spec(raw: bytes) -> dict:
    """What to draw, checked: every series has a number for every month."""
    spec = json.loads(raw)
    months = [str(m) for m in spec["months"]]
    series = [{"label": str(s["label"]), "values": [float(v) for v in s["values"]]} for s in spec["series"]]
    if not months or any(len(s["values"]) != len(months) for s in series):
        raise ValueError("each series needs one number for each month")
    return {"title": str(spec.get("title", "")), "months": months, "series": series}


def draw(spec: dict) -> bytes:
    """The chart as a PNG image."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit
    from matplotlib.figure import Figure  # not pyplot: no global state to keep
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    x = list(range(len(spec["months"])))
    for index, series in enumerate(spec["series"]):
        axes.plot(x, series["values"], label=series["label"], marker=MARKERS[index % len(MARKERS)],
                  linestyle=LINES[index // len(MARKERS) % len(LINES)],
                  linewidth=1.8, markersize=5)
    axes.set_xticks(x, spec["months"], rotation=35, ha="right")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.set_title(spec["title"])
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def main() -> int:
    try:
        spec = read_spec(sys.stdin.buffer.read())
    except (ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the chart: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(draw(spec))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
