"""Messages render to plain text and safe HTML."""

from commands.text import Msg, bold, bullets, code, lines, link, mention, person


def test_user_text_is_escaped_in_html_and_kept_in_plain_text():
    typed = '<script>alert("x")</script> & **bold**'
    msg = Msg("You said: ", typed, " ", code(typed), " ", bold(typed))
    assert "<script>" not in msg.html()
    assert "&lt;script&gt;" in msg.html() and "&amp;" in msg.html()
    assert msg.plain() == f"You said: {typed} `{typed}` {typed}"


def test_mentions_become_links_and_only_mentions_ping():
    msg = Msg("Hi ", mention("@ana:example.org", 'Ana <"x">'), " and ", bold(mention("@bob:example.org")),
              ", about ", person("@cy:example.org", "Cy"))
    assert msg.plain() == 'Hi Ana <"x"> and @bob:example.org, about Cy'
    assert '<a href="https://matrix.to/#/@ana:example.org">Ana &lt;"x"&gt;</a>' in msg.html()
    assert '<a href="https://matrix.to/#/@cy:example.org">Cy</a>' in msg.html()
    assert msg.mentions() == ["@ana:example.org", "@bob:example.org"]


def test_lines_links_and_bullets():
    msg = lines("Title", bullets(["one", "two"]), None, link('https://x.example/?a="1"', "topic"))
    assert msg.plain() == "Title\n• one\n• two\ntopic (https://x.example/?a=\"1\")"
    assert '<a href="https://x.example/?a=&quot;1&quot;">topic</a>' in msg.html()
    assert "<br>" in msg.html()


def test_every_event_and_refusal_of_every_service_is_worded():
    """Whatever a service emits or refuses reaches people in words: none is left without."""
    import importlib
    import inspect
    import pkgutil

    import commands.services
    from commands import words
    from commands.services.errors import DomainError
    from commands.services.work import Event

    rendered, explained = words.known()
    missing = []
    for info in pkgutil.iter_modules(commands.services.__path__):
        module = importlib.import_module(f"commands.services.{info.name}")
        for _, kind in inspect.getmembers(module, inspect.isclass):
            if kind.__module__ != module.__name__:
                continue
            if issubclass(kind, Event) and kind is not Event and kind not in rendered:
                missing.append(kind.__qualname__)
            if issubclass(kind, DomainError) and kind is not DomainError and not any(
                    k in explained for k in kind.__mro__):
                missing.append(kind.__qualname__)
    assert missing == []
    assert len(rendered) >= 20 and len(explained) >= 40  # the check sees the layer's registrations
