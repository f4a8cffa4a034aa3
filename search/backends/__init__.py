"""Search backends, chosen by alias like Django's cache backends.

``settings.SEARCH_BACKENDS`` maps an alias to ``{"BACKEND": dotted path,
"OPTIONS": {...}}``; ``get_search_backend()`` returns the ``"default"`` one.
Instances are built on first use and rebuilt when the setting changes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from search.backends.base import BaseSearchBackend

DEFAULT_BACKEND = "search.backends.postgres.PostgresSearchBackend"

_backends: dict[str, BaseSearchBackend] = {}


def get_search_backend(alias: str = "default") -> BaseSearchBackend:
    """The backend configured under ``alias`` in ``settings.SEARCH_BACKENDS``."""
    if alias not in _backends:
        _backends[alias] = load_backend(alias)
    return _backends[alias]


def load_backend(alias: str) -> BaseSearchBackend:
    configured = getattr(settings, "SEARCH_BACKENDS", {"default": {"BACKEND": DEFAULT_BACKEND}})
    try:
        config = configured[alias]
    except KeyError:
        raise ImproperlyConfigured(f"SEARCH_BACKENDS has no {alias!r} entry") from None
    try:
        backend_class = import_string(config["BACKEND"])
    except (KeyError, ImportError) as exc:
        raise ImproperlyConfigured(f"SEARCH_BACKENDS[{alias!r}]: {exc}") from exc
    if not issubclass(backend_class, BaseSearchBackend):
        raise ImproperlyConfigured(f"{config['BACKEND']} is not a BaseSearchBackend")
    return backend_class(alias, **config.get("OPTIONS", {}))


@receiver(setting_changed)
def _forget_backends(*, setting: str, **kwargs) -> None:
    if setting == "SEARCH_BACKENDS":
        _backends.clear()
