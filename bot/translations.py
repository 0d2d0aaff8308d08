"""The translation catalogs: extract the sentences from the code, update each language, compile
them, and check that every language is complete (see docs/translating.md).

    python -m bot.translations extract            # commands/locale/mentorbot.pot, from the code
    python -m bot.translations update [LANGUAGE]  # the template merged into each language's .po
    python -m bot.translations compile            # each .po compiled to the .mo the bot reads
    python -m bot.translations check [LANGUAGE]   # complete, consistent, compiled: exit 1 if not
    python -m bot.translations new LANGUAGE       # start a catalog for a new language

Sentences are found where the code says them: ``t(...)``, ``tn(singular, plural, n)``, ``tx(...)``
and the table markers ``N_``/``Nn_`` (``commands.words``), and in the command declarations: each
command's help (its docstring), its examples and its arguments' names, and each topic's title.
"""

from __future__ import annotations

import argparse
import ast
import io
import string
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from commands.languages import DOMAIN, LOCALE_DIR, SOURCE, SPOKEN

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None, "Nn_": (1, 2), "tx": None, "_": None, "_counted": (1, 1)}
EXAMPLE, ARGUMENT = "example", "argument"  # contexts of the command declarations' words
_FIELDS = string.Formatter()


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def _new_catalog(locale: str | None = None) -> Catalog:
    # A fixed creation date: the template changes only when a sentence does.
    return Catalog(locale=locale, domain=DOMAIN, project="mentorbot", version="",
                   copyright_holder="mentorbot contributors", msgid_bugs_address="",
                   creation_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
                   revision_date=datetime(2026, 1, 1, tzinfo=timezone.utc), fuzzy=False)


def _python(fileobj, keywords, comment_tags, options):
    """Babel's extraction method for Python, read from the syntax tree: a sentence inside another's
    placeholders (``t("{a}", a=t("b"))``) is found as well as the outer one."""
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords):
            continue
        spec = KEYWORDS[node.func.id] or (1,)
        texts = [node.args[i - 1] if len(node.args) >= i else None for i in spec]
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts):
            continue  # a sentence kept elsewhere (a table), marked where it is written
        values = [a.value for a in texts]
        comments, line = [], node.lineno - 2
        while line >= 0 and lines[line].strip().startswith("#"):
            text = lines[line].strip().lstrip("#").strip()
            if any(text.startswith(tag) for tag in comment_tags):
                comments.insert(0, text)
            line -= 1
        yield node.lineno, node.func.id, values[0] if len(values) == 1 else tuple(values), comments


def extract() -> Catalog:
    """Every sentence of the code and the command declarations, as a template catalog."""
    catalog = _new_catalog()
    for package in ("commands", "bot"):
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / package, method_map=[("**.py", _python)], keywords=KEYWORDS,
                comment_tags=("Translators:",), strip_comment_tags=True):
            if package == "bot" and filename.startswith("translations"):
                continue
            catalog.add(message, locations=[(f"{package}/{filename}", lineno)], auto_comments=comments,
                        context=context)
    from commands import build_registry

    registry = build_registry()
    for router in registry.routers:
        where = [(_where(router.commands[0].handler) if router.commands else ("commands", 0))]
        catalog.add(router.title, locations=where, auto_comments=["The title of a topic in help."])
        for command in router.commands:
            where = [_where(command.handler)]
            catalog.add(command.summary, locations=where,
                        auto_comments=[f"help {command.name}: what the command does, in one line."])
            if command.details:
                catalog.add(command.details, locations=where, auto_comments=[f"help {command.name}: more about it."])
            for example in command.examples:
                catalog.add(example, locations=where, context=EXAMPLE, auto_comments=[
                    f"An example of {command.name}: keep the command's words ({command.name}) and any "
                    "@name:server, number or date as they are; translate the rest."])
            for arg in command.args:
                catalog.add(arg.name, locations=where, context=ARGUMENT, auto_comments=[
                    f"The name of an argument of {command.name} in its usage line ({command.usage()}): "
                    "one word, or words joined by _."])
    return catalog


