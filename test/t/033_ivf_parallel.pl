# 033_ivf_parallel.pl: parallel build of a vsearch_ivf index.  A serial
# build (max_parallel_maintenance_workers = 0) and a parallel one (2
# workers) of the same table: the parallel one must really run workers
# (its DEBUG1 message, read from the client's stderr, names the workers
# launched and the rows they assigned, and the serial one prints none),
# both pass the checker, hold every row exactly once (a scan with every
# list probed and no LIMIT), give recall@10 >= 0.95 with probes =
# sqrt(lists), and, since both train the same centroids from the same
# sample, they have the same size and answer every query identically
# (identical lists).  Parallel CREATE INDEX CONCURRENTLY, REINDEX INDEX
# CONCURRENTLY and a build on an unlogged table run workers and give the
# same answers, and so does a parallel build with a key column.  A
# parallel build cancelled while its workers scan stops
# with the cancel error, its workers exit, and no index is left; SIGKILL
# of a worker makes the postmaster reinitialise, after which no index is
# left and the build retried succeeds.  pg_checksums --check ends the
# test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivf_parallel');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', q{
autovacuum = off
restart_after_crash = on
max_worker_processes = 8
max_parallel_workers = 8
});
$node->start;

my $rows = 60000;
my $lists = 100;
my $probes = 10;    # sqrt(lists)

# 50 clusters in 32 dimensions; the queries come from the same
# distribution.  The correlated subqueries make every row draw anew.
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.33);
	CREATE TABLE centers AS
	  SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 32) WHERE c >= 0) AS x
	  FROM generate_series(0, 49) c;
	CREATE FUNCTION point(g int) RETURNS vector LANGUAGE sql AS \$\$
	  SELECT ARRAY(SELECT (x[d] + (random() - 0.5) * 0.8)::real FROM generate_series(1, 32) d)::vector
	  FROM centers WHERE c = g % 50
	\$\$;
	CREATE TABLE t (id int PRIMARY KEY, v vector(32)) WITH (parallel_workers = 2);
	INSERT INTO t SELECT g, point(g) FROM generate_series(1, $rows) g;
	INSERT INTO t VALUES ($rows + 1, NULL);
	CREATE TABLE q AS SELECT g AS qid, point(g * 7 + 3) AS v FROM generate_series(1, 50) g;
	CREATE TABLE exact AS SELECT qid, id FROM q, LATERAL (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s;
	VACUUM ANALYZE t;
});

# build NAME WORKERS SQL: runs SQL with max_parallel_maintenance_workers =
# WORKERS and DEBUG1 messages; returns its stderr.
sub build
{
	my ($name, $workers, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET maintenance_work_mem = '256MB';
		SET max_parallel_maintenance_workers = $workers;
		SET client_min_messages = debug1;
		$sql;
	});
	is($ret, 0, "$name: the build succeeds") or diag($err);
	return $err;
}

# launched NAME STDERR WANT: the build's message says WANT workers were
# launched and that they assigned some of the rows.
sub launched
{
	my ($name, $err, $want) = @_;
	my ($n) = $err =~ /(\d+) parallel workers launched \(2 requested\)/;
	is($n, $want, "$name: $want parallel workers launched") or diag($err);
	my ($w, $assigned, $all) = $err =~ /(\d+) workers assigned (\d+) of (\d+) rows/;
	ok(defined $assigned && $assigned > 0 && $all == $rows,
		"$name: the workers assigned rows themselves")
	  or diag($err);
	note("$name: the workers assigned " . ($assigned // '?') . " of $rows rows");
}

# check NAME INDEX TABLE: the checker passes; with every list probed and
# no LIMIT the index returns every non-NULL row once; recall@10 with
# probes = sqrt(lists).  Returns the top-10 answers as one string.
sub check
{
	my ($name, $index, $table) = @_;
	$table //= 't';
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT vsearch_ivf_check('$index')");
	is($ret, 0, "$name: the checker passes") or diag($err);
	is( $node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET enable_bitmapscan = off; SET vsearch.probes = $lists;
			SELECT count(*) || ' ' || count(DISTINCT id) FROM
			  (SELECT id FROM $table ORDER BY v <-> (SELECT v FROM q WHERE qid = 1)) s}),
		"$rows $rows", "$name: a scan with every list probed returns every row once");
	my $recall = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET vsearch.probes = $probes;
		SELECT count(*)::float8 / (SELECT count(*) FROM exact) FROM q,
		  LATERAL (SELECT id FROM $table ORDER BY $table.v <-> q.v LIMIT 10) s
		  JOIN exact e USING (id) WHERE e.qid = q.qid});
	cmp_ok($recall, '>=', 0.95, "$name: recall\@10 >= 0.95 with probes = $probes");
	note("$name: recall\@10 = $recall");
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET vsearch.probes = $probes;
		SELECT string_agg(ids, ';' ORDER BY qid) FROM
		  (SELECT qid, (SELECT string_agg(id::text, ',') FROM
		     (SELECT id FROM $table ORDER BY $table.v <-> q.v LIMIT 10) s) AS ids FROM q) s});
}

my $err = build('serial', 0, "CREATE INDEX t_idx ON t USING vsearch_ivf (v) WITH (lists = $lists)");
unlike($err, qr/parallel workers launched/, 'serial: no parallel workers');
like($err, qr/$lists lists, \d+ samples/, 'serial: the build reports its steps');
my $serial = check('serial', 't_idx');
my $serial_size = $node->safe_psql('postgres', "SELECT pg_relation_size('t_idx')");
$node->safe_psql('postgres', 'DROP INDEX t_idx');

