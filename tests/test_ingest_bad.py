"""Bad input: each is one clear Skip (file:line and reason) or one InputError, and the batch goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsdesk import Desk
from newsdesk.errors import InputError
from newsdesk.ingest import read, read_text
from newsdesk.model import Item, Skip

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00" + bytes(range(256)) * 4


def only_skip(target, **kwargs) -> Skip:
    records = list(read(target, **kwargs))
    assert len(records) == 1 and isinstance(records[0], Skip), records
    return records[0]


def test_missing_path_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        read(tmp_path / "nowhere.jsonl")


def test_missing_path_cli_one_line(cli, tmp_path: Path) -> None:
    result = cli("ingest", "--no-progress", str(tmp_path / "nowhere.txt"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
    assert "Traceback" not in result.output


def test_binary_file(tmp_path: Path) -> None:
    for name in ("photo.txt", "photo.jsonl", "photo.html", "photo.xml"):
        path = tmp_path / name
        path.write_bytes(PNG)
        skip = only_skip(path)
        assert skip.origin == str(path) and "binary" in skip.reason


def test_empty_documents(tmp_path: Path) -> None:
    for name, content in (("empty.txt", b""), ("blank.txt", b"  \n\n \t\n"), ("blank.jsonl", b"\n\n"),
                          ("blank.xml", b"\n")):
        path = tmp_path / name
        path.write_bytes(content)
        assert "empty" in only_skip(path).reason
    assert [type(r) for r in read_text("   \n", origin="paste")] == [Skip]


def test_oversized_file(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Big Report\n" + "The quay was busy. " * 100, encoding="utf-8")
    size = path.stat().st_size
    skip = only_skip(path, max_bytes=1000)
    assert skip.reason == f"file is {size} bytes, over the 1000 limit"
    with Desk(db_path, stages=[], settings={"max_bytes": 1000}) as desk:
        report = desk.ingest(path)
    assert report.new == 0 and len(report.skipped) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("Locked Title\nLocked body.", encoding="utf-8")
    path.chmod(0)
    try:
        assert "cannot read" in only_skip(path).reason
    finally:
        path.chmod(0o644)


def test_cp1252_text_is_read_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Caf\u00e9 Owners Count the Cost \u2013 Again\n\nThe caf\u00e9 owners on the pier said the storm cost them \u201ca week\u201d of trade.".encode("cp1252"))
    [item] = list(read(path))
    assert isinstance(item, Item)
    assert item.title == "Caf\u00e9 Owners Count the Cost \u2013 Again"
    assert "\u201ca week\u201d" in item.text
    assert item.extra == {"encoding": "cp1252"}


def test_cp1252_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "legacy.jsonl"
    path.write_bytes('{"id": "l1", "title": "Caf\u00e9 Reopens", "text": "The caf\u00e9 reopened."}\n'.encode("cp1252"))
    [item] = list(read(path))
    assert item.title == "Caf\u00e9 Reopens" and item.extra == {"encoding": "cp1252"}


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("\ufeffQuay Lights Switched On\nForty lamps now light the east quay of Skarvik.".encode("utf-16-le"))
    [item] = list(read(path))
    assert isinstance(item, Item) and item.title == "Quay Lights Switched On"


def test_malformed_jsonl_lines_go_on(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join([
            '{"id": "m1", "title": "First Good Record", "text": "The first record is fine."}',
            "{not json",
            '"a bare string"',
            '{"id": "m4", "title": {"nested": true}, "text": "Title is not text."}',
            '{"id": "m5"}',
            "[" * 100_000,
            '{"id": "m7", "title": "Last Good Record", "text": "The last record is fine too."}',
        ]),
        encoding="utf-8",
    )
    with Desk(db_path, stages=[]) as desk:
        report = desk.ingest(path)
    assert report.new == 2
    lines = [s.line for s in report.skipped]
    assert lines == [2, 3, 4, 5, 6]
    for skip in report.skipped:
        assert str(skip).startswith(f"{path}:{skip.line}: ")
        assert "\n" not in str(skip)
    assert "field 'title'" in report.skipped[2].reason


def test_broken_feeds(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml"
    cut.write_bytes((FIX / "feed-rss2.xml").read_bytes()[:300])
    skip = only_skip(cut)
    assert "feed" in skip.reason
    empty = tmp_path / "empty.rss"
    empty.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>', encoding="utf-8")
    assert only_skip(empty).reason == "feed has no entries"
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><inventory><crate id="1"/></inventory>', encoding="utf-8")
    assert "feed" in only_skip(other).reason


def test_bad_opml_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text("<opml><body><outline", encoding="utf-8")
    assert "not valid OPML" in only_skip(path).reason
    empty = tmp_path / "none.opml"
    empty.write_text('<opml version="2.0"><body><outline text="x"/></body></opml>', encoding="utf-8")
    assert "no feeds" in only_skip(empty).reason


def test_html_without_article(tmp_path: Path) -> None:
    path = tmp_path / "nav.html"
    path.write_text("<!DOCTYPE html><html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    skip = only_skip(path)
    assert "no article text" in skip.reason


def test_bad_files_do_not_stop_a_directory(tmp_path: Path, db_path: Path) -> None:
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    (tmp_path / "good.txt").write_text((FIX / "article.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(PNG)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "cut.rss").write_bytes(b"<rss><channel><item><title>Cut")
    (tmp_path / "page.jsonl").write_text('{"id": "p1", "title": "Good Line", "text": "Fine."}\n{oops\n', encoding="utf-8")
    with Desk(db_path, stages=[]) as desk:
        report = desk.ingest(tmp_path)
        assert report.new == 2
        assert len(report.skipped) == 4
        assert sorted(i.title for i in desk.items()) == [
            "Good Line", "Harbour Bridge in Port Wren Reopens After Eight Months of Repairs"
        ]


def test_cli_bad_input_is_one_line_each(cli, tmp_path: Path) -> None:
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    (tmp_path / "bin.txt").write_bytes(PNG)
    (tmp_path / "good.txt").write_text((FIX / "article.txt").read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("ingest", "--no-progress", str(tmp_path), str(tmp_path / "missing.txt"))
    assert result.exit_code == 9
    assert f"skipped {tmp_path / 'bin.txt'}: binary file, not text" in result.output
    assert "missing.txt: no such file or directory" in result.output
    assert "1 new, 0 already stored, 1 skipped, 1 target(s) unreadable" in result.output
    assert "Traceback" not in result.output


def test_invalid_unicode_control_characters_cleaned() -> None:
    [item] = list(read_text("Quay\x00 Lights\x07 Switched On\nForty\x1b lamps lit the quay.", origin="paste"))
    assert item.title == "Quay Lights Switched On" and item.text == "Forty lamps lit the quay."


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_in_directory_is_passed_over(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "good.txt").write_text("Quay Lights Switched On\nForty lamps lit the quay.", encoding="utf-8")
    records = list(read(tmp_path))
    assert [type(r) for r in records] == [Item, Skip]
    assert records[1].reason == "not a regular file"
