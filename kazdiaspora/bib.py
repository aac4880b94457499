"""The keys of ``references.bib``.

The book cites with sphinxcontrib-bibtex; the data layer checks that every ``source_key`` in
``data/`` is a key of the same file. Keys are read with a small scanner so that a duplicate or a
malformed entry is reported with its line number, and the whole file is parsed with ``pybtex``
at validation time, so a syntax error is reported with file and line before any chart runs.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import paths, trace

_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s]*)\s*,", re.MULTILINE)


class BibError(ValueError):
    """A problem in references.bib, naming the file and line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


_CACHE: dict = {}


def bib_keys(path: Path | None = None) -> dict[str, int]:
    """Return ``{key: line_number}`` for every entry of the .bib file, after checking all of it.

    Raises BibError (naming file and line) for a missing file, an entry without a key, a key given
    twice (keys are compared without regard to case, as BibTeX and pybtex do), an entry whose
    braces do not close before the next entry or the end of the file, or anything else the full
    parser (pybtex) refuses.
    """
    path = Path(path or paths.BIBFILE)
    if not path.exists():
        raise BibError(f"{path}: bibliography file not found")
    trace.record(path)
    stamp = (str(path), path.stat().st_mtime_ns, path.stat().st_size)
    if stamp in _CACHE:
        return _CACHE[stamp]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BibError(f"{path}, line {line}: not valid UTF-8 (likely cause: saved in a legacy encoding)", line) from None
    _check_braces(path, text)
    keys: dict[str, int] = {}
    folded: dict[str, tuple[str, int]] = {}
    for m in _ENTRY.finditer(text):
        kind, key = m.group(1).lower(), m.group(2)
        if kind in {"comment", "preamble", "string"}:
            continue
        line = text.count("\n", 0, m.start()) + 1
        if not key:
            raise BibError(f"{path}, line {line}: @{kind} entry has no key", line)
        if key.lower() in folded:
            first, fline = folded[key.lower()]
            same = "" if first == key else f" (as '{first}'; keys differ only in case, which BibTeX treats as the same key)"
            raise BibError(f"{path}, line {line}: duplicate key '{key}' (first defined on line {fline}){same}", line)
        folded[key.lower()] = (key, line)
        keys[key] = line
    # the full parse takes a third of a second: skip it for bytes that parsed before
    import hashlib

    ok = paths.BUILD_DIR / ".validated" / f"bib-{hashlib.sha256(raw).hexdigest()}"
    if not ok.exists():
        _parse_in_full(path, text, len(keys))
        try:
            ok.parent.mkdir(parents=True, exist_ok=True)
            ok.touch()
        except OSError:
            pass
    _CACHE.clear()
    _CACHE[stamp] = keys
    return keys


def _check_braces(path: Path, text: str) -> None:
    """Every entry's braces close before the next ``@`` entry starts (a missing ``}`` would make
    the parser swallow the following entry) and no ``}`` closes more than was opened."""
    depth, opened = 0, 0
    line = 1
    at_line_start = True
    for ch in text:
        if ch == "\n":
            line += 1
            at_line_start = True
            continue
        if ch == "@" and at_line_start:
            if depth > 0:
                raise BibError(f"{path}, line {opened}: the entry starting here is not closed before the next entry "
                               f"on line {line} (likely cause: a missing closing brace '}}')", opened)
            opened = line
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise BibError(f"{path}, line {line}: '}}' closes nothing (likely cause: one brace too many)", line)
        if not ch.isspace():
            at_line_start = False
    if depth > 0:
        raise BibError(f"{path}, line {opened}: the entry starting here is not closed at the end of the file "
                       "(likely cause: a missing closing brace '}')", opened)


def _parse_in_full(path: Path, text: str, n_keys: int) -> None:
    from pybtex import errors as pybtex_errors
    from pybtex.database import BibliographyDataError
    from pybtex.database.input.bibtex import Parser
    from pybtex.scanner import PybtexSyntaxError

    strict = pybtex_errors.strict
    pybtex_errors.set_strict_mode(True)
    try:
        data = Parser().parse_string(text)
    except PybtexSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise BibError(f"{path}, line {line}: {exc.args[0] if exc.args else exc} (pybtex)", line) from None
    except BibliographyDataError as exc:
        raise BibError(f"{path}: {exc} (pybtex)") from None
    finally:
        pybtex_errors.set_strict_mode(strict)
    if len(data.entries) != n_keys:
        raise BibError(f"{path}: pybtex reads {len(data.entries)} entries but the file has {n_keys} '@' entries "
                       "(likely cause: an entry not starting on its own line)")


_ENTRIES: dict | None = None


def _latex_to_text(s: str) -> str:
    """Drop the braces and the few LaTeX commands used in references.bib."""
    s = s.replace("\\&", "&").replace("--", "\u2013").replace("`", "\u2018").replace("'", "\u2019")
    return re.sub(r"[{}]", "", s).strip()


