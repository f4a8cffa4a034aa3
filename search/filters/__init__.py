"""The filter vocabulary: every filter a search or the library list takes, declared once.

A filter (:class:`~search.filters.base.Filter`) says its name, label, request
parameters and their validation, its SQL condition (``psycopg.sql``) and its
ORM condition, its facet (if any) and its form widget. Everything else is
derived from :data:`registry`: the API's parameters and OpenAPI schema
(``search.api``, ``library.api``), the filter panel on the library and search
pages (``templates/_filter_panel.html``), validation with the API's error
shape, the facets, and the SQL the search backend runs. Adding a filter is one
``registry.register(...)`` (the product's own are in
:mod:`search.filters.declared`) and its test.
"""

from search.filters.base import Filter, FilterContext
from search.filters.registry import FilterRegistry, registry
from search.filters.values import SearchFilters

__all__ = ["Filter", "FilterContext", "FilterRegistry", "SearchFilters", "registry"]
