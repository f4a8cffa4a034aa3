"""Factories for the accounts app."""

import factory
from allauth.account.models import EmailAddress

from accounts.models import Role, User

# Every factory-made account signs in with this password.
PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    """An account whose owner has confirmed the address, as after following the sign-up mail.

    ``UserFactory(email_verified=False)``: one that never did (sign-in is refused
    with ``ACCOUNT_EMAIL_VERIFICATION=mandatory``, the default).
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"producer{n}@example.com")
    display_name = factory.Faker("name")
    role = Role.FREE
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()

    @factory.post_generation
    def email_verified(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            # allauth's record of the address, as its sign-up and confirmation leave it.
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )
