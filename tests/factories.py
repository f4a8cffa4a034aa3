"""factory_boy factories shared by the tests."""

import factory

from accounts.models import Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"producer{n}@example.com")
    display_name = factory.Faker("name")
    role = Role.FREE
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


def bearer(user: User) -> dict[str, str]:
    """Headers for a Django test client request signed in with a fresh JWT."""
    from rest_framework_simplejwt.tokens import RefreshToken

    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


def api_key_headers(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def upload_file(
    client, user, path, *, url: str = "/api/v1/audio/upload", field: str = "file", **extra
):
    """POST a file from disk as multipart, signed in as ``user`` with a JWT."""
    with open(path, "rb") as handle:
        data = {field: handle, **extra}
        return client.post(url, data, **bearer(user))


class SampleFactory(factory.django.DjangoModelFactory):
    """A stored sample row with a tiny file; analysis fields filled as if analysed."""

    class Meta:
        model = "library.Sample"

    owner = factory.SubFactory(UserFactory)
    original_filename = factory.Sequence(lambda n: f"sample_{n}.wav")
    name = factory.Sequence(lambda n: f"Sample {n}")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1000
    format = "wav"
    status = "ready"
    duration = 1.0
    file = factory.django.FileField(filename="sample.wav", data=b"RIFF")
