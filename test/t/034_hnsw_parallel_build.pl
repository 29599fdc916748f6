# 034_hnsw_parallel_build.pl: parallel builds of a vsearch_hnsw index.
# On a synthetic clustered set (20,000 x 128, held-out queries) a serial
# build, a build with 2 parallel workers, CREATE INDEX CONCURRENTLY and
# REINDEX INDEX CONCURRENTLY with 2 workers, a build on an unlogged table,
# and a parallel build that outgrows maintenance_work_mem (10,000 x 1,900:
# the NOTICE, then page-by-page inserts by leader and worker) must each
# pass the structure checker with every row in an element and every
# element reachable, return every row from an index scan without LIMIT,
# and reach recall@10 >= 0.95 against exact search.  That workers really
# ran is read from the DEBUG1 line the build emits ("... with N parallel
# workers launched of M requested"), captured from the very statement
# checked, and from the one that counts the rows the workers indexed.
# Identical vectors, more than one element holds, built in
# parallel: they share ceil(n / 10) elements, as in a serial build (per
# key value with a key column).
# statement_timeout cancels a parallel build long before it would end and
# leaves no index and no worker behind; kill -9 of a parallel worker makes
# the postmaster reinitialise, and the build retried afterwards succeeds.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(time usleep);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parallel_build');
$node->init;
$node->append_conf('postgresql.conf', q{
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_maintenance_workers = 2
maintenance_work_mem = 256MB
restart_after_crash = on
autovacuum = off
});
$node->start;

# Embedding-like data as in test/pgtap/hnsw_recall.sql: 100 cluster
# centres, each cluster spanning a random 16-dimensional subspace.
$node->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.17);
	CREATE TABLE centres AS
	  SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 128))::vector(128) AS centre
	    FROM generate_series(0, 99) c;
	CREATE TABLE basis AS
	  SELECT c, k, ARRAY(SELECT ((random() * 2 - 1) * 0.2)::real FROM generate_series(1, 128))::vector(128) AS b
	    FROM generate_series(0, 99) c, generate_series(1, 16) k;
	CREATE FUNCTION point(c int) RETURNS vector LANGUAGE sql AS $$
	  SELECT (SELECT centre FROM centres WHERE centres.c = $1)
	         + sum(array_fill((random() * 2 - 1)::real, ARRAY[128])::vector(128) * b)
	         + ARRAY(SELECT ((random() - 0.5) * 0.15)::real FROM generate_series(1, 128))::vector(128)
	    FROM basis WHERE basis.c = $1
	$$;
	CREATE TABLE items (id int PRIMARY KEY, v vector(128)) WITH (parallel_workers = 2);
	INSERT INTO items SELECT i, point(i % 100) FROM generate_series(1, 20000) i;
	CREATE TABLE queries AS SELECT q, point((q * 7) % 100) AS v FROM generate_series(1, 50) q;

	-- recall@k of the index on tbl for every query in qtbl, against an exact scan
	CREATE FUNCTION recall(tbl text, qtbl text, k int) RETURNS float8 LANGUAGE plpgsql AS $$
	DECLARE
	  r record;
	  hits bigint := 0;
	  n bigint := 0;
	  exact int[];
	  approx int[];
	BEGIN
	  FOR r IN EXECUTE format('SELECT v FROM %I', qtbl) LOOP
	    SET LOCAL enable_indexscan = off;
	    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v <-> $1 LIMIT %s) s', tbl, k)
	      INTO exact USING r.v;
	    SET LOCAL enable_indexscan = on;
	    SET LOCAL enable_seqscan = off;
	    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v <-> $1 LIMIT %s) s', tbl, k)
	      INTO approx USING r.v;
	    SET LOCAL enable_seqscan = on;
	    hits := hits + (SELECT count(*) FROM unnest(approx) a WHERE a = ANY (exact));
	    n := n + k;
	  END LOOP;
	  RETURN hits::float8 / n;
	END $$;

	-- rows an index scan with no LIMIT returns, and how many distinct
	CREATE FUNCTION scan_all(tbl text, qtbl text, OUT n bigint, OUT d bigint) LANGUAGE plpgsql AS $$
	BEGIN
	  SET LOCAL enable_seqscan = off;
	  EXECUTE format('SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM %I ORDER BY v <-> (SELECT v FROM %I WHERE q = 1)) s', tbl, qtbl)
	    INTO n, d;
	END $$;
});

# build SQL... runs the statements in one session with DEBUG1 messages on
# and returns its stderr (the build's DEBUG1 and NOTICE lines) and the
# elapsed seconds; dies if a statement fails unless $allow_error.
sub build
{
	my ($sql, %opt) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	my $ret = $node->psql('postgres', "SET client_min_messages = debug1;\n$sql",
		stdout => \$out, stderr => \$err, on_error_stop => 1);
	my $elapsed = time - $t0;
	die "build failed: $err" if $ret != 0 && !$opt{allow_error};
	return ($err, $elapsed);
}

