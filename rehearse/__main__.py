"""python -m rehearse: the command line."""

from rehearse.cli import main

main()
