#!/usr/bin/env bash
# Fails if git tracks a build output: anything under bin/ or .dev/, an
# executable or object file (ELF, Mach-O, PE), or any file over 5 MB.
# Binaries belong in bin/ (ignored) or a release, never in history.
set -euo pipefail
cd "$(dirname "$0")/.."

max=$((5 * 1024 * 1024))
bad=()
while IFS= read -r -d '' f; do
	case "$f" in
	bin/* | .dev/*)
		bad+=("$f (under ${f%%/*}/)")
		continue
		;;
	esac
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	size=$(stat -c %s "$f")
	if [ "$size" -gt "$max" ]; then
		bad+=("$f ($((size / 1024 / 1024)) MB)")
		continue
	fi
	magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
	case "$magic" in
	7f454c46) bad+=("$f (ELF binary)") ;;
	cffaedfe | cefaedfe | feedface | feedfacf | cafebabe) bad+=("$f (Mach-O binary)") ;;
	4d5a*) bad+=("$f (PE binary)") ;;
	esac
done < <(git ls-files -z)

if [ "${#bad[@]}" -gt 0 ]; then
	echo "Tracked build outputs; remove them with git rm --cached and keep them ignored:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	exit 1
fi
