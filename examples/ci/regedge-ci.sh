#!/bin/sh
# shellcheck disable=SC2016 # backquotes in printf formats are Markdown's
# regedge-ci.sh: the steps of a regedge policy repository's CI, one
# subcommand each, so that GitHub Actions, GitLab, Jenkins and a laptop run
# the same commands. README.md beside this file says how to adopt it.
#
# It reaches no network itself (only regedge feeds update does), writes
# nothing but what a step names (the feed snapshots, OUT, the Markdown file)
# and its own temporary folder, and deletes only that folder.

set -eu

prog='regedge-ci'

usage() {
	cat <<'EOF'
Usage: regedge-ci.sh STEP [OPTIONS]

Steps:
  refresh   regedge feeds update: refresh the policy's feed snapshots
  check     regedge check -strict: errors and warnings fail
  build     regedge build: regenerate OUT
  stale     fail unless OUT is what the policy builds and is committed
  diff      the routing changes from OUT at a git revision to OUT here,
            as Markdown for a pull request

Options of every step (or the environment variable):
  -policy FILE     REGEDGE_POLICY    the policy (default policy.hcl)
  -override FILE   REGEDGE_OVERRIDE  an override file (default none)
  -out DIR         REGEDGE_OUT       the output folder (default out)
                   REGEDGE           the regedge command (default regedge)
Options of diff:
  -base REV        the git revision whose OUT is the old side (default HEAD)
  -markdown FILE   also write the Markdown to FILE
  -max-bytes N     cut the Markdown in FILE to at most N bytes (at least 1024)
  -exit-code       exit 2 when routing changes

Exit status:
  0   success (diff -exit-code: no routing change)
  1   the step failed: regedge reported errors, or OUT holds no plan
  2   diff -exit-code: routing changes
  3   stale: OUT is not what the policy builds, or not what is committed
  64  usage: an unknown step or option, regedge or git missing, not a git
      work tree, or a base revision that does not exist
EOF
}

say() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage_error() {
	say "$*"
	echo "Run 'regedge-ci.sh -h' for the steps and options." >&2
	exit 64
}

# fail ends a failed step with status 1; the tool's own messages are above.
fail() {
	say "$*"
	exit 1
}

[ $# -gt 0 ] || usage_error "name a step: refresh, check, build, stale or diff"
step=$1
shift
case $step in
refresh | check | build | stale | diff) ;;
-h | -help | --help | help)
	usage
	exit 0
	;;
*) usage_error "unknown step \"$step\"; the steps are refresh, check, build, stale and diff" ;;
esac

policy=${REGEDGE_POLICY:-policy.hcl}
override=${REGEDGE_OVERRIDE:-}
out=${REGEDGE_OUT:-out}
regedge=${REGEDGE:-regedge}
base=HEAD
markdown=
max_bytes=0
exit_code=false

while [ $# -gt 0 ]; do
	case $1 in
	-policy | -override | -out | -base | -markdown | -max-bytes)
		if [ $# -lt 2 ] || [ -z "$2" ]; then
			usage_error "$1 needs a value"
		fi
		case $1 in
		-base | -markdown | -max-bytes)
			[ "$step" = diff ] || usage_error "$1 is an option of diff, not of $step"
			;;
		esac
		case $1 in
		-policy) policy=$2 ;;
		-override) override=$2 ;;
		-out) out=$2 ;;
		-base) base=$2 ;;
		-markdown) markdown=$2 ;;
		-max-bytes) max_bytes=$2 ;;
		esac
		shift 2
		;;
	-exit-code)
		[ "$step" = diff ] || usage_error "-exit-code is an option of diff, not of $step"
		exit_code=true
		shift
		;;
	-h | -help | --help)
		usage
		exit 0
		;;
	*) usage_error "$step: unknown option or argument \"$1\"" ;;
	esac
done

