"""Operations: backups and restore, database health reports, slow queries, structured logs.

Nothing here holds product logic; the management commands ``backup``,
``restore`` and ``db_report`` and the nightly backup task call these modules.
"""
