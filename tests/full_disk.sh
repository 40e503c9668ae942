#!/bin/sh
# Run by test_damage.py inside `unshare -Urm`: a small tmpfs runs out of space under a
# crawl, a diff and a wacz; prints key=value facts for the test to check.
set -u
mount -t tmpfs -o size=$SIZE tmpfs "$OUT"
py="$PYTHON -m pilotarchive"
$py crawl "$URL/seutukaupunkipilotit" --output "$OUT/o" --fast-loopback > /dev/null 2>&1 || echo FIRST-FAILED
first=$(ls "$OUT/o/snapshots")
# Fill the disk, leaving a little room: the next crawl runs out of space midway.
dd if=/dev/zero of="$OUT/ballast" bs=1k count=100000 2>/dev/null
rm "$OUT/ballast"; dd if=/dev/zero of="$OUT/ballast" bs=1k count=$(( $(df -k --output=avail "$OUT" | tail -1) - $ROOM )) 2>/dev/null
$py crawl "$URL/seutukaupunkipilotit" --output "$OUT/o" --fast-loopback -s PILOTARCHIVE_CONDITIONAL=false -s PILOTARCHIVE_DEDUP=false > "$LOG/crawl.out" 2> "$LOG/crawl.err"; echo "crawl-exit=$?"
echo "crawl-err=$(tail -1 "$LOG/crawl.err")"
$py validate "$first" --output "$OUT/o" > /dev/null 2>&1; echo "first-valid=$?"
echo "snapshots=$(ls -A "$OUT/o/snapshots" | tr '\n' ' ')"
rm -f "$OUT/ballast"; dd if=/dev/zero of="$OUT/ballast" bs=1k count=100000 2>/dev/null; dd if=/dev/zero of="$OUT/ballast2" bs=1 count=100000 2>/dev/null
$py diff "$first" "$first" --output "$OUT/o" --format html --file "$OUT/o/diff.html" > /dev/null 2> "$LOG/diff.err"; echo "diff-exit=$?"
echo "diff-err=$(cat "$LOG/diff.err")"
$py wacz "$first" --output "$OUT/o" --file "$OUT/o/x.wacz" > /dev/null 2> "$LOG/wacz.err"; echo "wacz-exit=$?"
echo "wacz-err=$(cat "$LOG/wacz.err")"
echo "left=$(ls -A "$OUT/o" | tr '\n' ' ')"
$py export --output "$OUT/o" --to "$OUT/o/ds" > /dev/null 2> "$LOG/export.err"; echo "export-exit=$?"
echo "export-err=$(cat "$LOG/export.err")"
echo "left-after-export=$(ls -A "$OUT/o" | tr '\n' ' ')"
