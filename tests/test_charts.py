"""The council's chart: the program month by month over twelve months, drawn as a PNG image
in a child process, with the same figures as text.

The program here (Europe/Berlin): Bob takes Ana in January 2027; Eve's request in February
waits, escalates, and the council gives her Dana in March; Eve ends it in August. Meetings:
Ana's orientation (January), her follow-up (February), Eve's orientation (March), a check-in
with Ana in June, and a session Bob records with Ana in October.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlmodel import select

from bot.charts import PNG_SIGNATURE, ChildProcessCharts, png_size
from commands.framework import RoomKind
from commands.services import rules
from storage.models import CheckIn
from tests.conftest import COUNCIL

ANA, BOB, DANA, EVE = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@eve:example.org"
MONTHS = ["Jan 2027", "Feb 2027", "Mar 2027", "Apr 2027", "May 2027", "Jun 2027", "Jul 2027", "Aug 2027",
          "Sep 2027", "Oct 2027", "Nov 2027", "Dec 2027"]
LABELS = {"Requests opened": "requests_opened", "Requests matched": "requests_matched",
          "Requests escalated": "requests_escalated", "Active mentorships": "mentorships_active",
          "Relationships overdue": "relationships_overdue", "Check-ins held": "checkins_held",
          "Coaching sessions held": "coaching_held"}
# What the scenario below makes, month by month (January to December 2027). Overdue is judged at
# each month's end with the first-year rule (a meeting every 3 months): Ana last met on 10 February
# (due 10 May: May), then on 15 June (due 15 September: September), then on 20 October; Eve last met
# on 10 March (due 10 June: June and July) and ended in August.
EXPECTED = {
    "requests_opened":       [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "requests_matched":      [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "requests_escalated":    [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "mentorships_active":    [1, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1],
    "relationships_overdue": [0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0],
    "checkins_held":         [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    "coaching_held":         [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],  # Ana's session with Dana, not a check-in held
}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


async def at(bot, when: datetime) -> None:
    """Move the clock to ``when``, doing what comes due on the way."""
    await bot.runtime.advance_to(when, bot.clock)


async def ok(bot, sender: str, text: str, room: RoomKind = RoomKind.DM) -> str:
    result = await bot.send(sender, text, room)
    assert result.outcome == "ok", (result.outcome, [m.msg.plain() for m in result.messages])
    return result.messages[0].msg.plain() if result.messages else ""


async def last_checkin(bot) -> int:
    async with bot.db.session() as session:
        return (await session.exec(select(CheckIn.id).order_by(CheckIn.id.desc()))).first()


@pytest.fixture
async def year(bot):
    """The program's year 2027 (see the module's docstring); the clock stops on 10 December."""
    for line in ((COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
                 (ANA, "request help with events")):
        await ok(bot, *line)
    await ok(bot, BOB, "accept 1")
    await at(bot, utc(2027, 1, 10, 10))
    await ok(bot, BOB, "checkin done 1")  # Ana's orientation
    await at(bot, utc(2027, 2, 1, 10))
    await ok(bot, EVE, "request help with translation")  # nobody takes it: escalated on 8 February
    await at(bot, utc(2027, 2, 10, 10))
    await ok(bot, BOB, "checkin done 2")  # Ana's follow-up
    await at(bot, utc(2027, 3, 3, 10))
    await ok(bot, COUNCIL, "!assign @eve:example.org @dana:example.org", RoomKind.COUNCIL)
    await at(bot, utc(2027, 3, 10, 10))
    async with bot.db.session() as session:
        eve_orientation = (await session.exec(select(CheckIn.id).order_by(CheckIn.id).offset(2))).first()
    await ok(bot, DANA, f"checkin done {eve_orientation}")
    await ok(bot, DANA, "profile skills writing")
    await ok(bot, ANA, "coaching ask @dana:example.org writing 2027-04-20 16:00")  # one session from the pool
    await ok(bot, DANA, "coaching accept 1")
    await at(bot, utc(2027, 6, 1, 10))
    await ok(bot, BOB, "checkin @ana:example.org 2027-06-15 12:00")
    await at(bot, utc(2027, 6, 15, 11))
    await ok(bot, BOB, f"checkin done {await last_checkin(bot)}")
    await at(bot, utc(2027, 8, 5, 10))
    await ok(bot, EVE, "end")
    await at(bot, utc(2027, 10, 20, 10))
    await ok(bot, BOB, "session @ana:example.org regular talked about the autumn events")
    await at(bot, utc(2027, 12, 10, 10))
    bot.outbox.sent.clear()
    return bot


@pytest.fixture
def drawing(bot):
    """The bot draws its charts in a child process, as it does when it runs."""
    bot.runtime.charts = ChildProcessCharts()
    return bot


def figures_in(text: str) -> tuple[list[str], dict[str, list[int]]]:
    """The months and, per series, the figures that a message's text gives."""
    months, figures = [], {key: [] for key in LABELS.values()}
    for line in text.splitlines():
        found = re.match(r"• (\w{3} \d{4})(?: \(so far\))?: (.*)$", line)
        if not found:
            continue
        months.append(found.group(1))
        for item in found.group(2).split(" · "):
            label, _, n = item.rpartition(": ")
            figures[LABELS[label]].append(int(n))
    return months, figures