# workers_launched STDERR INDEX: the workers the DEBUG1 line of the build
# of INDEX names, or undef when it built serially (no such line).
sub workers_launched
{
	my ($err, $index) = @_;
	return $err =~ /building index "\Q$index\E" on table "[^"]+" with (\d+) parallel workers launched of \d+ requested/
	  ? $1 : undef;
}

# verify INDEX TABLE QUERIES ROWS WHAT: checker, full scan, recall.
sub verify
{
	my ($index, $table, $queries, $rows, $what) = @_;
	is($node->safe_psql('postgres',
			"SELECT elements || ' ' || heap_tids || ' ' || unreachable || ' ' || live_rows FROM vsearch_hnsw_check('$index')"),
		"$rows $rows 0 $rows",
		"$what: checker passes, every row has an element, every element is reachable");
	is($node->safe_psql('postgres', "SELECT n || ' ' || d FROM scan_all('$table', '$queries')"),
		"$rows $rows", "$what: an index scan without LIMIT returns every row once");
	my $recall = $node->safe_psql('postgres', "SELECT recall('$table', '$queries', 10)");
	cmp_ok($recall, '>=', 0.95, "$what: recall\@10 >= 0.95 (measured $recall)");
}

# serial: no worker
my ($err, $serial_time) = build(q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v);
});
is(workers_launched($err, 'items_hnsw'), undef, 'serial: no parallel worker requested');
verify('items_hnsw', 'items', 'queries', 20000, 'serial build');
$node->safe_psql('postgres', 'DROP INDEX items_hnsw');

# parallel: two workers and the leader insert into one shared graph
my $par_time;
($err, $par_time) = build(q{
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v);
});
is(workers_launched($err, 'items_hnsw'), 2, 'parallel: 2 workers launched');
ok($err =~ /building index "items_hnsw": parallel workers indexed (\d+) of 20000 rows/ && $1 > 0,
	'parallel: the workers indexed rows (' . ($1 // 'none') . ' of 20000)');
unlike($err, qr/outgrew maintenance_work_mem/, 'parallel: the graph fits in memory');
verify('items_hnsw', 'items', 'queries', 20000, 'parallel build');

# REINDEX CONCURRENTLY builds the new index through the same path
($err) = build(q{REINDEX INDEX CONCURRENTLY items_hnsw;});
like($err, qr/with 2 parallel workers launched of 2 requested/, 'REINDEX CONCURRENTLY: 2 workers launched');
verify('items_hnsw', 'items', 'queries', 20000, 'REINDEX CONCURRENTLY');
$node->safe_psql('postgres', 'DROP INDEX items_hnsw');

# CREATE INDEX CONCURRENTLY: an MVCC snapshot for the scan, rows inserted
# and deleted before it reach the index correctly
$node->safe_psql('postgres', q{
	DELETE FROM items WHERE id % 50 = 0;
	INSERT INTO items SELECT i, point(i % 100) FROM generate_series(20001, 20400) i;
});
($err) = build(q{CREATE INDEX CONCURRENTLY items_hnsw ON items USING vsearch_hnsw (v);});
is(workers_launched($err, 'items_hnsw'), 2, 'CREATE INDEX CONCURRENTLY: 2 workers launched');
verify('items_hnsw', 'items', 'queries', 20000, 'CREATE INDEX CONCURRENTLY');
$node->safe_psql('postgres', 'DROP INDEX items_hnsw');

# unlogged table: the main fork is built in parallel, the init fork empty
$node->safe_psql('postgres', q{
	CREATE UNLOGGED TABLE uitems (id int PRIMARY KEY, v vector(128)) WITH (parallel_workers = 2);
	INSERT INTO uitems SELECT id, v FROM items;
});
($err) = build(q{CREATE INDEX uitems_hnsw ON uitems USING vsearch_hnsw (v);});
is(workers_launched($err, 'uitems_hnsw'), 2, 'unlogged: 2 workers launched');
verify('uitems_hnsw', 'uitems', 'queries', 20000, 'unlogged table');
$node->safe_psql('postgres', 'DROP TABLE uitems');

# identical vectors, more than an element holds, among distinct ones
$node->safe_psql('postgres', q{
	CREATE TABLE dups (id int PRIMARY KEY, v vector(128)) WITH (parallel_workers = 2);
	INSERT INTO dups SELECT id, v FROM items WHERE id <= 3000;
	INSERT INTO dups SELECT 100000 + g, (SELECT v FROM queries WHERE q = 6) FROM generate_series(1, 95) g;
});
($err) = build(q{CREATE INDEX dups_hnsw ON dups USING vsearch_hnsw (v);});
is(workers_launched($err, 'dups_hnsw'), 2, 'duplicates: 2 workers launched');
my $ndistinct = $node->safe_psql('postgres', 'SELECT count(DISTINCT v::text) FROM dups WHERE id <= 3000');
my $nrows = $node->safe_psql('postgres', 'SELECT count(*) FROM dups');
is($node->safe_psql('postgres',
		"SELECT elements || ' ' || heap_tids || ' ' || unreachable FROM vsearch_hnsw_check('dups_hnsw')"),
	($ndistinct + 10) . " $nrows 0",
	'duplicates: 95 identical vectors share 10 elements, checker passes');
is($node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM dups ORDER BY v <-> (SELECT v FROM queries WHERE q = 6) LIMIT 95) s
		 WHERE id > 100000}),
	'95', 'duplicates: all 95 are the 95 nearest');
