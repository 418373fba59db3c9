"""docs/emulator.md covers what a user running the emulator by hand needs, and --help says
where it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secretsync.emulator.cli import _parser
from secretsync.emulator.config import EmulatorConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()


def test_help_points_at_the_page(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["--help"])
    assert "docs/emulator.md" in capsys.readouterr().out


def test_every_flag_and_knob_is_documented():
    flags = {o for a in _parser()._actions for o in a.option_strings if o.startswith("--")}
    missing = sorted(f for f in flags - {"--help"} if f"`{f}" not in DOC)
    assert not missing
    knobs = {name for name in EmulatorConfig().public() if name != "tokens_count"}
    assert not sorted(k for k in knobs if f"`{k}`" not in DOC)


def test_every_admin_route_is_documented():
    import secretsync.emulator.server as server

    source = Path(server.__file__).read_text()
    routes = set(re.findall(r'"(stats|log|state|reset-stats|config)"', source))
    assert routes and not sorted(r for r in routes if f"/_emulator/{r}" not in DOC)
