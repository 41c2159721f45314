"""`python -m nanott ...` is the `nanott` command."""
from nanott.cli import app

app(prog_name="nanott")
