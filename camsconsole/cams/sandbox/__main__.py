"""`python -m camsconsole.cams.sandbox [options]`: the sandbox without Django."""

from __future__ import annotations

import argparse
import sys

from camsconsole.cams.sandbox import add_arguments, config_from_options, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m camsconsole.cams.sandbox", description="Run the local CAMS sandbox."
    )
    add_arguments(parser)
    try:
        config = config_from_options(vars(parser.parse_args(argv)))
    except ValueError as exc:
        parser.error(str(exc))
    serve(config)  # until Ctrl-C or SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())
