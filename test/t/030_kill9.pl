# 030_kill9.pl: kill -9 (SIGKILL) of a backend while it builds or vacuums
# a vsearch_hnsw or vsearch_ivf index, and an immediate shutdown at a
# random moment of a build.  A monitoring session polls the backend's
# progress view (pg_stat_progress_create_index, pg_stat_progress_vacuum,
# found through pg_stat_activity) every millisecond and, once the chosen
# point is reached, sends it SIGKILL itself (COPY TO PROGRAM 'kill -9
# pid': a round trip to the test script can outlast the 60 ms an index
# spends writing its pages).  After each crash the postmaster
# reinitialises (restart_after_crash = on) and replays WAL; then every
# index that survived passes its structure checker, an index-forced scan
# with ORDER BY v <-> q and no LIMIT returns every live row exactly once,
# the table takes inserts and deletes, and the killed CREATE INDEX left no
# index behind (a killed CREATE INDEX CONCURRENTLY leaves an invalid one:
# writes, plans and vacuum must ignore it and DROP INDEX must work).  The
# build retried afterwards succeeds.  After a killed hnsw vacuum the
# checker may report only what an unfinished vacuum leaves (elements marked
# deleted, still linked or above the entry level), and the next VACUUM must
# leave it passing with no deleted element.  pg_checksums --check ends the
# test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(usleep);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('kill9');
$node->init(extra => ['--data-checksums']);
# small shared_buffers: builds and vacuum write evicted index pages to disk
# before they end, so a crash leaves partly written index files behind;
# no autovacuum: the test's own VACUUMs are the ones killed
$node->append_conf('postgresql.conf', q{
autovacuum = off
restart_after_crash = on
wal_level = replica
max_connections = 20
shared_buffers = 16MB
});
$node->start;

# The tables have no other index, so VACUUM's index phase is the vector
# index's.  A few NULL vectors: they are live rows no index holds.
$node->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	CREATE TABLE h (id bigserial, v vector(16));
	INSERT INTO h (v) SELECT ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, 16) WHERE g > 0)::vector
	  FROM generate_series(1, 30000) g;
	CREATE TABLE iv (id bigserial, v vector(16));
	INSERT INTO iv (v) SELECT ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, 16) WHERE g > 0)::vector
	  FROM generate_series(1, 100000) g;
	INSERT INTO h (v) SELECT NULL FROM generate_series(1, 5);
	INSERT INTO iv (v) SELECT NULL FROM generate_series(1, 5);

	-- wait_progress polls VIEW every millisecond until the backend whose
	-- application_name is APP shows a row matching COND (on columns p.*),
	-- waits DELAY seconds more, and returns its pid and phase then.
	CREATE FUNCTION wait_progress(view text, app text, cond text, delay float8 DEFAULT 0,
								  OUT pid int, OUT phase text)
	LANGUAGE plpgsql AS $$
	DECLARE
		t0 timestamptz := clock_timestamp();
		q text := format('SELECT p.pid, p.phase FROM %s p JOIN pg_stat_activity a USING (pid)'
						 ' WHERE a.application_name = %L', view, app);
	BEGIN
		LOOP
			PERFORM pg_stat_clear_snapshot();
			EXECUTE q || format(' AND (%s)', cond) INTO pid, phase;
			EXIT WHEN pid IS NOT NULL;
			IF clock_timestamp() - t0 > interval '120 s' THEN
				RAISE EXCEPTION 'timed out waiting for % in %', cond, view;
			END IF;
			PERFORM pg_sleep(0.001);
		END LOOP;
		IF delay > 0 THEN
			PERFORM pg_sleep(delay);
			PERFORM pg_stat_clear_snapshot();
			EXECUTE q INTO pid, phase;
		END IF;
	END $$;

	-- kill_at: wait_progress, then SIGKILL to that backend, logged first.
	CREATE FUNCTION kill_at(view text, app text, cond text, delay float8 DEFAULT 0) RETURNS void
	LANGUAGE plpgsql AS $$
	DECLARE
		w record;
	BEGIN
		SELECT * INTO w FROM wait_progress(view, app, cond, delay);
		IF w.pid IS NULL THEN
			RAISE EXCEPTION 'backend % is gone before the kill', app;
		END IF;
		RAISE LOG 'kill_at: SIGKILL to % in phase "%"', w.pid, w.phase;
		EXECUTE format('COPY (SELECT) TO PROGRAM %L', 'kill -9 ' || w.pid);
	END $$;
});

