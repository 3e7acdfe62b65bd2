#!/usr/bin/env bash
# Restore the previous release's demo database (previous-release.sql.gz), migrate it with this
# code, and check it (check.py). Needs PostgreSQL at PGHOST (default 127.0.0.1) as `postgres`
# and uv; run by .ci/run, or by hand: bash .ci/upgrade/run.sh
#
# To refresh the dump at a release: check out the release, migrate an empty database,
# `python manage.py seed_demo`, then
#   pg_dump --no-owner --no-privileges DB | gzip -9 > .ci/upgrade/previous-release.sql.gz
# and write the release's commit into .ci/upgrade/RELEASE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
UV=${UV:-uv}
host=${PGHOST:-127.0.0.1}
db=sodium_upgrade_check
psql -h "$host" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
psql -h "$host" -U postgres -d postgres -qc "CREATE DATABASE $db"
gunzip -c .ci/upgrade/previous-release.sql.gz \
  | psql -h "$host" -U postgres -d "$db" -q -v ON_ERROR_STOP=1 >/dev/null
echo "restored the demo database of $(cut -c1-12 .ci/upgrade/RELEASE)"
export DATABASE_URL="postgres://postgres@$host:5432/$db"
counts=$(mktemp)
$UV run --frozen python .ci/upgrade/check.py --count "$counts"
$UV run --frozen python manage.py migrate --noinput
$UV run --frozen python .ci/upgrade/check.py "$counts"
rm -f "$counts"
psql -h "$host" -U postgres -d postgres -qc "DROP DATABASE $db WITH (FORCE)"
