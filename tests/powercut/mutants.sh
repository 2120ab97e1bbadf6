#!/usr/bin/env bash
# tests/powercut/mutants.sh [MUTANT...]
#
# Does the power-cut harness catch real mistakes? Seeds one bug at a time
# into a copy of the source tree (agent, record store, bootloader), builds
# the copy, runs the update, rollback and bad-region suites against it, and
# reports whether the harness failed, as it must. Not part of ctest: it
# takes about a minute per mutant. Needs python3 and the build dependencies.
# Exit status 0 when every mutant was caught.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fota-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT
command -v python3 >/dev/null || { echo "mutants: python3 is needed"; exit 77; }

# Copy the tracked files, plus the test data path the unit tests expect.
(cd "$src" && git ls-files -z | xargs -0 tar cf - ) | (mkdir -p "$work/tree" && cd "$work/tree" && tar xf -)
cmake -S "$work/tree" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/build" -j2 >/dev/null

cat >"$work/mutate.py" <<'EOF'
import sys
# name: (file, original text, mutated text, what the bug is)
MUTANTS = {
 'activate-order': ('src/activate.c',
  '''    if ((r = fota_save_state(f)) < 0)
        return r;
    /* 2. One atomic boot-data write selects the slot for one trial boot. */
    r = b->set_next(b->ctx, slot);''',
  '''    r = b->set_next(b->ctx, slot);
    if ((r = fota_save_state(f)) < 0)
        return r;''',
  'agent selects the new slot before recording the pending version'),
 'journal-erases-newest': ('src/record.c',
  '''        s->next = ((sector + 1) % sectors) * ss;''',
  '''        s->next = sector * ss; (void)sectors;''',
  'record store erases the sector holding its newest record when it is full'),
 'progress-rounds-up': ('src/internal/slot_writer.h',
  '''    return w->written / ss * ss;''',
  '''    return (w->written + ss - 1) / ss * ss;''',
  'progress record claims the partly written sector'),
 'no-rollback': ('ports/posix/boot.c',
  '''    if (b->data.state[s] == FOTA_IMG_PENDING_VERIFY) {''',
  '''    if (0) {''',
  'bootloader boots an unconfirmed image again instead of rolling back'),
 'no-crc': ('src/record.c',
  '''    if (fota_crc32(0, buf, n) != get_u32(buf + n))
        return 0;''',
  '''    (void)n;''',
  'record store accepts torn records (no CRC check)'),
 'no-readback': ('src/slot_writer.c',
  '''    if (memcmp(got, expect, 32) != 0)
        return fota_fail(rep, FOTA_ERR_FLASH_VERIFY,''',
  '''    if (0)
        return fota_fail(rep, FOTA_ERR_FLASH_VERIFY,''',
  'agent activates without checking the read-back hash'),
 'floor-not-settled': ('src/activate.c',
  '''            if (f->running_state == FOTA_IMG_VALID) {
                /* confirmed, but reset before the floor rose */''',
  '''            if (0) {
                /* confirmed, but reset before the floor rose */''',
  'agent forgets to raise the floor when the confirm outran the state save'),
}
if sys.argv[1] == 'list':
    print(' '.join(MUTANTS))
    sys.exit(0)
path, old, new, what = MUTANTS[sys.argv[1]]
if sys.argv[2] in ('what', 'file'):
    print(what if sys.argv[2] == 'what' else path)
    sys.exit(0)
text = open(path).read()
if old not in text:
    sys.exit('mutant %s: the original text is no longer in %s' % (sys.argv[1], path))
open(path, 'w').write(text.replace(old, new, 1))
EOF

mutants=("$@")
[ ${#mutants[@]} -gt 0 ] || read -r -a mutants <<<"$(python3 "$work/mutate.py" list)"
caught=0
missed=0
for m in "${mutants[@]}"; do
    what=$(python3 "$work/mutate.py" "$m" what)
    file=$(python3 "$work/mutate.py" "$m" file)
    cp "$work/tree/$file" "$work/orig"
    (cd "$work/tree" && python3 "$work/mutate.py" "$m" apply)
    if ! cmake --build "$work/build" -j2 >"$work/build.log" 2>&1; then
        echo "mutant $m: does not build"; tail -5 "$work/build.log"
        cp "$work/orig" "$work/tree/$file"
        missed=$((missed + 1))
        continue
    fi
    set +e
    FOTA_BUILD=$work/build bash "$work/tree/tests/powercut/run.sh" update rollback badregion \
        >"$work/run.log" 2>&1
    rc=$?
    set -e
    first=$(grep -m1 '^FAIL \[' "$work/run.log" | cut -c1-200 || true)
    if [ "$rc" -ne 0 ] && [ -n "$first" ]; then
        echo "CAUGHT  $m ($what): $first"
        caught=$((caught + 1))
    else
        echo "MISSED  $m ($what): the harness passed"
        missed=$((missed + 1))
    fi
    cp "$work/orig" "$work/tree/$file"
done
cmake --build "$work/build" -j2 >/dev/null
echo "mutants: $caught caught, $missed missed"
[ "$missed" -eq 0 ]
