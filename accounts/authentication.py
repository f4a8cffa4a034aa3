"""DRF authentication by API key: ``Authorization: Api-Key sm_live_...``."""

from __future__ import annotations

import ipaddress

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiKey, User
from accounts.network import client_ip
from accounts.services import api_key_hash, api_key_touch

KEYWORD = b"api-key"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates as the key's owner; ``request.auth`` is the :class:`ApiKey`.

    Revoked and expired keys, keys of inactive accounts and keys used from
    outside their CIDR allowlist are refused. Scopes are checked by
    :func:`accounts.rbac.has_permission`, which finds the key on the user
    (``acting_api_key``), and by the permission classes.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Api-Key <key>'.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = (
            ApiKey.objects.select_related("owner").filter(secret_hash=api_key_hash(secret)).first()
        )
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        if key.allowed_cidrs and not _address_allowed(request, key.allowed_cidrs):
            raise exceptions.PermissionDenied("This API key may not be used from your address.")
        api_key_touch(key=key)
        # Permission checks deeper down (services given request.user) see the key's scopes.
        key.owner.acting_api_key = key
        return key.owner, key

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"


def _address_allowed(request: Request, cidrs: list[str]) -> bool:
    ip = client_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)