def _rel(path: Path) -> str:
    """A path as a translator finds it: from the repository's root."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _where(handler) -> tuple[str, int]:
    code = handler.__code__
    return str(Path(code.co_filename).resolve().relative_to(ROOT)), code.co_firstlineno


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    write_po(out, catalog, width=100, include_lineno=False, sort_by_file=True)
    path.write_bytes(out.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def _compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update(languages: list[str]) -> None:
    template = _read(TEMPLATE)
    for language in languages:
        catalog = _read(po_path(language), language)
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()  # sentences no longer said: kept in history, not in the file
        _write(catalog, po_path(language))


def new(language: str) -> None:
    path = po_path(language)
    if path.exists():
        raise SystemExit(f"{_rel(path)} exists already; run update instead")
    catalog = _new_catalog(language)
    catalog.update(_read(TEMPLATE))
    _write(catalog, path)


def compile_all(languages: list[str]) -> None:
    for language in languages:
        mo_path(language).write_bytes(_compiled(_read(po_path(language), language)))


def _ids(message) -> tuple:
    return (message.context, message.id if isinstance(message.id, str) else tuple(message.id))


def _fields(text: str) -> set[str] | None:
    try:
        return {name for _, name, _, _ in _FIELDS.parse(text) if name is not None}
    except ValueError:
        return None


def problems(language: str, template: Catalog | None = None) -> list[str]:
    """What keeps ``language`` from being complete: each problem as a line that names the message."""
    template = template or _read(TEMPLATE)
    path = po_path(language)
    if not path.exists():
        return [f"{language}: no catalog at {_rel(path)} (python -m bot.translations new {language})"]
    catalog = _read(path, language)
    out: list[str] = []
    expected_plurals = get_plural(language).num_plurals
    if catalog.num_plurals != expected_plurals:
        out.append(f"{language}: the header says {catalog.num_plurals} plural forms; "
                   f"{Locale.parse(language).english_name} has {expected_plurals} ({get_plural(language).plural_expr})")
    wanted = {_ids(m) for m in template if m.id}
    have = {_ids(m): m for m in catalog if m.id}
    for key in sorted(wanted - have.keys(), key=str):
        out.append(f"{language}: missing {_shown(key)} (python -m bot.translations update {language})")
    for key in sorted(have.keys() - wanted, key=str):
        out.append(f"{language}: {_shown(key)} is no longer in the code (python -m bot.translations update {language})")
    for key, message in have.items():
        if key not in wanted:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy:
            out.append(f"{language}: fuzzy {_shown(key)}: check the translation and remove the fuzzy flag")
        if not all(strings):
            out.append(f"{language}: untranslated {_shown(key)}")
            continue
        if len(ids) > 1 and len(strings) != expected_plurals:
            out.append(f"{language}: {_shown(key)} has {len(strings)} plural forms, not {expected_plurals}")
        original = set().union(*(_fields(i) or set() for i in ids))
        for form in strings:
            fields = _fields(form)
            if fields is None:
                out.append(f"{language}: {_shown(key)}: a {{ or }} is not closed in {form!r}")
            elif fields - original or (len(ids) == 1 and fields != original) or \
                    (len(ids) > 1 and fields - {"n"} != original - {"n"}):
                out.append(f"{language}: {_shown(key)}: the placeholders {sorted(fields)} differ from "
                           f"the original's {sorted(original)} in {form!r}")
    mo = mo_path(language)
    if not out and (not mo.exists() or mo.read_bytes() != _compiled(catalog)):
        out.append(f"{language}: {_rel(mo)} is not compiled from the .po "
                   "(python -m bot.translations compile)")
    return out


def _shown(key: tuple) -> str:
    context, message = key
    text = message if isinstance(message, str) else message[0]
    text = text if len(text) <= 70 else text[:70] + "…"
    return f"{text!r}" + (f" (context {context})" if context else "")


def template_problems() -> list[str]:
    """Whether the template in the repository has exactly the code's sentences."""
    if not TEMPLATE.exists():
        return [f"no template at {_rel(TEMPLATE)} (python -m bot.translations extract)"]
    code = {_ids(m) for m in extract() if m.id}
    kept = {_ids(m) for m in _read(TEMPLATE) if m.id}
    out = [f"the template lacks {_shown(k)}" for k in sorted(code - kept, key=str)]
    out += [f"the template has {_shown(k)}, which the code no longer says" for k in sorted(kept - code, key=str)]
    if out:
        out.append("run: python -m bot.translations extract && python -m bot.translations update "
                   "&& python -m bot.translations compile")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.translations", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("extract", "update", "compile", "check", "new"))
    parser.add_argument("languages", nargs="*", help="the languages (default: every one the bot speaks)")
    args = parser.parse_args(argv)
    languages = args.languages or [language for language in SPOKEN if language != SOURCE]
    if args.action == "extract":
        _write(extract(), TEMPLATE)
        print(f"wrote {_rel(TEMPLATE)}")
    elif args.action == "update":
        update(languages)
    elif args.action == "compile":
        compile_all(languages)
    elif args.action == "new":
        for language in args.languages:
            new(language)
    else:
        found = template_problems()
        template = _read(TEMPLATE) if TEMPLATE.exists() else None
        for language in languages:
            found += problems(language, template) if template is not None else []
        for line in found:
            print(line)
        if found:
            print(f"{len(found)} problems", file=sys.stderr)
            return 1
        print(f"complete: {', '.join(languages)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