# with a key column the duplicates differ by key: 32, 32 and 31 rows of
# one vector (keys 2, 0 and 1) share 4 + 4 + 4 elements
$node->safe_psql('postgres', q{
	DROP INDEX dups_hnsw;
	ALTER TABLE dups ADD COLUMN tenant int;
	UPDATE dups SET tenant = id % 3;
});
($err) = build(q{CREATE INDEX dups_hnsw ON dups USING vsearch_hnsw (v, tenant);});
is(workers_launched($err, 'dups_hnsw'), 2, 'key column: 2 workers launched');
is($node->safe_psql('postgres',
		"SELECT elements || ' ' || heap_tids || ' ' || unreachable FROM vsearch_hnsw_check('dups_hnsw')"),
	($ndistinct + 12) . " $nrows 0",
	'key column: 95 identical vectors with 3 keys share 12 elements, checker passes');
is($node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM dups WHERE tenant = 1
		  ORDER BY v <-> (SELECT v FROM queries WHERE q = 6) LIMIT 31) s WHERE id > 100000}),
	'31', 'key column: the 31 duplicates of tenant 1 are its 31 nearest');
$node->safe_psql('postgres', 'DROP TABLE dups');

# a parallel build that outgrows maintenance_work_mem: 1,900 dimensions
# (the first 64 carry the data) make a graph of about 80 MB for 10,000
# rows; 64 MB is the least plan_create_index_workers gives a worker
$node->safe_psql('postgres', q{
	CREATE TABLE wide (id int PRIMARY KEY, v vector(1900)) WITH (parallel_workers = 1);
	INSERT INTO wide SELECT id, subvector(v, 1, 64) || array_fill(0::real, ARRAY[1836])::vector
	  FROM items WHERE id <= 10000 AND id % 50 <> 0;
	INSERT INTO wide SELECT id, subvector(v, 1, 64) || array_fill(0::real, ARRAY[1836])::vector
	  FROM items WHERE id > 20000 AND id <= 20200;
	CREATE TABLE wqueries AS SELECT q, subvector(v, 1, 64) || array_fill(0::real, ARRAY[1836])::vector AS v FROM queries;
});
my $nwide = $node->safe_psql('postgres', 'SELECT count(*) FROM wide');
($err) = build(q{
	SET maintenance_work_mem = '64MB';
	CREATE INDEX wide_hnsw ON wide USING vsearch_hnsw (v);
});
is(workers_launched($err, 'wide_hnsw'), 1, 'spilling: 1 worker launched');
my @notices = $err =~ /(graph of index "wide_hnsw" outgrew maintenance_work_mem after \d+ rows)/g;
is(scalar(@notices), 1, 'spilling: one NOTICE that the graph no longer fits')
  or diag($err);
verify('wide_hnsw', 'wide', 'wqueries', $nwide, 'spilling parallel build');
$node->safe_psql('postgres', 'DROP TABLE wide, wqueries');

# statement_timeout cancels a parallel build promptly
my $timed_out;
($err, $timed_out) = build(q{
	SET statement_timeout = '300ms';
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v);
}, allow_error => 1);
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels a parallel build');
is(workers_launched($err, 'items_hnsw'), 2, 'statement_timeout: it was a parallel build');
# promptly: once the 300 ms are up, the cancel takes less than half of
# what the build had left (comparing the whole time with half the build
# tied at 0.368 s against 0.368 s when the build took only 0.74 s)
cmp_ok($timed_out - 0.3, '<', ($par_time - 0.3) / 2,
	"statement_timeout: cancelled after ${timed_out}s, the whole build took ${par_time}s");
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'items_hnsw'"),
	'0', 'statement_timeout: no index left');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
	'statement_timeout: no parallel worker left');

# kill -9 of a parallel worker mid-build: the postmaster reinitialises
my $offset = -s $node->logfile;
my ($vout, $verr) = ('', '');
my $victim = IPC::Run::start(
	[
		'psql', '-X', '-q', '-d', $node->connstr('postgres'),
		'-c', 'CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v)'
	],
	'>', \$vout, '2>', \$verr);
my $wpid;
for (my $i = 0; $i < 3000 && !$wpid; $i++)
{
	$wpid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'parallel worker' AND query LIKE 'CREATE INDEX items_hnsw%' LIMIT 1");
	usleep(10_000) unless $wpid;
}
ok($wpid, 'kill -9: a parallel worker of the build was found') or BAIL_OUT('no worker to kill');
kill 'KILL', $wpid;
$victim->finish;
$node->wait_for_log(qr/was terminated by signal 9/, $offset);
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or BAIL_OUT('the server did not come back');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'items_hnsw'"),
	'0', 'kill -9: the killed build left no index');
($err) = build(q{CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v);});
is(workers_launched($err, 'items_hnsw'), 2, 'kill -9: the retried build launched 2 workers');
verify('items_hnsw', 'items', 'queries', 20000, 'build retried after kill -9');

$node->stop;
done_testing();
