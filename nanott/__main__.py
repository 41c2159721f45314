"""`python -m nanott ...` is the `nanott` command."""
from nanott.command import main

main()
