# 032_concurrently.pl: CREATE INDEX CONCURRENTLY and REINDEX INDEX
# CONCURRENTLY of a vsearch_hnsw and a vsearch_ivf index while pgbench
# clients insert (also identical vectors), update and delete rows.  Each
# operation must run entirely inside the write load (rows are written
# while it runs).  Afterwards the index is valid and ready, no transient
# index is left, pgbench had no error, the checker passes, a scan forced
# through the index with no LIMIT returns every live row exactly once (a
# TID the bulk-delete callback of the validation pass missed would come
# back twice), recall@10 against exact search holds, and with every list
# probed the ivf index gives exactly the exact answers.  A CREATE INDEX
# CONCURRENTLY cancelled by statement_timeout under the same load leaves
# an invalid index that writes ignore and DROP INDEX CONCURRENTLY removes.
# pg_checksums --check ends the test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(time usleep);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('concurrently');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', q{
max_connections = 20
log_statement = none
});
$node->start;

my $dims = 16;
my $vec = "ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, $dims) WHERE g > 0)::vector";
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vsearch;
	-- no autovacuum: one cancelled by a concurrent build would leave the
	-- unfinished-vacuum state the hnsw checker reports until the next vacuum
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector($dims), at timestamptz DEFAULT clock_timestamp())
	  WITH (autovacuum_enabled = off);
	INSERT INTO items (v) SELECT $vec FROM generate_series(1, 20000) g;
	CREATE TABLE queries AS SELECT q, $vec AS v FROM generate_series(1, 20) q, LATERAL (SELECT q AS g) s;
});

my $dir = $node->basedir;
my %scripts = (
	'insert.sql@4' => "INSERT INTO items (v) SELECT $vec FROM generate_series(1, 5) g;\n",
	'insert_dup.sql@1' => "\\set c random(1, 8)\n"
	  . "INSERT INTO items (v) SELECT array_fill(:c::real, ARRAY[$dims])::vector FROM generate_series(1, 3);\n",
	'update.sql@3' => "SELECT last_value AS maxid FROM items_id_seq \\gset\n"
	  . "\\set id random(1, :maxid)\n"
	  . "UPDATE items SET v = $vec FROM generate_series(1, 1) g WHERE id = :id;\n",
	'delete.sql@2' => "SELECT last_value AS maxid FROM items_id_seq \\gset\n"
	  . "\\set id random(1, :maxid)\n"
	  . "DELETE FROM items WHERE id BETWEEN :id AND :id + 3;\n");
my @files;
for my $name (sort keys %scripts)
{
	(my $file = "$dir/$name") =~ s/\@\d+$//;
	append_to_file($file, $scripts{$name});
	push @files, '-f', "$dir/$name";
}

# under_load SECONDS WHAT CODE: runs CODE while 3 pgbench clients write
# for SECONDS (400 transactions a second in all, about 1,000 new row
# versions a second: a concurrent build inserts every row written while it
# built, one by one, in its validation pass; at 120 a second, an IVF build
# that took 0.1 s on a fast machine once saw no row written while it ran);
# checks that CODE ended before the clients, that rows were written while
# it ran and that pgbench had no error.  Returns CODE's result.
sub under_load
{
	my ($seconds, $what, $code) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time();
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-j', '3', '-R', '400', '-T', $seconds, @files,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err, IPC::Run::timeout($seconds + 180));
	usleep(500_000);
	my $start = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	my $result = $code->();
	my $end = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	my $elapsed = time() - $t0;
	ok($elapsed < $seconds, sprintf("$what: done %.1fs into the %ds write load", $elapsed, $seconds));
	cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM items WHERE at BETWEEN '$start' AND '$end'"),
		'>', 0, "$what: rows were written while it ran");
	my $ok = $h->finish;
	ok($ok, "$what: pgbench exited 0") or diag($err);
	unlike($err, qr/ERROR|FATAL|abort/i, "$what: no client reported an error") or diag($err);
	return $result;
}

