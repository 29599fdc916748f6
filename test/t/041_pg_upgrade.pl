# 041_pg_upgrade.pl: pg_upgrade (PostgreSQL 15 to 15, same binaries) of a
# cluster with data checksums holding a table with a vsearch_hnsw and a
# vsearch_ivf index and a few NULL vectors.  pg_upgrade carries the index
# files over as they are (copy mode, the default); on the new cluster the checkers
# pass, a scan forced through each index with no LIMIT returns every row
# with a vector exactly once, the k-NN answers through each index and a
# filtered (hybrid) query are identical to those before the upgrade, and
# inserts, deletes and VACUUM work, the checkers passing afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init(extra => ['--data-checksums']);
$old->append_conf('postgresql.conf', "autovacuum = off\n");
$old->start;
$old->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.41);
	CREATE TABLE items (id int PRIMARY KEY, cat int, v vector(16));
	INSERT INTO items SELECT i, i % 20, ARRAY(SELECT (random() + (i % 7))::real FROM generate_series(1, 16) WHERE i > 0)::vector
	  FROM generate_series(1, 5000) i;
	INSERT INTO items VALUES (5001, 3, NULL), (5002, 4, NULL);
	CREATE INDEX items_cat ON items (cat);
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 32);
	CREATE INDEX items_ivf ON items USING vsearch_ivf (v) WITH (lists = 20);
	DELETE FROM items WHERE id % 10 = 0;
	VACUUM items;
	ANALYZE items;
	CREATE TABLE queries AS SELECT q, ARRAY(SELECT (random() * 7)::real FROM generate_series(1, 16) WHERE q > 0)::vector AS v
	  FROM generate_series(1, 10) q;
});

# the 10 nearest ids of every query, as one string; INDEX is the vector
# index to read (the other is dropped inside a transaction rolled back at
# the end), or 'hybrid' for a query filtered on cat.  Returns the answers
# and the plan.
sub knn
{
	my ($node, $index) = @_;
	my $hybrid = $index eq 'hybrid';
	my $pre = 'BEGIN; SET vsearch.probes = 20; SET vsearch.ef_search = 100;';
	if (!$hybrid)
	{
		my $other = $index eq 'items_hnsw' ? 'items_ivf' : 'items_hnsw';
		$pre .= "DROP INDEX $other; SET vsearch.hybrid = off; SET enable_seqscan = off; SET enable_bitmapscan = off;";
	}
	my $sql = q{SELECT string_agg(ids, ';' ORDER BY q) FROM (
	    SELECT q.q, (SELECT string_agg(id::text, ',') FROM
	                   (SELECT id FROM items } . ($hybrid ? 'WHERE cat = q.q % 20 ' : '')
	  . q{ORDER BY v <-> q.v LIMIT 10) s) AS ids
	    FROM queries q) t};
	my $explain = $node->safe_psql('postgres', "$pre EXPLAIN (COSTS OFF) $sql; ROLLBACK;");
	return ($node->safe_psql('postgres', "$pre $sql; ROLLBACK;"), $explain);
}

sub answers
{
	my ($node) = @_;
	my %a;
	for my $index ('items_hnsw', 'items_ivf', 'hybrid')
	{
		my ($res, $explain) = knn($node, $index);
		like($explain, $index eq 'hybrid' ? qr/Custom Scan \(VSearch Hybrid\)/ : qr/Index Scan using $index/,
			"the k-NN query reads $index");
		$a{$index} = $res;
	}
	return \%a;
}

# checkers, and a scan forced through each index without LIMIT
sub check_indexes
{
	my ($node, $what) = @_;
	is($node->safe_psql('postgres',
			"SELECT heap_tids >= live_rows AND deleted = 0 FROM vsearch_hnsw_check('items_hnsw')"),
		't', "$what: the hnsw checker passes")
	  or diag($node->safe_psql('postgres', "SELECT * FROM vsearch_hnsw_check('items_hnsw')"));
	is($node->safe_psql('postgres', "SELECT unreachable FROM vsearch_hnsw_check('items_hnsw')"),
		'0', "$what: every hnsw element is reachable from the entry point");
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT vsearch_ivf_check('items_ivf')");
	is($ret, 0, "$what: the ivf checker passes") or diag($err);
	my $all = $node->safe_psql('postgres', 'SELECT count(*), count(*), sum(id) FROM items WHERE v IS NOT NULL');
	for my $index ('items_hnsw', 'items_ivf')
	{
		my $other = $index eq 'items_hnsw' ? 'items_ivf' : 'items_hnsw';
		my $pre = "BEGIN; DROP INDEX $other; SET vsearch.hybrid = off; SET enable_seqscan = off;
			SET enable_bitmapscan = off; SET enable_sort = off;";
		my $q = 'SELECT count(*), count(DISTINCT id), sum(id) FROM
			  (SELECT id FROM items ORDER BY v <-> array_fill(3::real, ARRAY[16])::vector) s';
		like($node->safe_psql('postgres', "$pre EXPLAIN (COSTS OFF) $q; ROLLBACK;"),
			qr/Index Scan using $index/, "$what: the scan without LIMIT reads $index");
		is($node->safe_psql('postgres', "$pre $q; ROLLBACK;"), $all,
			"$what: $index returns every row with a vector exactly once");
	}
}

check_indexes($old, 'before the upgrade');
my $before = answers($old);
ok(length($before->{items_hnsw}) > 100, 'the old cluster answers');
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init(extra => ['--data-checksums']);
$new->append_conf('postgresql.conf', "autovacuum = off\n");
my $bindir = $new->config_data('--bindir');

# pg_upgrade writes its scripts into the current directory
chdir ${PostgreSQL::Test::Utils::tmp_check};
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-s', $new->host,
		'-p', $old->port, '-P', $new->port,
	],
	'pg_upgrade of the cluster with vsearch indexes');
$new->start;

like($new->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'vsearch'"),
	qr/^\d/, 'the extension came over');
check_indexes($new, 'after the upgrade');
my $after = answers($new);
for my $k (sort keys %$before)
{
	is($after->{$k}, $before->{$k}, "after the upgrade: identical answers through $k");
}

# writes and vacuum on the upgraded indexes
$new->safe_psql('postgres', q{
	INSERT INTO items SELECT i, i % 20, ARRAY(SELECT (random() + (i % 7))::real FROM generate_series(1, 16) WHERE i > 0)::vector
	  FROM generate_series(6001, 7000) i;
	DELETE FROM items WHERE id % 10 = 1;
	VACUUM items;
});
check_indexes($new, 'after inserts, deletes and VACUUM');
my $new_rows = $new->safe_psql('postgres', q{
	SET vsearch.hybrid = off; SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*) FROM (SELECT id FROM items WHERE id > 6000 ORDER BY v <-> array_fill(3::real, ARRAY[16])::vector) s});
is($new_rows, '900', 'the rows inserted after the upgrade are found through the index');

$new->stop;
command_ok([ 'pg_checksums', '--check', '-D', $new->data_dir ], 'pg_checksums --check is clean on the new cluster');
done_testing();
