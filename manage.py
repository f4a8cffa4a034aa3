#!/usr/bin/env python
"""Django's command-line utility for SampleMind."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samplemind.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        if "SECRET_KEY" not in str(exc):
            raise
        # The settings only read the key; the launcher generates it on first use.
        sys.exit(
            "samplemind: SECRET_KEY is unset and the data folder has no secret_key file yet; "
            "set SECRET_KEY, or run through the launcher once "
            "(python -m samplemind.launch -- python manage.py ..., as make run does)"
        )


if __name__ == "__main__":
    main()