my $query = 'array_fill(4.5::real, ARRAY[16])::vector';
my %kind = (h => 'hnsw', iv => 'ivf');
my %build = (
	h => 'USING vsearch_hnsw (v)',
	iv => 'USING vsearch_ivf (v) WITH (lists = 300)');

# start_victim APP SQL... runs each SQL (psql -c) in the background in a
# session named APP; returns the IPC::Run handle and refs to its output.
sub start_victim
{
	my ($app, @sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres') . " application_name=$app",
			map { ('-c', $_) } @sql
		],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# wait_for VIEW COND: the pid and phase of the victim once COND holds.
sub wait_for
{
	my ($view, $cond) = @_;
	my $r = $node->safe_psql('postgres',
		"SELECT pid, phase FROM wait_progress('$view', 'victim', \$c\$$cond\$c\$)");
	return split(/\|/, $r);
}

# kill_at VIEW COND DELAY WHAT: SIGKILL the victim DELAY seconds after its
# progress matches COND, then wait until the postmaster has reinitialised
# and accepts connections again.  Returns the phase it was killed in.
sub kill_at
{
	my ($view, $cond, $delay, $what) = @_;
	my $offset = -s $node->logfile;
	# the monitoring session dies in the crash it causes: ignore its result
	$node->psql('postgres', "SELECT kill_at('$view', 'victim', \$c\$$cond\$c\$, $delay)");
	my $log = slurp_file($node->logfile, $offset);
	my ($pid, $phase) = $log =~ /kill_at: SIGKILL to (\d+) in phase "([^"]*)"/;
	ok(defined $pid, "$what: the monitor found the backend and killed it")
	  or BAIL_OUT("no kill for $what: " . substr($log, -2000));
	note("$what: SIGKILL to $pid in phase '$phase'");
	$node->wait_for_log(qr/server process \(PID $pid\) was terminated by signal 9/, $offset);
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	# poll_query_until hands psql its query on standard input, and a psql
	# refused while the server restarts can exit before reading it: IPC::Run
	# then dies on the broken pipe (fresh-clone CI of cd8b3ac).  pg_isready
	# reads nothing: wait with it until connections are accepted.
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (system('pg_isready', '-q', '-h', $node->host, '-p', $node->port) != 0
		&& time() < $deadline)
	{
		sleep(1);
	}
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or BAIL_OUT("the server did not come back after $what");
	return $phase;
}

# victim_died VICTIM WHAT: the victim's session was cut off mid-statement.
sub victim_died
{
	my ($v, $what) = @_;
	$v->{h}->finish;
	isnt($v->{h}->result(0), 0, "$what: the statement did not complete")
	  or diag(${ $v->{err} });
}

# indexes TABLE: the table's indexes, "name" or "name (invalid)".
sub indexes
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(indexrelid::regclass::text
		         || CASE WHEN indisvalid AND indisready THEN '' ELSE ' (invalid)' END, ',' ORDER BY indexrelid::regclass::text), '')
		  FROM pg_index WHERE indrelid = '$table'::regclass});
}

