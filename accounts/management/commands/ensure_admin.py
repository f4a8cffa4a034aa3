"""Create the admin account from ADMIN_EMAIL / ADMIN_PASSWORD, or with a generated password."""

import os

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.services import admin_ensure

DEFAULT_EMAIL = "admin@localhost"


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        email = os.environ.get("ADMIN_EMAIL", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if not email and not password:
            existing = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
            if existing:
                self.stdout.write(f"Admin login: {existing.email} (password unchanged)")
                return
        user, generated = admin_ensure(email=email or DEFAULT_EMAIL, password=password or None)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Admin login: {user.email} / {generated}  (generated now and shown only once)"
                )
            )
        elif password:
            self.stdout.write(f"Admin login: {user.email} (password from ADMIN_PASSWORD)")
        else:
            self.stdout.write(f"Admin login: {user.email} (password unchanged)")