case $max_bytes in
'' | *[!0-9]*) usage_error "-max-bytes $max_bytes: give a number of bytes, such as 60000" ;;
esac
if [ "$max_bytes" -ne 0 ] && [ "$max_bytes" -lt 1024 ]; then
	usage_error "-max-bytes $max_bytes: give at least 1024"
fi

# OUT as git and the messages name it: no trailing slash, no leading ./.
while :; do
	case $out in
	*?/) out=${out%/} ;;
	./?*) out=${out#./} ;;
	*) break ;;
	esac
done

command -v "$regedge" >/dev/null 2>&1 ||
	usage_error "$regedge: command not found; install regedge (go install github.com/regedge/regedge/compiler/cmd/regedge@VERSION) or name it in REGEDGE"

# The policy arguments every regedge command gets.
set -- -policy "$policy"
if [ -n "$override" ]; then
	set -- "$@" -override "$override"
fi

# run prints a regedge command, runs it, and ends the step with status 1
# if it fails.
run() {
	say "$step: $*"
	"$@" || fail "$step failed: $1 exited with status $?"
}

need_git() {
	command -v git >/dev/null 2>&1 || usage_error "$step needs git, which is not installed"
	[ "$(git rev-parse --is-inside-work-tree 2>/dev/null)" = true ] ||
		usage_error "$step needs the policy repository's git work tree; run it there"
}

# tmp is this run's temporary folder, the only thing it deletes.
tmp=
make_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/regedge-ci.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# changed_files lists, one a line, the files that differ between folders
# $1 and $2 (missing, extra, or with other contents), relative to them.
changed_files() {
	(cd "$1" && find . -type f) >"$tmp/files.a"
	(cd "$2" && find . -type f) >"$tmp/files.b"
	sort -u "$tmp/files.a" "$tmp/files.b" | while IFS= read -r f; do
		if [ ! -f "$1/$f" ]; then
			echo "  missing: ${f#./}"
		elif [ ! -f "$2/$f" ]; then
			echo "  not built: ${f#./}"
		elif ! cmp -s "$1/$f" "$2/$f"; then
			echo "  differs: ${f#./}"
		fi
	done
}

step_stale() {
	need_git
	make_tmp
	say "stale: $regedge build $* -out (a temporary folder)"
	"$regedge" build "$@" -out "$tmp/out" >&2 || fail "stale failed: $regedge build exited with status $?"
	if [ ! -d "$out" ]; then
		say "$out is stale: it is not a folder; run 'regedge-ci.sh build', then commit $out"
		exit 3
	fi
	changed_files "$tmp/out" "$out" >"$tmp/changed"
	if [ -s "$tmp/changed" ]; then
		say "$out is stale: it is not what $policy and its feeds build:"
		cat "$tmp/changed" >&2
		say "run 'regedge-ci.sh build' (regedge build $* -out $out), then commit $out"
		exit 3
	fi
	if [ -z "$(git ls-files -- "$out")" ]; then
		say "$out is stale: git tracks none of it (is it in .gitignore?); commit $out"
		exit 3
	fi
	git status --porcelain --untracked-files=all -- "$out" >"$tmp/status"
	if [ -s "$tmp/status" ]; then
		say "$out is stale: it is what $policy builds, but not what is committed:"
		sed 's/^/  /' "$tmp/status" >&2
		say "commit $out"
		exit 3
	fi
	say "$out is up to date: it is what $policy builds, and committed"
}

# plans lists the plan.json files of a build folder, relative to it: its
# own, or one per deployment. $1 is a command that lists the folder's
# entries and $2 one that says whether a file exists, so that the same
# code reads the working tree and a git revision.
plans() {
	if $2 "$out/plan.json"; then
		echo plan.json
		return
	fi
	$1 | while IFS= read -r entry; do
		name=${entry##*/}
		case $name in
		'' | *[!a-z0-9_-]*) continue ;; # not a deployment's folder
		esac
		if $2 "$out/$name/plan.json"; then
			echo "$name/plan.json"
		fi
	done
}