def chart_of(message) -> Image.Image:
    """The PNG image attached to a message, decoded."""
    [image] = [f for f in message.files if f.mimetype == "image/png"]
    data = image.content()
    assert data.startswith(PNG_SIGNATURE)
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    assert decoded.format == "PNG" and png_size(data) == decoded.size
    assert image.alt.startswith("Chart of the program month by month")
    return decoded


async def test_report_chart_gives_the_year_as_text_and_as_an_image(year, drawing):
    result = await year.send(COUNCIL, "!report chart", RoomKind.COUNCIL)
    assert result.outcome == "ok"
    [message] = year.outbox.sent
    assert message.target.room is RoomKind.COUNCIL
    months, figures = figures_in(message.body)
    assert months == MONTHS and figures == EXPECTED
    assert "• Dec 2027 (so far):" in message.body
    assert "could not be drawn" not in message.body
    assert "Ana" not in message.body and "Eve" not in message.body  # counts, no names
    image = chart_of(message)
    assert image.size == (1000, 560)
    assert len(image.convert("RGB").getcolors(1_000_000)) > 20  # lines drawn, not a blank page
    assert "matplotlib" not in sys.modules  # drawn in a child process: the bot never loads it


async def test_this_months_overdue_figure_is_the_reports(year):
    """The month under way counts overdue relationships now, as ``report`` and the rules do."""
    reply = await year.reply(COUNCIL, "!report chart", RoomKind.COUNCIL)
    overdue_now = int(re.search(r"relationships overdue now: (\d+)", await year.reply(COUNCIL, "!report",
                                                                                      RoomKind.COUNCIL)).group(1))
    async with year.db.session() as session:
        counted = await rules.count_overdue(session, year.clock.now(), year.runtime.settings.program)
    assert figures_in(reply)[1]["relationships_overdue"][-1] == overdue_now == counted


async def test_the_monthly_report_comes_with_the_chart_of_the_twelve_months_before(year, drawing):
    await at(year, utc(2028, 1, 1, 8, 30))  # 09:30 in Berlin, on the 1st
    [report] = [m for m in year.outbox.sent if m.target.room is RoomKind.COUNCIL
                and m.body.startswith("Program report for December 2027")]
    months, figures = figures_in(report.body)
    assert months == MONTHS and figures == EXPECTED  # December whole, no month "so far"
    assert "(so far)" not in report.body
    assert chart_of(report).size == (1000, 560)


