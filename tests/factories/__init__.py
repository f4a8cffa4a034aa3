"""factory_boy factories per app, and the HTTP helpers the tests share."""

from accounts.models import User

from .accounts import UserFactory
from .billing import SubscriptionFactory
from .library import BatchJobFactory, CollectionFactory, SampleFactory


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


__all__ = [
    "BatchJobFactory",
    "CollectionFactory",
    "SampleFactory",
    "SubscriptionFactory",
    "UserFactory",
    "api_key_headers",
    "bearer",
    "upload_file",
]