def entries(path: Path | None = None) -> dict:
    """Parsed entries (pybtex), cached per file."""
    global _ENTRIES
    from pybtex.database import parse_file

    path = Path(path or paths.BIBFILE)
    trace.record(path)
    if _ENTRIES is None or _ENTRIES[0] != (path, path.stat().st_mtime_ns):
        _ENTRIES = ((path, path.stat().st_mtime_ns), parse_file(str(path), bib_format="bibtex").entries)
    return _ENTRIES[1]


def cite_parts(key: str) -> tuple[str, str]:
    """``(who, year)`` of the book's author-year citation of a source, before disambiguation:
    'Askhat', 'Smith & Jones', 'Barcus et al.', 'Wikipedia (English): <article>', an organisation;
    the year as printed, or 'n.d.'."""
    e = entries()[key]
    year = _latex_to_text(e.fields.get("year", "n.d.")) or "n.d."
    if e.fields.get("shortauthor"):
        return _latex_to_text(e.fields["shortauthor"]), year
    people = e.persons.get("author") or e.persons.get("editor") or []
    if people and _latex_to_text(str(people[0])) == "Wikipedia contributors":
        first = _latex_to_text(e.fields.get("howpublished", "")).split(" ")[0].strip(",")
        lang = first if first in {"English", "Russian", "Chinese", "Kazakh", "Turkish", "German", "French",
                                  "Uzbek", "Mongolian", "Persian", "Kyrgyz"} else ""
        title = _latex_to_text(e.fields.get("title", key))
        if len(title) > 38:
            title = title[:36].rstrip() + "\u2026"
        return (f"Wikipedia ({lang}): {title}" if lang and lang != "Wikipedia" else f"Wikipedia: {title}"), year
    if people:
        last = [_latex_to_text(" ".join(p.prelast_names + p.last_names)) for p in people]
        who = last[0] if len(last) == 1 else (f"{last[0]} & {last[1]}" if len(last) == 2 else f"{last[0]} et al.")
    else:
        f = e.fields
        who = _latex_to_text(f.get("shortauthor") or f.get("organization") or f.get("institution")
                             or f.get("publisher") or f.get("journal") or f.get("title", key))
        if len(who) > 48:
            who = who[:45].rstrip() + "\u2026"
    return who, year


_YEARS: dict = {}


def cite_year(key: str) -> str:
    """The year of a source's citation, with a letter where two or more sources would otherwise be
    cited alike ('Kara (n.d.a)', 'Kara (n.d.b)'; 'Kazinform (2023a)' to '(2023d)'): the sources that
    share an author and year are lettered in the order of their titles."""
    stamp = entries_stamp()
    if _YEARS.get("stamp") != stamp:
        groups: dict = {}
        for k in entries():
            groups.setdefault(cite_parts(k), []).append(k)
        years = {}
        for (who, year), keys in groups.items():
            if len(keys) == 1:
                years[keys[0]] = year
                continue
            order = sorted(keys, key=lambda k: (_latex_to_text(entries()[k].fields.get("title", "")).lower(), k))
            for i, k in enumerate(order):
                years[k] = year + _letters(i)
        _YEARS.clear()
        _YEARS.update(stamp=stamp, years=years)
    else:
        entries()  # what the first call read, recorded again (kazdiaspora.trace)
    return _YEARS["years"][key]


def _letters(i: int) -> str:
    """a, b, ..., z, aa, ab, ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def entries_stamp(path: Path | None = None) -> tuple:
    path = Path(path or paths.BIBFILE)
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size)


def cite_label(key: str) -> str:
    """'Kara, n.d.a': how the text cites a source in parentheses, and the label of its entry in
    References (one citation style in text, figures and bibliography)."""
    return f"{cite_parts(key)[0]}, {cite_year(key)}"


def short_cite(key: str) -> str:
    """Author-year label for source lines: 'Askhat (n.d.)', 'Smith & Jones (2001)', 'Barcus et al.
    (2012)', 'Kara (n.d.a)' (:func:`cite_year` letters sources that would be cited alike)."""
    return f"{cite_parts(key)[0]} ({cite_year(key)})"


def full_reference(key: str) -> str:
    """One-line full reference for data files: 'Author. Title. Published where. Year. URL'."""
    e = entries()[key]
    f = e.fields
    people = e.persons.get("author") or e.persons.get("editor") or []
    who = "; ".join(_latex_to_text(str(p)) for p in people) or _latex_to_text(
        f.get("shortauthor") or f.get("organization") or f.get("institution") or "")
    parts = [who, _latex_to_text(f.get("title", ""))]
    where = f.get("journal") or f.get("booktitle") or f.get("howpublished") or f.get("publisher") or ""
    parts.append(_latex_to_text(where))
    if f.get("year") and _latex_to_text(f["year"]) not in parts[-1]:
        parts.append(_latex_to_text(f["year"]))
    if f.get("url"):
        parts.append(f["url"])
    return ". ".join(p.rstrip(".") for p in parts if p) + "."
