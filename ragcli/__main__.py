"""`python -m ragcli`, and the `ragcli` script's entry point: nothing but the command line's import.

Importing the command line takes about half a second; a Ctrl-C meanwhile, before `ragcli.cli` can
handle it, printed that import's traceback. Here it ends as a Ctrl-C later does: one line, exit 130.
"""

import signal
import sys


def main() -> None:
    """Console-script entry point."""
    try:
        from ragcli.cli import main as run_command_line
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cuts nothing short
        from ragcli.errors import ExitCode

        sys.stderr.write("ragcli: error: interrupted\n")
        sys.exit(int(ExitCode.INTERRUPTED))
    run_command_line()


if __name__ == "__main__":
    main()
