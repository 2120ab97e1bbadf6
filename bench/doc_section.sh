# shellcheck shell=bash
# doc_section FILE NAME: replace the section NAME of FILE (docs/bench.md)
# with standard input, or append it when FILE has none. A section runs from
# the line "<!-- bench:NAME -->" to "<!-- /bench:NAME -->", markers included,
# so each benchmark regenerates its own part and the others stay as they are.
doc_section() {
    local file=$1 name=$2 body
    body=$(mktemp)
    { echo "<!-- bench:$name -->"; cat; echo "<!-- /bench:$name -->"; } >"$body"
    if [ -f "$file" ] && grep -qx "<!-- bench:$name -->" "$file"; then
        awk -v name="$name" -v body="$body" '
            $0 == "<!-- bench:" name " -->" { while ((getline l < body) > 0) print l; skip = 1; next }
            $0 == "<!-- /bench:" name " -->" { skip = 0; next }
            !skip' "$file" >"$file.new"
        mv "$file.new" "$file"
    else
        { [ -s "$file" ] && echo; cat "$body"; } >>"$file"
    fi
    rm -f "$body"
}
