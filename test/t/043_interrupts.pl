# 043_interrupts.pl: statement_timeout stops the long loops of vsearch
# promptly and leaves no lock behind, where sql/interrupts.sql covers
# builds and an unfiltered scan only:
#   - VACUUM of a table with a vsearch_hnsw index after deleting 75% of
#     100,000 rows (the graph repair takes seconds), cancelled at growing
#     timeouts until one vacuum completes;
#   - VACUUM of a table with a vsearch_ivf index, slowed by cost-based
#     vacuum delay as autovacuum is (unthrottled, its one pass over the
#     list pages takes milliseconds, less than any timeout);
#   - a vsearch_ivf build cancelled in k-means (2,000 lists trained on
#     100,000 samples), the phase read by a second session polling
#     pg_stat_progress_create_index every millisecond;
#   - a deep filtered (hybrid) scan forced to traverse the vsearch_hnsw
#     index, in a LATERAL join over 20 query vectors, with a filter that
#     almost no row passes and that costs about 0.5 ms a row, so one query
#     alone lasts seconds and the cancel must come from inside the scan,
#     not from the executor between queries.
# Each statement runs in one long-lived session with \timing on: the error
# must be SQLSTATE 57014 "canceling statement due to statement timeout",
# and the statement must end less than $bound seconds after the timeout
# (the time is printed; a missing check shows as seconds).  A vacuum must
# be cancelled inside the vector index's pass (the error's context names
# the index), and the first hnsw one before it frees deleted elements: a
# pass that never checked for interrupts would run to its end first.  The
# build must be in k-means just before the timeout and when it stopped.
# Then, from another session: the cancelled session holds no lock and no
# session holds one on the table or its indexes.  Then the index is sound:
# the checker passes, and the untimed operation (VACUUM to the end, a
# smaller build, a short filtered query) succeeds.  pg_checksums --check
# ends the test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(time);
use Test::More;

# seconds a cancelled statement may run past its timeout
my $bound = 5;

my $node = PostgreSQL::Test::Cluster->new('interrupts');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', q{
autovacuum = off
maintenance_work_mem = 256MB
max_parallel_maintenance_workers = 0
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.43);
	-- h: 100,000 x 16 in 9 clusters, an hnsw index built fast (m = 8)
	CREATE TABLE h (id int, v vector(16));
	INSERT INTO h SELECT g, ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, 16) WHERE g > 0)::vector
	  FROM generate_series(1, 100000) g;
	-- iv: 20,000 x 4 rows in 1,000 lists, so the index has about ten
	-- times as many pages as the table
	CREATE TABLE iv (id int, v vector(4));
	INSERT INTO iv SELECT g, ARRAY(SELECT (random() * 100)::real FROM generate_series(1, 4) WHERE g > 0)::vector
	  FROM generate_series(1, 20000) g;
	CREATE INDEX iv_ivf ON iv USING vsearch_ivf (v) WITH (lists = 1000);
	-- k: 100,000 x 32 for a build whose k-means takes tens of seconds
	CREATE TABLE k (id int, v vector(32));
	INSERT INTO k SELECT g, ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, 32) WHERE g > 0)::vector
	  FROM generate_series(1, 100000) g;
	-- the deep scan's filter: md5 of the vector's text and 200 kB, about
	-- 0.5 ms a row with no interrupt check inside, so one traversal of the
	-- 25,000 rows left after the vacuum takes seconds
	CREATE TABLE padding AS SELECT repeat('x', 200000) AS pad;

	-- watch_build polls pg_stat_progress_create_index every millisecond
	-- until the backend victim has shown a build and ended it; returns
	-- the last phase seen, how many polls saw one, and the phase seen by
	-- the last poll before the statement had run timeout_ms (when the
	-- statement timeout fires)
	CREATE FUNCTION watch_build(victim int, timeout_ms int,
								OUT phase text, OUT polls int, OUT before_timeout text)
	LANGUAGE plpgsql AS $$
	DECLARE
		cur text;
		started timestamptz;
		t0 timestamptz := clock_timestamp();
	BEGIN
		polls := 0;
		LOOP
			PERFORM pg_stat_clear_snapshot();
			SELECT p.phase, a.query_start INTO cur, started
			  FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid)
			 WHERE p.pid = victim;
			EXIT WHEN cur IS NULL AND polls > 0;
			IF cur IS NOT NULL THEN
				phase := cur;
				polls := polls + 1;
				IF clock_timestamp() < started + timeout_ms * interval '1 ms' THEN
					before_timeout := cur;
				END IF;
			END IF;
			IF clock_timestamp() - t0 > interval '120 s' THEN
				RAISE EXCEPTION 'no build of backend % ended within 120 s', victim;
			END IF;
			PERFORM pg_sleep(0.001);
		END LOOP;
	END $$;
});