here_list() {
	for entry in "$out"/*; do
		if [ -d "$entry" ]; then
			echo "$entry"
		fi
	done
}
here_exists() { [ -f "$1" ]; }
base_list() { git ls-tree --name-only "$base" -- "$out/"; }
base_exists() { git cat-file -e "$base:./$1" 2>/dev/null; }

# diff_one appends to the Markdown the changes of one plan ($1, relative
# to OUT), and records whether routing changed.
diff_one() {
	case $1 in
	*/*) printf '### Deployment `%s`\n\n' "${1%%/*}" >>"$tmp/md" ;;
	esac
	if ! grep -qxF "$1" "$tmp/plans.base"; then
		printf '`%s` at `%s` does not exist: everything in it is new.\n' "$out/$1" "$base" >>"$tmp/md"
		changed=true
		return
	fi
	if ! grep -qxF "$1" "$tmp/plans.here"; then
		printf 'This change removes `%s`.\n' "$out/$1" >>"$tmp/md"
		changed=true
		return
	fi
	git show "$base:./$out/$1" >"$tmp/base.json"
	status=0
	"$regedge" diff -old "$tmp/base.json" -new "$out/$1" -exit-code >"$tmp/part" || status=$?
	case $status in
	0) ;;
	2) changed=true ;;
	*) fail "diff failed: $regedge diff of $out/$1 exited with status $status" ;;
	esac
	cat "$tmp/part" >>"$tmp/md"
}

step_diff() {
	need_git
	case $out in
	/*) usage_error "diff reads $out in git too: give -out relative to the current folder" ;;
	esac
	commit=$(git rev-parse --verify --quiet --short "$base^{commit}") ||
		usage_error "-base $base is not a commit here; fetch it first, such as: git fetch --depth=1 origin main"
	make_tmp
	plans here_list here_exists >"$tmp/plans.here"
	[ -s "$tmp/plans.here" ] || fail "$out holds no plan.json; run 'regedge-ci.sh build' first"
	plans base_list base_exists >"$tmp/plans.base"
	say "diff: $out at $base ($commit) → $out here"
	{
		echo '<!-- regedge-ci diff -->'
		printf 'regedge diff from `%s` at `%s` (`%s`) to `%s` in this change:\n' "$out" "$base" "$commit" "$out"
	} >"$tmp/md"
	changed=false
	sort -u "$tmp/plans.here" "$tmp/plans.base" >"$tmp/plans"
	while IFS= read -r p; do
		echo >>"$tmp/md"
		diff_one "$p"
	done <"$tmp/plans"
	cat "$tmp/md"
	if [ -n "$markdown" ]; then
		size=$(wc -c <"$tmp/md")
		if [ "$max_bytes" -gt 0 ] && [ "$((size + 0))" -gt "$max_bytes" ]; then
			# Whole lines, counted in bytes (LC_ALL=C), leaving room for the note.
			LC_ALL=C awk -v max="$((max_bytes - 200))" '{ n += length($0) + 1; if (n > max) exit; print }' "$tmp/md" >"$tmp/cut"
			printf '\n*Cut at %s bytes: the whole diff is in the log, or run regedge-ci.sh diff.*\n' "$max_bytes" >>"$tmp/cut"
			mv "$tmp/cut" "$tmp/md"
		fi
		cat "$tmp/md" >"$markdown" || fail "diff failed: cannot write $markdown"
	fi
	if [ "$changed" = true ]; then
		say "diff: routing changes${markdown:+ (Markdown in $markdown)}"
		[ "$exit_code" = false ] || exit 2
	else
		say "diff: no routing change${markdown:+ (Markdown in $markdown)}"
	fi
}

case $step in
refresh) run "$regedge" feeds update "$@" ;;
check) run "$regedge" check -strict "$@" ;;
build) run "$regedge" build "$@" -out "$out" ;;
stale) step_stale "$@" ;;
diff) step_diff ;;
esac
