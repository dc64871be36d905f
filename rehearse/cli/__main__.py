"""python -m rehearse.cli: the command line."""

from rehearse.cli import main

main()
