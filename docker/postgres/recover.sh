#!/bin/sh
# Point-in-time recovery of the compose db service (README: "Point-in-time recovery").
# With the db service stopped:
#   docker compose run --rm --no-deps --user postgres --entrypoint /samplemind/recover.sh \
#     db BASEBACKUP_NAME '2026-12-03 10:15:00+00'
# then start db: it replays the archived WAL up to that moment and promotes itself.
set -eu
name=${1:?give a base backup name (manage.py backup --list)}
target=${2:?give the moment to recover to, e.g. '2026-12-03 10:15:00+00'}
backup=/samplemind-data/basebackups/$name
pgdata=${PGDATA:?}
test -f "$backup.json" || { echo "no base backup $name in /samplemind-data/basebackups" >&2; exit 1; }
aside="$pgdata.before-restore-$(date -u +%Y%m%d-%H%M%S)"
mv "$pgdata" "$aside"
mkdir -m 700 "$pgdata"
tar -xzf "$backup/base.tar.gz" -C "$pgdata"
tar -xzf "$backup/pg_wal.tar.gz" -C "$pgdata/pg_wal"
rm -f "$pgdata"/.s.PGSQL.*  # the copied server's socket lock
cat >> "$pgdata/postgresql.auto.conf" <<CONF
restore_command = 'f=/wal-archive/%f.gz; test -f \$f && gzip -dc \$f > %p'
recovery_target_time = '$target'
recovery_target_action = 'promote'
CONF
touch "$pgdata/recovery.signal"
echo "recovery prepared from $name to $target; the data as it was is in $aside"
echo "now: docker compose up -d db, wait for 'database system is ready to accept connections'"
