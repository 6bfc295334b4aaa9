#!/bin/sh
# Regenerate python-layouts/*.layout from the DWARF builds they came from.
#
#   tools/regen-layouts.sh BUILD-DIR
#
# Each line of SOURCES below names a table, the micro releases it covers,
# the exact version of the build, where that build's DWARF is, and a note.
# A source missing on this machine is reported and its table left as is.
# The 3.14.0-3.14.4 table is derived from the 3.14.5+ one (no DWARF build of
# those releases was available): see the last step.
set -eu
build=${1:?usage: regen-layouts.sh BUILD-DIR}
gen="$build/hs-layout-gen"
out="$(dirname "$0")/../python-layouts"
pyenv=${PYENV_ROOT:-/root/.pyenv}/versions
cache=/var/cache/heapscope
sid=$cache/chroots/sid/usr/lib/debug/.build-id

# table      covers              python  dwarf-file                                         origin
SOURCES="
3.8.layout   3.8.0-3.8.99        3.8.18  $pyenv/3.8.18/lib/libpython3.8.so.1.0              pyenv 3.8.18 (--enable-shared)
3.9.layout   3.9.0-3.9.99        3.9.18  $pyenv/3.9.18/lib/libpython3.9.so.1.0              pyenv 3.9.18 (--enable-shared)
3.10.layout  3.10.0-3.10.99      3.10.13 $pyenv/3.10.13/lib/libpython3.10.so.1.0            pyenv 3.10.13 (--enable-shared)
3.11.layout  3.11.0-3.11.99      3.11.7  $pyenv/3.11.7/lib/libpython3.11.so.1.0             pyenv 3.11.7 (--enable-shared); identical to Debian 12 python3.11 3.11.2-6+deb12u9
3.12.layout  3.12.0-3.12.99      3.12.1  $pyenv/3.12.1/lib/libpython3.12.so.1.0             pyenv 3.12.1 (--enable-shared)
3.13.0.layout 3.13.0-3.13.4      3.13.0  $pyenv/3.13.0/lib/libpython3.13.so.1.0             pyenv 3.13.0 (--enable-shared)
3.13.5.layout 3.13.5-3.13.17     3.13.5  $cache/trixie-dbg/root/usr/lib/debug/.build-id/7e/8d5f6d0cd6cd1e9bff2a775c11d398cecca758.debug  Debian 13 python3.13 3.13.5-2+deb13u5 (python3.13-dbg)
3.13.18.layout 3.13.18-3.13.99   3.13.18 $sid/f9/de766c3a031e0782095d175ff04e394a2744d2.debug  Debian sid python3.13 3.13.18-1 (python3.13-dbg)
3.14.5.layout 3.14.5-3.14.99     3.14.10 $sid/cc/cda113240f3ba4c016991793a62dc0cfe01613.debug  Debian sid python3.14 3.14.10-1 (python3.14-dbg)
3.15.layout  3.15.0-3.15.99      3.15.2  $sid/d4/1ac9e28ff414f10df5da23fb051683a7b4adcf.debug  Debian sid python3.15 3.15.2-1 (python3.15-dbg)
"

echo "$SOURCES" | while read -r table covers python file origin; do
	[ -n "$table" ] || continue
	if [ ! -r "$file" ]; then
		echo "regen-layouts: $table: $file not found, table kept" >&2
		continue
	fi
	"$gen" --python "$python" --covers "$covers" --origin "$origin" "$file" >"$out/$table.tmp"
	mv "$out/$table.tmp" "$out/$table"
	echo "regen-layouts: $table from $file"
done

# 3.14.0-3.14.4 ran the incremental collector: _gc_runtime_state was 240
# bytes (young, old[2] in place of generations[3]; no generation0 and no
# long_lived_* fields), so every PyInterpreterState field after `gc` sat 24
# bytes lower.  The list heads, permanent generation and `collecting` keep
# their offsets (cpython-internals.md 2.3).
python3 "$(dirname "$0")/derive-layout.py" "$out/3.14.5.layout" --covers 3.14.0-3.14.4 \
	--origin "derived from 3.14.5.layout: incremental-GC _gc_runtime_state (240 bytes), PyInterpreterState fields after gc 24 bytes lower" \
	--size GC_STATE=240 --shift-after IS_GC:-24 >"$out/3.14.0.layout"
echo "regen-layouts: 3.14.0.layout derived from 3.14.5.layout"