# the session whose statements are cancelled: it stays connected, so a
# lock it failed to release would still show in pg_locks
my $victim = $node->background_psql('postgres', on_error_stop => 0);
$victim->query_safe('\set VERBOSITY verbose');
$victim->query_safe('\timing on');
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
$pid =~ s/\s*Time: .*//s;

# run SQL: runs SQL in the victim session; returns its stdout, stderr
# (error and context) and the milliseconds psql's \timing reported.
sub run
{
	my ($sql) = @_;
	my ($out, $failed) = $victim->query($sql);
	my $err = $victim->{stderr};
	$victim->{stderr} = '';
	my ($ms) = $out =~ /Time: ([\d.]+) ms/;
	return ($out, $err, $ms);
}

# cancelled WHAT TIMEOUT_MS SQL RELS [MAY_COMPLETE]: runs SQL in the
# victim session under statement_timeout = TIMEOUT_MS; it must fail with
# the statement-timeout cancel less than $bound seconds after the
# timeout, and then no lock may be left (check_locks RELS).  Returns the
# error text; with MAY_COMPLETE, a statement that completed returns undef
# and asserts nothing.
sub cancelled
{
	my ($what, $timeout, $sql, $rels, $may_complete) = @_;
	$victim->query_safe("SET statement_timeout = $timeout");
	my ($out, $err, $ms) = run($sql);
	$victim->query_safe('RESET statement_timeout');
	return undef if $may_complete && $err eq '';
	like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
		"$what: cancelled by statement_timeout (SQLSTATE 57014)")
	  or diag("stdout: $out\nstderr: $err");
	my $late = defined $ms ? ($ms - $timeout) / 1000.0 : 1e9;
	cmp_ok($late, '<', $bound, "$what: stopped less than $bound s after the timeout");
	note(sprintf('%s: stopped %.3f s after the %d ms timeout', $what, $late, $timeout));
	check_locks($what, $rels);
	return $err;
}

# check_locks WHAT RELS: from another session, the victim holds no lock
# and no session holds one on a relation whose name is LIKE RELS.
sub check_locks
{
	my ($what, $rels) = @_;
	is($node->safe_psql('postgres', qq{
			SELECT count(*) FILTER (WHERE l.pid = $pid) || ' ' || count(*) FILTER (WHERE c.relname LIKE '$rels')
			  FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
			 WHERE l.pid <> pg_backend_pid()}),
		'0 0', "$what: the cancelled session holds no lock, nobody holds one on $rels");
}

# ---------- (a) VACUUM of an hnsw index ----------
my $t0 = time;
$node->safe_psql('postgres', 'CREATE INDEX h_hnsw ON h USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 16)');
my $build_ms = int(1000 * (time - $t0));
$node->safe_psql('postgres', 'DELETE FROM h WHERE id % 4 <> 0');

# The heap's part of this vacuum is a few percent of the whole, the
# graph repair (pass 2 of src/hnsw/hnswvacuum.c) most of it, and the
# whole takes about as long as the build.  The first cancel, at 15% of the
# build time, lands in the repair; then each vacuum is given 1.4 times the
# previous timeout until one completes, so the cancels move on through the
# passes (each vacuum redoes less) and one may land while deleted
# elements are freed (pass 3) or the graph is reconnected (pass 4).  After
# each, the checker must pass with every row still in an element.
my $timeout = int(0.15 * $build_ms) > 50 ? int(0.15 * $build_ms) : 50;
my $ncancelled = 0;
for (my $try = 0; $try < 12; $try++)
{
	my $what = "hnsw VACUUM at $timeout ms";
	# from the second try on, completing ends the sweep
	my $err = cancelled($what, $timeout, 'VACUUM h', 'h%', $try > 0);
	last unless defined $err;
	like($err, qr/CONTEXT:  while vacuuming index "h_hnsw" of relation "public.h"/,
		"$what: cancelled in the index's pass");
	$ncancelled++;
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT heap_tids = live_rows, deleted, unreachable FROM vsearch_hnsw_check('h_hnsw')");
	like("$ret $stdout", qr/^0 t\|/, "$what: then the checker passes, every row in an element")
	  or diag($stderr);
	# the first stops before the deleted elements are freed (pass 3)
	like($stdout, qr/^t\|[1-9]/, "$what: stopped before freeing the deleted elements")
	  if $try == 0;
	note("$what: then deleted|unreachable " . ($stdout =~ s/^t\|//r));
	$timeout = int(1.4 * $timeout);
}
cmp_ok($ncancelled, '>=', 2, "hnsw VACUUM: $ncancelled vacuums were cancelled");
my ($out, $err, $ms) = run('VACUUM h');
is($err, '', 'hnsw VACUUM: a vacuum without timeout completes');
note("hnsw VACUUM: the full vacuum took $ms ms, the build $build_ms ms");
is($node->safe_psql('postgres',
		"SELECT elements || ' ' || heap_tids || ' ' || deleted || ' ' || unreachable FROM vsearch_hnsw_check('h_hnsw')"),
	'25000 25000 0 0', 'hnsw VACUUM: then no element is deleted and every element is reachable');
is($node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
		SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM h ORDER BY v <-> array_fill(4.5::real, ARRAY[16])::vector) s}),
	'25000 25000', 'hnsw VACUUM: an index scan returns every live row once');

