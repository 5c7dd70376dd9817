"""``api.cli.lazy``: ``lhasa-ops`` imports a family's CLI module only when its sub-command runs, and
every sub-command is still listed and runs as before."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from api.cli.lazy import SUBCOMMANDS


def test_importing_the_cli_loads_no_family_module():
    code = ("import sys, api.cli.main; "
            "print(sorted(m for m in sys.modules if m in %r))" % sorted(m for m, _ in SUBCOMMANDS.values()))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_every_subcommand_listed_and_loaded_on_use():
    from api.cli.main import app

    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in top.output
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)
        assert "Commands" in sub.output
    assert runner.invoke(app, ["no-such-family"]).exit_code == 2
