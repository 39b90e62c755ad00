"""Outlet files: CSV or JSONL, one outlet per line, free attribute columns.

One column names the outlet (`name` or `outlet`) or its web address (`domain`); `aliases`
lists other names and domains, separated by ";". Every other column is an attribute
(country, language, lean, owner, type...), its name lower-cased. An empty value sets nothing.

    name,domain,country,lean,owner
    Harbor Times,harbortimes.example,NL,centre,Calder Media

Reading never stops at a bad line: each problem is one line naming file:line (no name
column, a duplicate outlet, conflicting attributes, text that is not UTF-8), and the good
rows are imported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsdesk.errors import InputError

NAME_COLUMNS = ("name", "outlet")
SPECIAL = ("name", "outlet", "domain", "aliases")
MAX_VALUE = 200
MAX_ATTRS = 40
MAX_BYTES = 20_000_000


@dataclass
class OutletRow:
    """One outlet as a file gives it."""

    line: int
    name: str | None
    domains: list[str]
    aliases: list[str]
    attrs: dict[str, str] = field(default_factory=dict)


def _column(name: str) -> str:
    return " ".join(str(name).strip().lower().split()).replace(" ", "_")


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    return [v.strip() for v in str(value).split(";") if v.strip()]


def _lines(data: bytes, where: str, problems: list[str]) -> Iterator[tuple[int, str]]:
    """Yields (line number, text) of each line that is UTF-8; reports the others."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for n, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{where}:{n}: not UTF-8 text (byte {e.start + 1}); line skipped")
            continue
        text = text.rstrip("\r")
        if text.strip():
            yield n, text


def _row(line: int, record: dict[str, Any], where: str, problems: list[str]) -> OutletRow | None:
    cols = {_column(k): v for k, v in record.items() if k is not None}
    name = next((str(cols[c]).strip() for c in NAME_COLUMNS if cols.get(c) not in (None, "")), None)
    domains = _split(cols.get("domain"))
    if not name and not domains:
        problems.append(f"{where}:{line}: no outlet named (give a name, outlet or domain); line skipped")
        return None
    attrs: dict[str, str] = {}
    for key, value in cols.items():
        if key in SPECIAL or value is None:
            continue
        if isinstance(value, (dict, list)):
            problems.append(f"{where}:{line}: attribute {key!r} is not text; left out")
            continue
        text = str(value).strip()
        if not key or not text:
            continue
        if len(attrs) >= MAX_ATTRS:
            problems.append(f"{where}:{line}: more than {MAX_ATTRS} attributes; the rest left out")
            break
        attrs[key[:60]] = text[:MAX_VALUE]
    return OutletRow(line, name[:200] if name else None, domains, _split(cols.get("aliases")), attrs)


def read_outlets(path: str | Path) -> tuple[list[OutletRow], list[str]]:
    """Returns the rows of an outlets file (.csv or .jsonl) and one line per problem."""
    p = Path(path)
    where = str(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise InputError(f"{where}: an outlets file is .csv or .jsonl")
    try:
        if p.stat().st_size > MAX_BYTES:
            raise InputError(f"{where}: larger than {MAX_BYTES} bytes")
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{where}: cannot read ({e.strerror or e})") from None
    problems: list[str] = []
    lines = list(_lines(data, where, problems))
    rows: list[OutletRow] = []
    if suffix == ".csv":
        rows = list(_read_csv(lines, where, problems))
    else:
        for n, text in lines:
            try:
                record = json.loads(text)
            except json.JSONDecodeError as e:
                problems.append(f"{where}:{n}: not JSON ({e.msg}); line skipped")
                continue
            if not isinstance(record, dict):
                problems.append(f"{where}:{n}: not a JSON object; line skipped")
                continue
            row = _row(n, record, where, problems)
            if row is not None:
                rows.append(row)
    return rows, problems


def _read_csv(lines: list[tuple[int, str]], where: str, problems: list[str]) -> Iterator[OutletRow]:
    if not lines:
        problems.append(f"{where}:1: empty file, no header")
        return
    head_line, head_text = lines[0]
    header = [_column(h) for h in next(csv.reader([head_text]))]
    if not any(h in header for h in (*NAME_COLUMNS, "domain")):
        problems.append(f"{where}:{head_line}: no column names the outlet (add a name, outlet or domain "
                        f"column; found {', '.join(h for h in header if h) or 'none'}); nothing imported")
        return
    for n, text in lines[1:]:
        values = next(csv.reader([text]))
        if len(values) > len(header):
            problems.append(f"{where}:{n}: {len(values)} fields for {len(header)} columns; line skipped")
            continue
        row = _row(n, dict(zip(header, values, strict=False)), where, problems)
        if row is not None:
            yield row


def write_outlets(outlets: Iterable[dict[str, Any]], out: io.TextIOBase | Any, fmt: str = "csv") -> int:
    """Writes outlets in the file format `read_outlets` reads; returns how many."""
    outlets = list(outlets)
    names = sorted({k for o in outlets for k in o.get("attributes", {})})
    n = 0
    if fmt == "jsonl":
        for o in outlets:
            rec: dict[str, Any] = {"name": o["name"]}
            if o.get("domains"):
                rec["domain"] = ";".join(o["domains"])
            aliases = [a for a in o.get("aliases", []) if a != o["name"]]
            if aliases:
                rec["aliases"] = ";".join(aliases)
            rec.update(o.get("attributes", {}))
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise InputError(f"{fmt!r}: not an outlets format (use csv or jsonl)")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "domain", "aliases", *names])
    for o in outlets:
        aliases = [a for a in o.get("aliases", []) if a != o["name"]]
        writer.writerow([o["name"], ";".join(o.get("domains", [])), ";".join(aliases),
                         *[o.get("attributes", {}).get(k, "") for k in names]])
        n += 1
    return n
