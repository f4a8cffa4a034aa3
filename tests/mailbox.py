"""Reading the site's mails in tests: the links in them, and confirming an address."""

from __future__ import annotations

import re

from django.core.mail import EmailMessage
from django.test import Client


def link_in(message: EmailMessage) -> str:
    """The path of the only site link in a mail (the host is the request's)."""
    urls = re.findall(r"https?://[^/\s]+(/\S+)", message.body)
    assert len(urls) == 1, message.body
    return urls[0]


def confirm_address(client: Client, message: EmailMessage):
    """Follow a sign-up mail's confirmation link and confirm, as its reader would.

    The confirmation page asks for a click (a POST), so a mail scanner that only
    opens the link confirms nothing. Returns the response to that POST.
    """
    path = link_in(message)
    assert path.startswith("/accounts/confirm-email/"), message.body
    assert client.get(path).status_code == 200
    return client.post(path)
