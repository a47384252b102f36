"""`python -m toolfoundry`: the `toolfoundry` command."""

from toolfoundry.cli.main import app

app(prog_name="toolfoundry")
