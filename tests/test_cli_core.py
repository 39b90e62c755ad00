"""The command line as a user meets it: help everywhere, JSON listings, one-line errors."""

from __future__ import annotations

import json

import click

import newsdesk
from newsdesk import config
from newsdesk.cli import main


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        yield prefix + name, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + name + " ")


def test_every_command_and_option_has_help():
    missing = []
    for name, cmd in _commands(main):
        if not (cmd.help or cmd.short_help):
            missing.append(name)
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{name} {param.opts[0]}")
    assert missing == []


def test_every_setting_has_help_and_an_env_name():
    for setting in config.SETTINGS:
        assert setting.help.strip(), setting.name
        assert setting.env == "NEWSDESK_" + setting.name.upper()


def test_public_names_are_pinned():
    assert set(newsdesk.__all__) >= {"Desk", "Item", "Skip", "NewsdeskError", "InputError", "NotFound"}
    for name in newsdesk.__all__:
        assert hasattr(newsdesk, name)


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEWSDESK_MAX_BYTES", "1234")
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE", "yes")
    assert config.get("max_bytes") == 1234
    assert config.get("allow_private") is True
    assert config.get("max_bytes", 99) == 99


def test_ingest_jsonl_then_list_and_show(cli, tmp_path):
    path = tmp_path / "wire.jsonl"
    rows = [
        {"id": "w1", "title": "Dock workers vote to strike", "text": "Workers at the east dock voted on Monday.",
         "published": "2026-11-24T08:00:00+00:00", "source": "Meridian Wire", "url": None, "language": "en"},
        {"id": "w2", "title": "Storm closes coastal road", "text": "The coastal road closed overnight.",
         "published": "2026-11-24T09:00:00+00:00", "source": "Harbor Times", "url": None, "language": "en"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.output
    assert "2 new, 0 already stored, 0 skipped" in result.output
    result = cli("ingest", str(path))
    assert "0 new, 2 already stored, 0 skipped" in result.output

    listed = json.loads(cli("items", "--json").output)
    assert [r["title"] for r in listed] == ["Storm closes coastal road", "Dock workers vote to strike"]
    shown = json.loads(cli("show", "w1", "--json").output)
    assert shown["source"] == "Meridian Wire"
    assert len(shown["sightings"]) == 2
    stats = json.loads(cli("stats", "--json").output)
    assert stats["items"] == 2


def test_show_names_the_template_lines_dropped_from_an_item(cli, tmp_path):
    places = ["north dock", "south road", "east bridge", "west school"]
    rows = [{"id": f"h{k}", "title": f"Works on the {p}", "source": "Harbor Times",
             "text": f"Photo\nCrews began works on the {p} on day {k}, the council said.\n"
                     f"Follow Harbor Times on X"} for k, p in enumerate(places)]
    path = tmp_path / "harbor.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert cli("ingest", str(path)).exit_code == 0
    out = cli("show", "h3").output
    assert "template lines, dropped from the text: Photo | Follow Harbor Times on X" in out
    assert "Crews began works on the west school on day 3" in out and "\nPhoto\n" not in out
    assert "template lines" not in cli("show", "h2").output  # seen twice before: kept


def test_unknown_item_is_one_line_and_exit_code_3(cli):
    result = cli("show", "nosuchitem")
    assert result.exit_code == 3
    assert result.stderr.strip() == "error: no item 'nosuchitem'"


def test_missing_input_file_is_one_line_and_exit_code_2(cli, tmp_path):
    result = cli("ingest", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2
    assert "missing.jsonl" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_bad_time_option_is_a_usage_error(cli):
    result = cli("items", "--since", "last blue moon")
    assert result.exit_code == 2
    assert "not a time" in result.stderr