# load_seconds MIN CREATE [FACTOR]: seconds of write load for a concurrent
# build like CREATE: at least MIN, and FACTOR (4 unless given) times what
# CREATE (a plain build of the same index, dropped again) takes on this
# machine plus 2 s, so that a slow or busy machine still runs the whole
# concurrent build (two table scans and the validation pass) inside the
# load.  REINDEX CONCURRENTLY takes 8: it also swaps the indexes and
# drops the old one, each waiting for the clients' transactions, and at 4
# it once ran 9.9 s in a 9 s load (fresh-clone CI of 465bd96).
sub load_seconds
{
	my ($min, $create, $factor) = @_;
	my $t0 = time();
	$node->safe_psql('postgres', "$create; DROP INDEX calibrate_idx;");
	my $t = time() - $t0;
	my $seconds = int(($factor // 4) * $t + 2.5);
	return $seconds > $min ? $seconds : $min;
}

# index_state INDEX: "valid ready" for a usable index.
sub index_state
{
	my ($index) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END || ' '
		    || CASE WHEN indisready THEN 'ready' ELSE 'not ready' END
		  FROM pg_index WHERE indexrelid = '$index'::regclass});
}

my %op = (items_hnsw => '<->', items_ivf => '<=>');
my %exact = (items_hnsw => 'l2_distance', items_ivf => 'cosine_distance');

# verify INDEX WHAT: valid and ready, the table has only the expected
# indexes, the checker passes, every live row comes back once, recall@10.
sub verify
{
	my ($index, $what, @expected_indexes) = @_;
	my $op = $op{$index};
	my $dist = $exact{$index};
	is(index_state($index), 'valid ready', "$what: $index is valid and ready");
	is($node->safe_psql('postgres',
		q{SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'items'::regclass}),
		join(',', sort('items_pkey', @expected_indexes)), "$what: no other index is left on the table");

	my ($ret, $out, $err) = $index eq 'items_hnsw'
	  ? $node->psql('postgres', "SELECT heap_tids >= live_rows FROM vsearch_hnsw_check('$index')")
	  : $node->psql('postgres', "SELECT true FROM vsearch_ivf_check('$index')");
	is("$ret $out", '0 t', "$what: the checker passes on $index") or diag($err);

	my $force = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;';
	my $q = "array_fill(4.5::real, ARRAY[$dims])::vector";
	my $scan = "SELECT count(*), count(DISTINCT id), sum(id) FROM (SELECT id FROM items ORDER BY v $op $q) s";
	like($node->safe_psql('postgres', "$force EXPLAIN (COSTS OFF) $scan"),
		qr/Index Scan using $index/, "$what: the scan without LIMIT reads $index");
	is($node->safe_psql('postgres', "$force $scan"),
		$node->safe_psql('postgres', 'SELECT count(*), count(*), sum(id) FROM items WHERE v IS NOT NULL'),
		"$what: $index returns every live row exactly once");

	# recall@10: index rows no farther than the exact 10th (ties count)
	my $recall = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SELECT round(avg(hits) / 10, 3) FROM (
		  SELECT (SELECT count(*) FROM (SELECT v FROM items ORDER BY v $op q.v LIMIT 10) a
		           WHERE $dist(a.v, q.v) <= (SELECT max(d) FROM (SELECT $dist(v, q.v) AS d FROM items ORDER BY 1 LIMIT 10) e) + 1e-6) AS hits
		    FROM queries q) s});
	cmp_ok($recall, '>=', 0.9, "$what: recall\@10 of $index against exact search is at least 0.9");
	note("$what: recall\@10 $recall");
	like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v $op (SELECT v FROM queries WHERE q = 1) LIMIT 10"),
		qr/Index Scan using $index/, "$what: the recall queries read $index");

	if ($index eq 'items_ivf')
	{
		# every list probed, the index scan is an exact search: the same
		# distances at every rank (ids may swap where float4 rounding
		# breaks a near tie)
		is($node->safe_psql('postgres', q{
			SET vsearch.probes = 32768;
			SET enable_seqscan = off;
			SELECT string_agg(q::text, ',') FROM queries q
			 WHERE NOT (SELECT count(*) = 10 AND bool_and(abs(i - e) <= 1e-6) FROM unnest(
			         ARRAY(SELECT cosine_distance(v, q.v) FROM (SELECT v FROM items ORDER BY v <=> q.v LIMIT 10) a),
			         ARRAY(SELECT cosine_distance(v, q.v) FROM items ORDER BY cosine_distance(v, q.v) LIMIT 10)) AS x(i, e))}),
		   '', "$what: with every list probed $index gives the exact answers");
	}
}

