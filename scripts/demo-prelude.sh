# Sourced by scripts/demo.sh and scripts/fleet-demo.sh: installs missing
# Debian packages, builds the fota tool, and sets up what both demos use.
#   . "$(dirname "$0")/demo-prelude.sh" <work folder under the checkout>
# Sets top, fota (the tool), work (emptied), server_pid (killed on exit) and
# defines step (a heading).
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" build
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target fota >/dev/null
fota="$top/build/tools/fota"

work="$top/${1:?usage: . demo-prelude.sh WORK-FOLDER}"
rm -rf "$work"
mkdir -p "$work"
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT

step() { printf '\n=== %s\n' "$*"; }