# ---------- (b) VACUUM of an ivf index ----------
$node->safe_psql('postgres', 'DELETE FROM iv WHERE id % 4 <> 0');
# each page dirtied costs 20 and sleeps 2 ms x 20 / 10, capped at 8 ms:
# about 0.1 s for the table's pages, several seconds for the lists
$victim->query_safe('SET vacuum_cost_delay = 2');
$victim->query_safe('SET vacuum_cost_limit = 10');
$err = cancelled('ivf VACUUM (throttled) at 1500 ms', 1500, 'VACUUM iv', 'iv%');
like($err, qr/CONTEXT:  while vacuuming index "iv_ivf" of relation "public.iv"/,
	'ivf VACUUM: cancelled in the index\'s pass');
$victim->query_safe('RESET vacuum_cost_delay');
$victim->query_safe('RESET vacuum_cost_limit');
($out, $err, $ms) = run('VACUUM iv');
is($err, '', 'ivf VACUUM: a vacuum without timeout completes');
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT vsearch_ivf_check('iv_ivf')");
is($ret, 0, 'ivf VACUUM: the checker passes') or diag($stderr);
is($node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
		SET vsearch.probes = 1000;
		SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM iv ORDER BY v <-> '[50,50,50,50]') s}),
	'5000 5000', 'ivf VACUUM: an index scan returns every live row once');

# ---------- (c) an ivf build cancelled in k-means ----------
my ($wout, $werr) = ('', '');
my $watch = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-d', $node->connstr('postgres'), '-c', "SELECT * FROM watch_build($pid, 1500)" ],
	'>', \$wout, '2>', \$werr);
$node->poll_query_until('postgres',
	"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE 'SELECT * FROM watch_build%' AND state = 'active')")
  or BAIL_OUT('the progress watcher did not start');
# sampling the table takes well under a second, k-means tens of seconds
cancelled('ivf build at 1500 ms', 1500,
	'CREATE INDEX k_ivf ON k USING vsearch_ivf (v) WITH (lists = 2000)', 'k%');
$watch->finish;
chomp $wout;
my ($phase, $polls, $before_timeout) = split /\|/, $wout;
is($before_timeout // '', 'building index: computing centroids', 'ivf build: in k-means just before the timeout')
  or diag("watcher: $wout $werr");
is($phase, 'building index: computing centroids', 'ivf build: still in k-means when it stopped');
note("ivf build: the watcher saw the build in $polls polls");
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'k_ivf'"), '0',
	'ivf build: no index is left');
($out, $err, $ms) = run('CREATE INDEX k_ivf ON k USING vsearch_ivf (v) WITH (lists = 50)');
is($err, '', 'ivf build: a smaller build without timeout completes');
($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT vsearch_ivf_check('k_ivf')");
is($ret, 0, 'ivf build: the checker passes on the new index') or diag($stderr);

# ---------- (d) a deep filtered scan ----------
my $deep = q{
	SELECT count(*) FROM generate_series(1, 20) g, LATERAL (
	  SELECT id FROM h WHERE md5(v::text || (SELECT pad FROM padding)) < '0004'
	   ORDER BY v <-> (SELECT v FROM h h2 WHERE h2.id = g * 400) LIMIT 10) s};
$victim->query_safe('SET vsearch.hybrid_strategy = index');
like($victim->query_safe("EXPLAIN (COSTS OFF) $deep"), qr/Custom Scan \(VSearch Hybrid\) on h\n.*Index: h_hnsw/s,
	'deep scan: a hybrid scan traverses h_hnsw');
cancelled('deep filtered scan at 300 ms', 300, $deep, 'h%');
$victim->query_safe('RESET vsearch.hybrid_strategy');
is($node->safe_psql('postgres',
		"SELECT elements || ' ' || deleted || ' ' || unreachable FROM vsearch_hnsw_check('h_hnsw')"),
	'25000 0 0', 'deep scan: the checker passes afterwards');
($out, $err, $ms) = run(q{
	SET vsearch.hybrid_strategy = index;
	SELECT count(*) FROM (SELECT id FROM h WHERE id % 1000 = 0
	  ORDER BY v <-> array_fill(4.5::real, ARRAY[16])::vector LIMIT 10) s;
	RESET vsearch.hybrid_strategy;});
like($out, qr/^10$/m, 'deep scan: a filtered scan without timeout returns its 10 rows');
is($err, '', 'deep scan: without error');

$victim->quit;
$node->stop;
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
	'pg_checksums --check is clean');
done_testing();
