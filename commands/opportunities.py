"""Opportunities: mentors share trainings, events and introductions with their mentees, the
council with every mentee who lists an interest; mentees list the open ones."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from commands.dispatcher import Context
from commands.framework import (
    DM_ONLY,
    AmbiguousDate,
    Arg,
    ArgError,
    ArgType,
    Choice,
    Dated,
    OnDate,
    ParseEnv,
    Role,
    RoomKind,
    Router,
    Word,
    is_matrix_id,
    unquote_rest,
)
from commands.services import opportunities
from commands.words import opportunities as said
from storage.models import OpportunityKind

router = Router("opportunities", "Opportunities")

MAX_URL = 1000
MAX_WHAT = 300
KIND = Arg("kind", Choice(*(k.value for k in OpportunityKind), label="training|event|introduction"))


@dataclass(frozen=True)
class Details:
    when: Dated
    url: str
    what: str


def check_link(text: str) -> str:
    """A web link as given: http or https, a host with a dot in it, no spaces."""
    url = text.strip().strip("<>")
    if len(url) > MAX_URL:
        raise ArgError(said.link_too_long(MAX_URL))
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ArgError(said.not_a_link(url[:60])) from None
    if parts.scheme.lower() not in ("http", "https") or "." not in host.strip(".") or any(c.isspace() for c in url):
        raise ArgError(said.not_a_link(url[:60]))
    return url


class OpportunityDetails(ArgType):
    """``<date> | <link> | <what it is>``: the date read in the speaker's zone (today or later),
    a web link, and a few words."""

    greedy = True
    label = "date | link | what"

    def __init__(self) -> None:
        self.date = OnDate("date")

    def convert_in(self, token: str, env: ParseEnv) -> Details:
        parts = [p.strip() for p in unquote_rest(token).split("|", 2)]
        if len(parts) < 3:
            raise ArgError(said.missing_parts())
        date, url, what = parts
        if not what:
            raise ArgError(said.no_description())
        if len(what) > MAX_WHAT:
            raise ArgError(said.too_long_description(len(what), MAX_WHAT))
        if "://" in date:
            raise ArgError(said.details_form())
        try:
            when = self.date.convert_in(date, env)
        except AmbiguousDate as choice:  # the choice is written with the link and the words after it
            raise choice.around(after=f" | {url} | {what}") from None
        return Details(when, check_link(url), what)


DETAILS = Arg("date | link | what", OpportunityDetails())


@router.command(
    "opportunity",
    args=[Arg("to", Word()), KIND, DETAILS],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    aliases=("flag",),
    examples=(said.MENTOR_EXAMPLE,
              "opportunity mentees event next friday 17:00 | https://example.org/call | Community call"),
)
async def opportunity(ctx: Context, to: str, kind: str, **args: Details) -> None:
    """Share a training, event or introduction with one of your mentees, or with all of them (`mentees`).

    Give its date (read in your time zone), a link and a few words. Each mentee gets it once by
    DM, however often it is shared, and sees it with `opportunities` until its day is over.
    """
    details = args["date | link | what"]
    target = "mentees" if to.lower() in ("mentees", "all") else to.strip("<>,")
    if target != "mentees" and not is_matrix_id(target):
        raise ctx.command.usage_error("to", said.not_a_recipient(to[:60]))
    done = await opportunities.share_with_mentees(ctx, await ctx.me(), target, OpportunityKind(kind), details.what,
                                                  details.url, details.when)
    ctx.reply(said.shared(ctx, done, ctx.zone, named=True))


@router.command(
    "opportunity interest",
    args=[Arg("interest", Word()), KIND, DETAILS],
    roles=[Role.COUNCIL],
    rooms=(RoomKind.COUNCIL, RoomKind.DM),
    examples=(said.COUNCIL_EXAMPLE,
              'opportunity interest "public speaking" training 2027-04-02 | https://example.org/talks | Talk clinic'),
)
async def opportunity_by_interest(ctx: Context, interest: str, kind: str, **args: Details) -> None:
    """Share an opportunity with every mentee who lists an interest in their profile.

    Quote an interest of several words. Each mentee gets it once by DM; you are told how many,
    never who (what someone is interested in is theirs).
    """
    details = args["date | link | what"]
    done = await opportunities.share_by_interest(ctx, await ctx.me(), interest, OpportunityKind(kind), details.what,
                                                 details.url, details.when)
    ctx.reply(said.shared(ctx, done, ctx.zone, named=False))


@router.command("opportunities", safe=True, rooms=DM_ONLY, examples=("opportunities",))
async def list_opportunities(ctx: Context) -> None:
    """The opportunities shared with you whose day is not over, soonest first."""
    items = await opportunities.open_for(ctx.session, ctx.person, ctx.now) if ctx.person is not None else []
    ctx.reply(said.open_list(items, ctx.zone) if items else said.none_open(ctx))