async def test_a_chart_that_cannot_be_drawn_leaves_the_text_whole(year):
    failing = (
        ChildProcessCharts(command=(sys.executable, "-c", "import sys; sys.exit('no plotting library here')")),
        ChildProcessCharts(command=(sys.executable, "-c", "import time; time.sleep(30)"), timeout=0.5),
        ChildProcessCharts(command=(sys.executable, "-c", "print('not an image')")),
        ChildProcessCharts(command=("/nonexistent/python",)),
        None,
    )
    for charts in failing:
        year.runtime.charts = charts
        before = len(year.outbox.sent)
        assert (await year.send(COUNCIL, "!report chart", RoomKind.COUNCIL)).outcome == "ok"
        [message] = year.outbox.sent[before:]
        assert message.files == ()
        assert figures_in(message.body)[1] == EXPECTED
        assert message.body.endswith("(The chart could not be drawn this time; every figure it would show is "
                                     "in the text above.)")
        assert "could not be drawn" in message.html
    # The monthly report too: text whole, said so, nothing lost.
    before = len(year.outbox.sent)
    await at(year, utc(2028, 1, 1, 8, 30))
    [report] = [m for m in year.outbox.sent[before:] if m.body.startswith("Program report for December 2027")]
    assert report.files == () and figures_in(report.body)[1] == EXPECTED and "could not be drawn" in report.body


async def test_only_the_council_may_ask_for_the_chart(year):
    assert "only for council members" in await year.reply(BOB, "report chart")
    assert "only for council members" in await year.reply(BOB, "!report chart", RoomKind.MENTORS)
    refused_here = await year.reply(COUNCIL, "!report chart", RoomKind.MENTORS)
    assert "council room" in refused_here and "•" not in refused_here
    assert all(m.files == () for m in year.outbox.sent)


async def test_the_chart_works_in_the_councils_dm_too(year, drawing):
    await year.send(COUNCIL, "report chart")
    [message] = year.outbox.sent
    assert message.target.room is RoomKind.DM and message.target.user_id == COUNCIL
    assert figures_in(message.body)[1] == EXPECTED
    chart_of(message)


def test_every_series_has_a_label():
    from commands.words.rules import SERIES_LABELS

    assert [s.key for s in rules.SERIES] == list(SERIES_LABELS) == list(LABELS.values())



def test_the_overdue_figure_judges_every_mentorship_as_the_rule_does():
    """The chart compares many mentorships with a month's cuts at once; near a cut, where adding
    months clamps a day (month ends, 29 February), it must still say what the rule says."""
    import random
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from commands.policy import ProgramPolicy

    rng = random.Random(7)
    policy = ProgramPolicy(timezone="Europe/Berlin")
    ends = [m.end for m in rules.months_to(utc(2028, 12, 15), utc(2029, 1, 1), ZoneInfo("Europe/Berlin"), 24)]
    checked = 0
    for end in ends:
        judge = rules._overdue_judge(end, policy)
        for _ in range(400):
            started = end - timedelta(days=rng.uniform(0, 900))
            last_met = None if rng.random() < 0.2 else started + timedelta(days=rng.uniform(0, (end - started).days))
            assert judge(started, last_met) == rules.meetings_due(started, last_met, end, policy).overdue(end)
            checked += 1
        for days in range(-6, 7):  # around each cut, to the hour
            for hours in (0, 1, 23):
                around = timedelta(days=days, hours=hours)
                for started, last_met in ((rules.add_months(end, -12) + around, None),
                                          (end - timedelta(days=500), rules.add_months(end, -12) + around),
                                          (end - timedelta(days=200), rules.add_months(end, -3) + around)):
                    assert judge(started, last_met) == rules.meetings_due(started, last_met, end, policy).overdue(end)
                    checked += 1
    assert checked > 10_000


async def test_the_drawing_process_gets_none_of_the_bots_secrets(monkeypatch):
    monkeypatch.setenv("MENTORBOT_MATRIX_PASSWORD", "SECRET-CHART-7Q")
    told = ChildProcessCharts(command=(sys.executable, "-c", "import os, sys; sys.stdout.buffer.write("
                                       "b'\\x89PNG\\r\\n\\x1a\\n' + repr(sorted(os.environ.items())).encode())"))
    seen = await told.draw({"months": [], "series": []})
    assert b"SECRET-CHART-7Q" not in seen and b"MENTORBOT_MATRIX_PASSWORD" not in seen
    assert b"MPLBACKEND" in seen  # the child's environment was read


async def test_a_chart_the_child_cannot_read_is_refused_with_the_reason():
    from bot.charts import ChartFailed

    with pytest.raises(ChartFailed, match="one number for each month"):
        await ChildProcessCharts().draw({"months": ["Jan 2027"], "series": [{"label": "x", "values": [1, 2]}]})