$err = build('parallel', 2, "CREATE INDEX t_idx ON t USING vsearch_ivf (v) WITH (lists = $lists)");
launched('parallel', $err, 2);
my $parallel = check('parallel', 't_idx');
is($node->safe_psql('postgres', "SELECT pg_relation_size('t_idx')"),
	$serial_size, 'parallel: the index has the serial build\'s size');
is($parallel, $serial, 'parallel: every query gets the serial build\'s answers');
is($node->safe_psql('postgres', "SELECT reltuples FROM pg_class WHERE relname = 't_idx'"),
	$rows, 'parallel: the index\'s row count is the serial build\'s');
$node->safe_psql('postgres', 'DROP INDEX t_idx');

# CONCURRENTLY: the workers scan with the leader's MVCC snapshot
$err = build('concurrently', 2,
	"CREATE INDEX CONCURRENTLY t_idx ON t USING vsearch_ivf (v) WITH (lists = $lists)");
launched('concurrently', $err, 2);
is(check('concurrently', 't_idx'), $serial, 'concurrently: the serial build\'s answers');
$err = build('reindex concurrently', 2, 'REINDEX INDEX CONCURRENTLY t_idx');
launched('reindex concurrently', $err, 2);
is(check('reindex concurrently', 't_idx'), $serial, 'reindex concurrently: the serial build\'s answers');
$node->safe_psql('postgres', 'DROP INDEX t_idx');

# a key column: the participants form the key tuples
$err = build('key column', 2, "CREATE INDEX t_idx ON t USING vsearch_ivf (v vector_l2_ops, id) WITH (lists = $lists)");
launched('key column', $err, 2);
is(check('key column', 't_idx'), $serial, 'key column: the serial build\'s answers');
$node->safe_psql('postgres', 'DROP INDEX t_idx');

# an unlogged table
$node->safe_psql('postgres', 'CREATE UNLOGGED TABLE u (LIKE t) WITH (parallel_workers = 2); INSERT INTO u SELECT * FROM t');
$err = build('unlogged', 2, "CREATE INDEX u_idx ON u USING vsearch_ivf (v) WITH (lists = $lists)");
launched('unlogged', $err, 2);
is(check('unlogged', 'u_idx', 'u'), $serial, 'unlogged: the serial build\'s answers');

# A monitor waits until the victim's parallel workers exist, then acts.
$node->safe_psql('postgres', q{
	CREATE FUNCTION wait_workers(app text, OUT leader int, OUT worker int) LANGUAGE plpgsql AS $$
	DECLARE
		t0 timestamptz := clock_timestamp();
	BEGIN
		LOOP
			PERFORM pg_stat_clear_snapshot();
			SELECT w.leader_pid, w.pid INTO leader, worker FROM pg_stat_activity w
			  JOIN pg_stat_activity l ON l.pid = w.leader_pid
			  WHERE l.application_name = app AND w.backend_type = 'parallel worker' LIMIT 1;
			EXIT WHEN worker IS NOT NULL;
			IF clock_timestamp() - t0 > interval '120 s' THEN
				RAISE EXCEPTION 'timed out waiting for the workers of %', app;
			END IF;
			PERFORM pg_sleep(0.001);
		END LOOP;
	END $$;
});

# victim SQL: runs a parallel build of SQL in the background as 'victim'
sub victim
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres') . ' application_name=victim',
			'-c', "SET maintenance_work_mem = '256MB'; SET max_parallel_maintenance_workers = 2; $sql"
		],
		'>', \$out, '2>', \$err);
	return ($h, \$err);
}

# the victim's index: an index expression that sleeps 1 ms for one row in
# 20 (chosen by a hash of the vector, the same in both heap passes) keeps
# the parallel assignment running for about a second on any machine (1000
# lists alone no longer did: the build got faster and ended before the
# signal)
$node->safe_psql('postgres', q{
	CREATE FUNCTION slow_v(v vector) RETURNS vector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	  AS $$ BEGIN
	    IF abs(hashfloat4((v::real[])[1])) % 20 = 0 THEN PERFORM pg_sleep(0.001); END IF;
	    RETURN v;
	  END $$;
});
my $slow = "CREATE INDEX t_slow ON t USING vsearch_ivf ((slow_v(v))) WITH (lists = 1000)";
my ($h, $verr) = victim($slow);
my ($leader) = split(/\|/, $node->safe_psql('postgres', "SELECT * FROM wait_workers('victim')"));
$node->safe_psql('postgres', "SELECT pg_cancel_backend($leader)");
$h->finish;
like($$verr, qr/canceling statement due to user request/, 'cancel: the parallel build is cancelled');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
	'cancel: the workers exit');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_slow'"),
	0, 'cancel: no index is left');

# SIGKILL of a worker: the postmaster reinitialises
($h, $verr) = victim($slow);
my ($l, $worker) = split(/\|/, $node->safe_psql('postgres', "SELECT * FROM wait_workers('victim')"));
my $offset = -s $node->logfile;
kill 'KILL', $worker;
$h->finish;
isnt($h->result(0), 0, 'kill -9 of a worker: the build does not complete');
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or BAIL_OUT('the server did not come back');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_slow'"),
	0, 'kill -9 of a worker: no index is left');
$err = build('after kill -9', 2, "CREATE INDEX t_idx ON t USING vsearch_ivf (v) WITH (lists = $lists)");
launched('after kill -9', $err, 2);
is(check('after kill -9', 't_idx'), $serial, 'after kill -9: the serial build\'s answers');

$node->stop;
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ], 'pg_checksums --check');

done_testing();
