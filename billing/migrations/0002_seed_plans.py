"""One plan per sellable role. Prices and Stripe price ids are edited in the admin;
the quotas are never stored here: they are the role's row of accounts.rbac.ROLE_QUOTAS."""

from django.db import migrations

PLANS = (
    ("free", "Free", "For trying SampleMind with a small library.", 0),
    ("pro", "Pro", "For producers with a growing library: sharing, batches, similar sounds.", 900),
    ("studio", "Studio", "For studios and power users: big libraries and advanced search.", 2900),
    ("enterprise", "Enterprise", "Unlimited storage and uploads for teams.", 9900),
)


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for code, name, description, price_cents in PLANS:
        Plan.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "price_cents": price_cents},
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