# check_index TABLE INDEX WHAT [PENDING]: the checker passes, and a scan
# forced through INDEX with no LIMIT returns every live row once.  With
# PENDING (an hnsw vacuum was killed) the checker may instead report what
# an unfinished vacuum leaves until the next one completes (see
# src/hnsw/README.md, "Structure checker"): a live element still linked to
# an element marked deleted, or a deleted element above the entry level
# after pass 2 moved the entry point; any other report fails.
sub check_index
{
	my ($table, $index, $what, $pending) = @_;
	my ($ret, $out, $err);
	if ($kind{$table} eq 'hnsw')
	{
		($ret, $out, $err) = $node->psql('postgres',
			"SELECT heap_tids >= live_rows, deleted, unreachable FROM vsearch_hnsw_check('$index')");
		note("$what: $index deleted|unreachable " . ($out =~ s/^t\|//r)) if $ret == 0;
		$ret = 1 if $ret == 0 && $out !~ /^t\|/;
		if ($ret != 0 && $pending
			&& $err =~ /DETAIL:  element \(\d+,\d+\) (links on layer \d+ to deleted element|has level \d+ above the entry level)/)
		{
			note("$what: the checker reports the unfinished vacuum: $1");
			$ret = 0;
		}
	}
	else
	{
		($ret, $out, $err) = $node->psql('postgres', "SELECT vsearch_ivf_check('$index')");
	}
	is($ret, 0, "$what: the checker passes on $index"
		  . ($pending && $kind{$table} eq 'hnsw' ? ' (or reports the vacuum left unfinished)' : ''))
	  or diag($err);

	my $force = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;';
	my $scan = "SELECT count(*), count(DISTINCT id), sum(id) FROM (SELECT id FROM $table ORDER BY v <-> $query) s";
	like($node->safe_psql('postgres', "$force EXPLAIN (COSTS OFF) $scan"),
		qr/Index Scan using $index on $table/, "$what: the scan without LIMIT reads $index");
	is($node->safe_psql('postgres', "$force $scan"),
		$node->safe_psql('postgres', "SELECT count(*), count(*), sum(id) FROM $table WHERE v IS NOT NULL"),
		"$what: $index returns every live row of $table exactly once");
}

# after_crash TABLE EXPECTED WHAT [PENDING]: the indexes of TABLE are
# EXPECTED (indexes() form); each valid one passes check_index (PENDING
# passed on) before and after a round of inserts and deletes.
sub after_crash
{
	my ($table, $expected, $what, $pending) = @_;
	is(indexes($table), $expected, "$what: indexes of $table after the restart: '$expected'");
	my @valid = grep { !/invalid/ } split(/,/, $expected);
	check_index($table, $_, $what, $pending) for @valid;
	$node->safe_psql('postgres', qq{
		INSERT INTO $table (v) SELECT ARRAY(SELECT (random() * 9)::real FROM generate_series(1, 16) WHERE g > 0)::vector
		  FROM generate_series(1, 200) g;
		DELETE FROM $table WHERE id IN (SELECT id FROM $table ORDER BY random() LIMIT 100);
	});
	check_index($table, $_, "$what, then inserts and deletes", $pending) for @valid;
}

# build_killed TABLE INDEX COND WHAT [SETTINGS [CONCURRENTLY]]: SIGKILL a
# CREATE INDEX once its progress matches COND.
sub build_killed
{
	my ($table, $index, $cond, $what, $set, $concurrently) = @_;
	my $before = indexes($table);
	my $v = start_victim('victim', $set // 'SELECT',
		'CREATE INDEX ' . ($concurrently ? 'CONCURRENTLY ' : '') . "$index ON $table $build{$table}");
	kill_at('pg_stat_progress_create_index', $cond, 0, $what);
	victim_died($v, $what);
	my $expected = $concurrently ? join(',', sort(grep { $_ ne '' } (split(/,/, $before), "$index (invalid)"))) : $before;
	after_crash($table, $expected, $what);
}

# build_stopped TABLE INDEX COND DELAY WHAT: stop('immediate') DELAY
# seconds after a CREATE INDEX reached COND.
sub build_stopped
{
	my ($table, $index, $cond, $delay, $what) = @_;
	my $before = indexes($table);
	my $v = start_victim('victim', "CREATE INDEX $index ON $table $build{$table}");
	my ($pid, $phase) = wait_for('pg_stat_progress_create_index', $cond);
	usleep(int($delay * 1_000_000));
	note("$what: immediate shutdown ${delay}s after phase '$phase'");
	$node->stop('immediate');
	victim_died($v, $what);
	$node->start;
	after_crash($table, $before, $what);
}

# vacuum_killed TABLE DELAY WHAT: SIGKILL a VACUUM (throttled by
# vacuum_cost_delay) DELAY seconds into its index phase.
sub vacuum_killed
{
	my ($table, $delay, $what) = @_;
	my $before = indexes($table);
	my $v = start_victim('victim', 'SET vacuum_cost_delay = 1', 'SET vacuum_cost_limit = 20', "VACUUM $table");
	my $phase = kill_at('pg_stat_progress_vacuum', "p.phase = 'vacuuming indexes'", $delay, $what);
	is($phase, 'vacuuming indexes', "$what: VACUUM was in its index phase");
	victim_died($v, $what);
	after_crash($table, $before, $what, 1);
}

# ---- vsearch_hnsw (30,000 rows: about 2 s loading, 60 ms writing) ----
my $row = 2000 + int(rand(25000));
build_killed('h', 'h_hnsw', "p.phase = 'building index: loading tuples' AND p.tuples_done >= $row",
	"hnsw build killed at row $row");
build_killed('h', 'h_hnsw', "p.phase = 'building index: writing graph'",
	'hnsw build killed writing the graph');
# 1MB holds about 1,800 rows; the rest are inserted one by one, WAL-logged
$row = 2500 + int(rand(2500));
build_killed('h', 'h_hnsw', "p.phase = 'building index: loading tuples' AND p.tuples_done >= $row",
	"hnsw build past maintenance_work_mem killed at row $row", "SET maintenance_work_mem = '1MB'");
# at least 5,000 rows (0.3 s) before the build ends
$row = 1000 + int(rand(24000));
build_stopped('h', 'h_hnsw', "p.tuples_done >= $row", rand(0.05), "hnsw build stopped near row $row");

$node->safe_psql('postgres', "CREATE INDEX h_hnsw ON h $build{h}");
after_crash('h', 'h_hnsw', 'hnsw build retried');

$row = 2000 + int(rand(25000));
build_killed('h', 'h_cic', "p.phase = 'building index: loading tuples' AND p.tuples_done >= $row",
	"hnsw CREATE INDEX CONCURRENTLY killed at row $row", undef, 1);
$node->safe_psql('postgres', 'VACUUM h');
check_index('h', 'h_hnsw', 'vacuum beside the invalid index');
$node->safe_psql('postgres', 'DROP INDEX h_cic');
is(indexes('h'), 'h_hnsw', 'the invalid hnsw index is dropped');

# two thirds of the rows dead: pass 1 (drop dead TIDs), 2 (repair
# neighbour lists) and 3 (free elements) of the index vacuum
$node->safe_psql('postgres', 'DELETE FROM h WHERE id % 3 <> 0');
vacuum_killed('h', rand(0.02), 'hnsw vacuum killed at its start');
$node->safe_psql('postgres', 'DELETE FROM h WHERE id % 3 = 0 AND id % 2 = 0');
vacuum_killed('h', 0.1 + rand(1.0), 'hnsw vacuum killed later');
$node->safe_psql('postgres', 'VACUUM h');
check_index('h', 'h_hnsw', 'hnsw vacuum completed after the kills');
is(($node->psql('postgres', "SELECT deleted FROM vsearch_hnsw_check('h_hnsw')"))[1], '0',
	'no deleted element is left once a vacuum completes');

# ---- vsearch_ivf (100,000 rows, 300 lists: 300 ms k-means, 50 ms writing) ----
build_killed('iv', 'iv_ivf', "p.phase = 'building index: computing centroids'",
	'ivf build killed in k-means');
$row = 1024 * (1 + int(rand(5)));
build_killed('iv', 'iv_ivf', "p.phase = 'building index: writing lists' AND p.tuples_done >= $row",
	"ivf build killed writing lists after row $row");
# sampling (10 ms) or k-means (300 ms) go on for 0.15 s at least
my $phase = ('sampling table', 'computing centroids')[ int(rand(2)) ];
build_stopped('iv', 'iv_ivf', "p.phase = 'building index: $phase'", rand(0.1),
	"ivf build stopped after '$phase'");

$node->safe_psql('postgres', "CREATE INDEX iv_ivf ON iv $build{iv}");
after_crash('iv', 'iv_ivf', 'ivf build retried');

build_killed('iv', 'iv_cic', "p.phase = 'building index: computing centroids'",
	'ivf CREATE INDEX CONCURRENTLY killed in k-means', undef, 1);
$node->safe_psql('postgres', 'VACUUM iv');
check_index('iv', 'iv_ivf', 'vacuum beside the invalid index');
$node->safe_psql('postgres', 'DROP INDEX iv_cic');
is(indexes('iv'), 'iv_ivf', 'the invalid ivf index is dropped');

$node->safe_psql('postgres', 'DELETE FROM iv WHERE id % 2 = 0');
vacuum_killed('iv', rand(0.5), 'ivf vacuum killed');
$node->safe_psql('postgres', 'VACUUM iv');
check_index('iv', 'iv_ivf', 'ivf vacuum completed after the kill');

# every page written before, during and after the crashes has a valid
# checksum, the files the killed builds left behind included
$node->stop;
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
	'pg_checksums --check is clean after the crashes');
done_testing();