my $hnsw_load = load_seconds(7, 'CREATE INDEX calibrate_idx ON items USING vsearch_hnsw (v vector_l2_ops)');
under_load($hnsw_load, 'CREATE INDEX CONCURRENTLY hnsw', sub {
	$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY items_hnsw ON items USING vsearch_hnsw (v vector_l2_ops)');
});
verify('items_hnsw', 'CREATE INDEX CONCURRENTLY hnsw', 'items_hnsw');

my $ivf_load = load_seconds(3, 'CREATE INDEX calibrate_idx ON items USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 50)');
under_load($ivf_load, 'CREATE INDEX CONCURRENTLY ivf', sub {
	$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY items_ivf ON items USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 50)');
});
verify('items_ivf', 'CREATE INDEX CONCURRENTLY ivf', 'items_hnsw', 'items_ivf');

my $oid = $node->safe_psql('postgres', q{SELECT 'items_hnsw'::regclass::oid});
# the table has grown: calibrate again
$hnsw_load = load_seconds(7, 'CREATE INDEX calibrate_idx ON items USING vsearch_hnsw (v vector_l2_ops)', 8);
under_load($hnsw_load, 'REINDEX INDEX CONCURRENTLY hnsw', sub {
	$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY items_hnsw');
});
isnt($node->safe_psql('postgres', q{SELECT 'items_hnsw'::regclass::oid}), $oid, 'REINDEX CONCURRENTLY hnsw: a new index took the name');
verify('items_hnsw', 'REINDEX INDEX CONCURRENTLY hnsw', 'items_hnsw', 'items_ivf');

$oid = $node->safe_psql('postgres', q{SELECT 'items_ivf'::regclass::oid});
$ivf_load = load_seconds(3, 'CREATE INDEX calibrate_idx ON items USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 50)', 8);
under_load($ivf_load, 'REINDEX INDEX CONCURRENTLY ivf', sub {
	$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY items_ivf');
});
isnt($node->safe_psql('postgres', q{SELECT 'items_ivf'::regclass::oid}), $oid, 'REINDEX CONCURRENTLY ivf: a new index took the name');
verify('items_ivf', 'REINDEX INDEX CONCURRENTLY ivf', 'items_hnsw', 'items_ivf');

# cancelled: the hnsw build takes over a second, the timeout is 300 ms
my $err = under_load(3, 'CREATE INDEX CONCURRENTLY cancelled', sub {
	my ($ret, $out, $err) = $node->psql('postgres',
		'SET statement_timeout = 300; CREATE INDEX CONCURRENTLY items_cancel ON items USING vsearch_hnsw (v)');
	return $err;
});
like($err, qr/canceling statement due to statement timeout/, 'the cancelled build stopped on the timeout');
is(index_state('items_cancel'), 'invalid not ready', 'the cancelled build left an invalid index');
$node->safe_psql('postgres', 'DROP INDEX CONCURRENTLY items_cancel');
verify('items_hnsw', 'after DROP INDEX CONCURRENTLY of the cancelled one', 'items_hnsw', 'items_ivf');

$node->stop;
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
	'pg_checksums --check is clean');
done_testing();
