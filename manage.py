#!/usr/bin/env python
"""Django's command-line utility for SampleMind."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samplemind.settings")
    from django.core.management import execute_from_command_line

    from samplemind.embedded import ServiceError

    try:
        execute_from_command_line(sys.argv)
    except ServiceError as exc:
        sys.exit(f"samplemind: {exc}")


if __name__ == "__main__":
    main()
