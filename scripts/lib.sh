# scripts/lib.sh: helpers shared by scripts/setup, cluster, quickstart and test-all.
# It is sourced, never run.  It knows where PostgreSQL 15 lives, which OS user runs the
# private server, where that server keeps its state, and how to install and build.
# Design: every script recomputes the user, the state dir and the socket dir the same
# way (vs_resolve), so `scripts/cluster env` always names the cluster `start` made.
# shellcheck shell=bash disable=SC2034  # the VS_* settings are read by the scripts
set -euo pipefail

VS_REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
VS_PGBIN=${VSEARCH_PGBIN:-/usr/lib/postgresql/15/bin}
VS_PG_CONFIG=$VS_PGBIN/pg_config
VS_PGXS=/usr/lib/postgresql/15/lib/pgxs
VS_PG_REGRESS=$VS_PGXS/src/test/regress/pg_regress
VS_TAP_PERL=$VS_PGXS/src/test/perl
# Debian's interpreter, not whatever python3 comes first in PATH (pyenv, venvs):
# python3-psycopg is installed for this one.
VS_PYTHON=/usr/bin/python3
VS_DB=vsearch
VS_PORT=${VSEARCH_PORT:-54329}
VS_DEFAULT_USER=vsearch

# Debian packages the scripts, the tests and the benchmark need.  pg_prove is shipped
# by libtap-parser-sourcehandler-pgtap-perl (dpkg -S /usr/bin/pg_prove), not by pgtap;
# PostgreSQL::Test::Cluster and pg_regress come with postgresql-client-15.
VS_PACKAGES=(
	build-essential
	postgresql-15
	postgresql-server-dev-15
	postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	python3
	python3-psycopg
	dataset-fashion-mnist
	clang
	libclang-rt-14-dev
	sqlsmith
	clang-tools
	cppcheck
)

# runuser, useradd and friends live in sbin, which a normal user's PATH may lack.
case ":$PATH:" in
	*:/usr/sbin:*) ;;
	*) PATH=$PATH:/usr/sbin:/sbin ;;
esac
export PATH

# vs_say prints a progress line on stderr, so stdout stays clean for `cluster env`.
vs_say() {
	printf '==> %s\n' "$*" >&2
}

# vs_die prints an error on stderr and exits the calling script with status 1.
vs_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

vs_is_root() {
	[[ $(id -u) -eq 0 ]]
}

# vs_need_root re-runs the calling script as root with `sudo -E`, keeping its arguments
# and environment (VSEARCH_*, CI); it returns at once when already root.
vs_need_root() {
	vs_is_root && return 0
	command -v sudo >/dev/null 2>&1 ||
		vs_die "this step installs packages and needs root; run it as root or install sudo"
	local self
	self=$(cd -- "$(dirname -- "$0")" && pwd -P)/$(basename -- "$0")
	vs_say "re-running as root: sudo -E $self $*"
	exec sudo -E bash "$self" "$@"
}

# vs_check_port refuses a VSEARCH_PORT that is not a TCP port number.
vs_check_port() {
	if ! [[ $VS_PORT =~ ^[0-9]{4,5}$ ]] || ((10#$VS_PORT < 1024 || 10#$VS_PORT > 65535)); then
		vs_die "VSEARCH_PORT must be a number from 1024 to 65535, not \"$VS_PORT\""
	fi
}

vs_user_exists() {
	id -u -- "$1" >/dev/null 2>&1
}

# vs_as_user_in DIR CMD... runs CMD as the server user with DIR as working directory.
# The environment passes through unchanged except HOME, SHELL, USER and LOGNAME.
vs_as_user_in() {
	local dir=$1
	shift
	if [[ $(id -un) == "$VS_USER" ]]; then
		(cd -- "$dir" && "$@")
	elif vs_is_root; then
		(cd -- "$dir" && runuser -u "$VS_USER" -- "$@")
	else
		vs_die "cannot run commands as $VS_USER without root"
	fi
}

# vs_as_user CMD... runs CMD as the server user from /, which every user may enter
# (a root shell's working directory is often /root, mode 700).
vs_as_user() {
	vs_as_user_in / "$@"
}

# vs_repo_owner prints the user who should own files written into the repo: the person
# behind sudo when the checkout is theirs, else nobody (empty), meaning "whoever runs".
vs_repo_owner() {
	if vs_is_root && [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]] &&
		[[ $(stat -c %U -- "$VS_REPO") == "$SUDO_USER" ]]; then
		printf '%s\n' "$SUDO_USER"
	fi
}

# vs_as_repo_owner CMD... runs CMD in the repo as vs_repo_owner, so a developer's
# checkout does not fill up with root-owned build products and test results.
vs_as_repo_owner() {
	local owner
	owner=$(vs_repo_owner)
	if [[ -n $owner ]]; then
		(cd -- "$VS_REPO" && runuser -u "$owner" -- "$@")
	else
		(cd -- "$VS_REPO" && "$@")
	fi
}

# vs_resolve [create] sets VS_USER (the OS user that runs the server), VS_STATE (its
# state dir), VS_DATA, VS_SOCK and VS_LOG, with VS_USER_WHY and VS_STATE_WHY saying why.
# With "create" it may add the system user `vsearch`; without, it only reads.
#
# User: VSEARCH_USER, else the caller when not root, else SUDO_USER, else `vsearch`; a
# cluster already in the repo keeps its owner unless VSEARCH_USER says otherwise.
# State dir: VSEARCH_STATE_DIR, else $REPO/.cluster when the user can reach it, else
# /tmp/vsearch-cluster-<uid> (a clone under /root, mode 700, is the usual reason).
vs_resolve() {
	local mode=${1:-}
	local repo_state=$VS_REPO/.cluster

	vs_check_port
	if [[ -n ${VSEARCH_USER:-} ]]; then
		VS_USER=$VSEARCH_USER
		VS_USER_WHY="from VSEARCH_USER"
	elif ! vs_is_root; then
		VS_USER=$(id -un)
		VS_USER_WHY="the calling user"
	elif [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
		VS_USER=$SUDO_USER
		VS_USER_WHY="SUDO_USER"
	else
		VS_USER=$VS_DEFAULT_USER
		VS_USER_WHY="default for root"
	fi
	if [[ -z ${VSEARCH_USER:-} && -z ${VSEARCH_STATE_DIR:-} && -f $repo_state/data/PG_VERSION ]]; then
		local owner
		owner=$(stat -c %U -- "$repo_state/data")
		if [[ $owner != "$VS_USER" && $owner != UNKNOWN && $owner != root ]] && vs_is_root; then
			VS_USER=$owner
			VS_USER_WHY="owner of the cluster in $repo_state"
		fi
	fi
	[[ $VS_USER != root ]] ||
		vs_die "PostgreSQL refuses to run as root; set VSEARCH_USER to an unprivileged user"

	if ! vs_user_exists "$VS_USER"; then
		if [[ $mode == create && $VS_USER == "$VS_DEFAULT_USER" ]] && vs_is_root; then
			vs_say "creating system user $VS_USER to run PostgreSQL"
			useradd --system --create-home --shell /bin/bash "$VS_USER"
		else
			vs_die "user $VS_USER does not exist; run scripts/cluster start as root first"
		fi
	fi

	if [[ -n ${VSEARCH_STATE_DIR:-} ]]; then
		VS_STATE=$VSEARCH_STATE_DIR
		VS_STATE_WHY="from VSEARCH_STATE_DIR"
	elif vs_as_user test -x "$VS_REPO" &&
		{ if [[ -d $repo_state ]]; then
			vs_as_user test -w "$repo_state" -a -x "$repo_state"
		else
			vs_is_root || vs_as_user test -w "$VS_REPO"
		fi; }; then
		VS_STATE=$repo_state
		VS_STATE_WHY="inside the repo"
	else
		VS_STATE=/tmp/vsearch-cluster-$(id -u -- "$VS_USER")
		VS_STATE_WHY="user $VS_USER cannot use $repo_state"
	fi
	VS_DATA=$VS_STATE/data
	VS_LOG=$VS_STATE/postgresql.log
	VS_SOCK=$VS_STATE/socket
	# A Unix socket path holds at most 107 bytes; deep checkouts overflow it.
	if ((${#VS_SOCK} + ${#VS_PORT} + 12 > 100)); then
		VS_SOCK=/tmp/vsearch-socket-$(id -u -- "$VS_USER")-$VS_PORT
	fi
}

# vs_pg_env exports the libpq variables that reach the private cluster; client tools then
# run as any user (root included) and connect as the server's superuser through the socket.
vs_pg_env() {
	export PGHOST=$VS_SOCK PGPORT=$VS_PORT PGUSER=$VS_USER PGDATABASE=$VS_DB
	unset PGSERVICE PGPASSWORD PGHOSTADDR
}

# vs_psql ARGS... runs this PostgreSQL's psql without reading ~/.psqlrc.
vs_psql() {
	"$VS_PGBIN/psql" -X "$@"
}

# vs_running succeeds when the cluster in VS_DATA has a live postmaster.
vs_running() {
	[[ -f $VS_DATA/PG_VERSION ]] || return 1
	vs_as_user "$VS_PGBIN/pg_ctl" status -D "$VS_DATA" >/dev/null 2>&1
}

# vs_give FILE... hands files written by root in the state dir to the server user.
vs_give() {
	if vs_is_root; then
		chown -- "$VS_USER:" "$@"
	fi
}

# vs_make_user_dir DIR creates DIR for the server user, mode 700, unless it exists.  An
# existing DIR must be a real directory owned by that user: the fallback paths are in
# /tmp, where anyone could have made them first.
vs_make_user_dir() {
	local dir=$1
	if [[ ! -e $dir && ! -L $dir ]]; then
		mkdir -p -- "$dir"
		if vs_is_root; then
			chown -- "$VS_USER:" "$dir"
		fi
		chmod 700 -- "$dir"
	fi
	if [[ -L $dir || ! -d $dir || $(stat -c %U -- "$dir") != "$VS_USER" ]]; then
		vs_die "$dir must be a directory owned by $VS_USER; remove it or set VSEARCH_STATE_DIR"
	fi
}

# vs_write_conf writes $VS_DATA/vsearch.conf, included from postgresql.conf, on every
# start: port and socket may change between runs.  Sizes suit a 2-core, 24 GiB machine.
vs_write_conf() {
	local dsm=posix avail_kb
	avail_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
	# Parallel index builds put their shared state in DSM; a small /dev/shm (containers
	# default to 64 MB) makes them fail, so use files in the data dir instead.
	if [[ -z $avail_kb ]] || ((avail_kb < 2 * 1024 * 1024)); then
		dsm=mmap
	fi
	vs_as_user tee "$VS_DATA/vsearch.conf" >/dev/null <<EOF
# Written by scripts/cluster on every start: change scripts/lib.sh, not this file.
port = $VS_PORT
listen_addresses = ''
unix_socket_directories = '$VS_SOCK'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 1GB
effective_cache_size = 16GB
max_parallel_maintenance_workers = 2
max_parallel_workers_per_gather = 2
max_wal_size = 4GB
min_wal_size = 512MB
dynamic_shared_memory_type = $dsm
lc_messages = 'C'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 10s
EOF
	if ! grep -q "^include_if_exists = 'vsearch.conf'" "$VS_DATA/postgresql.conf"; then
		printf "\ninclude_if_exists = 'vsearch.conf'\n" |
			vs_as_user tee -a "$VS_DATA/postgresql.conf" >/dev/null
	fi
}

# vs_initdb creates the cluster in VS_DATA with checksums, trust auth for local
# connections and the server user as superuser.
vs_initdb() {
	local locale=C
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale=C.UTF-8
	fi
	if [[ -e $VS_DATA ]] && [[ -n $(ls -A -- "$VS_DATA" 2>/dev/null) ]]; then
		vs_die "$VS_DATA is not empty but holds no cluster; remove it and retry"
	fi
	vs_say "initdb in $VS_DATA (user $VS_USER, locale $locale)"
	vs_as_user "$VS_PGBIN/initdb" -D "$VS_DATA" --data-checksums -A trust -U "$VS_USER" \
		--encoding=UTF8 --locale="$locale" >"$VS_STATE/initdb.log" 2>&1 || {
		cat "$VS_STATE/initdb.log" >&2
		vs_die "initdb failed"
	}
	vs_give "$VS_STATE/initdb.log"
}

# vs_cluster_start makes sure the cluster exists, runs and has database vsearch.
# Already running is fine; running on another port than VSEARCH_PORT is an error.
vs_cluster_start() {
	vs_resolve create
	[[ -x $VS_PGBIN/pg_ctl ]] || vs_die "PostgreSQL 15 is not installed: run scripts/setup"
	vs_say "cluster state dir: $VS_STATE ($VS_STATE_WHY), server user: $VS_USER ($VS_USER_WHY)"
	vs_make_user_dir "$VS_STATE"
	vs_make_user_dir "$VS_SOCK"
	[[ -f $VS_DATA/PG_VERSION ]] || vs_initdb

	if vs_running; then
		local port
		port=$(sed -n 4p "$VS_DATA/postmaster.pid")
		[[ $port == "$VS_PORT" ]] ||
			vs_die "the cluster already runs on port $port, not $VS_PORT: run scripts/cluster stop first"
		vs_say "server already running (user $VS_USER, port $VS_PORT)"
	else
		vs_write_conf
		vs_say "starting server (user $VS_USER, port $VS_PORT, log $VS_LOG)"
		if ! vs_as_user "$VS_PGBIN/pg_ctl" start -w -t 120 -D "$VS_DATA" -l "$VS_LOG" >/dev/null; then
			tail -n 30 -- "$VS_LOG" >&2 || true
			vs_die "the server did not start; its log is $VS_LOG"
		fi
	fi

	vs_pg_env
	if [[ -z $(vs_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$VS_DB'") ]]; then
		vs_say "creating database $VS_DB"
		"$VS_PGBIN/createdb" "$VS_DB"
	fi
}

# vs_cluster_stop stops the server with a fast shutdown; stopped already is fine.
vs_cluster_stop() {
	vs_resolve
	if vs_running; then
		vs_say "stopping server in $VS_DATA"
		vs_as_user "$VS_PGBIN/pg_ctl" stop -m fast -w -t 120 -D "$VS_DATA" >/dev/null
	else
		vs_say "server not running ($VS_DATA)"
	fi
}

# vs_prove TESTDIR FILE... runs Perl TAP test files (paths relative to the repo) with
# prove.  PostgreSQL::Test::Cluster starts its own clusters, so the files run as the
# server user (initdb refuses root), from a copy of test/ when that user cannot read the
# checkout, with tmp_check under TESTDIR (emptied first).  The environment reaches the
# tests (VSEARCH_SOAK_SECONDS and the like).  The files are named one by one: given a
# directory, prove looks only for *.t files.
vs_prove() {
	local testdir=$1 srcdir=$VS_REPO
	shift
	[[ -f $VS_TAP_PERL/PostgreSQL/Test/Cluster.pm ]] || {
		echo "PostgreSQL::Test::Cluster is missing from $VS_TAP_PERL"
		return 1
	}
	vs_as_user rm -rf "$testdir" || return 1
	vs_as_user mkdir -p "$testdir" || return 1
	if ! vs_as_user test -r "$VS_REPO/$1" -a -x "$VS_REPO/test/t"; then
		srcdir=$testdir/src
		echo "user $VS_USER cannot read $VS_REPO: running a copy in $srcdir"
		mkdir -p "$srcdir" && cp -r "$VS_REPO/test" "$srcdir/" || return 1
		vs_is_root && { chown -R "$VS_USER:" "$srcdir" || return 1; }
	fi
	vs_as_user_in "$srcdir" env \
		PATH="$VS_PGBIN:$PATH" \
		TESTDIR="$testdir" \
		PG_REGRESS="$VS_PG_REGRESS" \
		prove -v -I "$VS_TAP_PERL" -I "$srcdir" "$@"
}

# vs_install_packages installs the VS_PACKAGES that dpkg does not show as installed.
# Needs root.  apt-get update runs only when something is missing.
vs_install_packages() {
	local pkg missing=()
	for pkg in "${VS_PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != "install ok installed" ]]; then
			missing+=("$pkg")
		fi
	done
	if ((${#missing[@]} == 0)); then
		vs_say "Debian packages: all present"
		return 0
	fi
	vs_say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# vs_build builds the extension with PGXS and installs it into PostgreSQL 15.  The build
# runs as the checkout's owner when invoked through sudo; the install runs as root.
vs_build() {
	[[ -f $VS_REPO/Makefile ]] || vs_die "no Makefile in $VS_REPO: nothing to build"
	[[ -x $VS_PG_CONFIG ]] || vs_die "$VS_PG_CONFIG is missing: postgresql-server-dev-15 is not installed"
	vs_say "building vsearch"
	# CI builds treat warnings as errors (see Makefile: VSEARCH_WERROR).
	vs_as_repo_owner make -j2 PG_CONFIG="$VS_PG_CONFIG" ${CI:+VSEARCH_WERROR=1}
	vs_say "installing vsearch into $("$VS_PG_CONFIG" --pkglibdir)"
	(cd -- "$VS_REPO" && make install PG_CONFIG="$VS_PG_CONFIG" >/dev/null)
}
