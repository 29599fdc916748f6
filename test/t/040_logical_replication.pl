# 040_logical_replication.pl: a table with a vector column published by
# logical replication to a subscriber whose copies of the table have their
# own vsearch_hnsw and vsearch_ivf indexes (the publisher has none).  Two
# subscriptions, one with binary = false (vectors sent as text) and one
# with binary = true (vector_send / vector_recv), each into its own table.
# After the initial sync and after inserts, updates (of the vector, to NULL
# and back, of other columns) and deletes on the publisher, the subscriber
# must have the publisher's rows (md5 of the ordered text), the checkers
# pass on every index, a scan forced through each index without LIMIT
# returns every row with a vector exactly once, and filtered k-NN queries
# (the hybrid scan) return min(10, matches) rows with recall >= 0.9
# against exact search on the subscriber (a row counts when it is no
# farther than the exact k-th row: many rows share one vector).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical', extra => ['--data-checksums']);
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init(extra => ['--data-checksums']);
$sub->start;

my $table = 'CREATE TABLE %s (id int PRIMARY KEY, cat int, note text, v vector(16))';
$pub->safe_psql('postgres', 'CREATE EXTENSION vsearch; SELECT setseed(0.4);'
	  . sprintf($table, 'items') . ';' . q{
	INSERT INTO items SELECT i, i % 50, 'n' || i,
	    ARRAY(SELECT (random() + (i % 9))::real FROM generate_series(1, 16) WHERE i > 0)::vector
	  FROM generate_series(1, 4000) i;
	UPDATE items SET v = NULL WHERE id % 97 = 0;
	CREATE PUBLICATION p FOR TABLE items;
});

# the subscriber: one database per subscription (a subscription writes
# into the table of the publisher's schema and name), each table with both
# index kinds and a B-tree on cat for the hybrid scan
my $connstr = $pub->connstr . ' dbname=postgres';
my %db = (text => 'sub_text', bin => 'sub_bin');
for my $mode (sort keys %db)
{
	my $binary = $mode eq 'bin' ? 'true' : 'false';
	$sub->safe_psql('postgres', "CREATE DATABASE $db{$mode}");
	$sub->safe_psql($db{$mode}, 'CREATE EXTENSION vsearch;' . sprintf($table, 'items') . ';' . q{
		CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 40);
		CREATE INDEX items_ivf ON items USING vsearch_ivf (v) WITH (lists = 10);
		CREATE INDEX items_cat ON items (cat);
	});
	$sub->safe_psql($db{$mode},
		"CREATE SUBSCRIPTION s_$mode CONNECTION '$connstr' PUBLICATION p WITH (binary = $binary)");
	is($sub->safe_psql($db{$mode}, "SELECT subbinary FROM pg_subscription WHERE subname = 's_$mode'"),
		$mode eq 'bin' ? 't' : 'f', "$mode: the subscription has binary = $binary");
}
$sub->wait_for_subscription_sync($pub, "s_$_", $db{$_}) for sort keys %db;

my $rows_md5 = q{SELECT count(*), count(v), md5(string_agg(t::text, E'\n' ORDER BY id)) FROM items t};

# filtered k-NN queries: for each query vector and filter, the ids from the
# default plan (which must be the hybrid scan) and from exact search
# (the first three must be served by the hybrid scan; for the wider ones
# the planner may choose otherwise)
my @filters = ('cat = 7', 'cat IN (1, 20, 33)', 'cat = 49 AND id % 2 = 0', 'cat < 3', 'cat >= 0');
my $hybrid_filters = 3;
my @queries = map { "array_fill(${_}::real, ARRAY[16])::vector" } (0.5, 3.5, 4.2, 8.7);

sub compare
{
	my ($what) = @_;
	my $on_pub = $pub->safe_psql('postgres', $rows_md5);
	like($on_pub, qr/^\d+\|\d+\|[0-9a-f]{32}$/, "$what: the publisher's rows");
	for my $mode (sort keys %db)
	{
		my $d = $db{$mode};
		is($sub->safe_psql($d, $rows_md5), $on_pub, "$what, $mode: the subscriber has the publisher's rows");
		my ($ret, $out, $err) = $sub->psql($d,
			"SELECT heap_tids >= live_rows AND deleted = 0, unreachable, elements FROM vsearch_hnsw_check('items_hnsw')");
		is($ret, 0, "$what, $mode: the hnsw checker passes") or diag($err);
		my ($hok, $unreachable, $elements) = split /\|/, $out;
		is($hok, 't', "$what, $mode: the hnsw index holds every row, no element left deleted");
		note("$what, $mode: $unreachable of $elements hnsw elements unreachable through the graph");
		# an index filled by row-by-row inserts of clustered data (the
		# apply worker's) once left whole clusters without a way in
		cmp_ok($unreachable * 100, '<=', $elements, "$what, $mode: under 1% of hnsw elements unreachable");
		($ret, $out, $err) = $sub->psql($d, "SELECT vsearch_ivf_check('items_ivf')");
		is($ret, 0, "$what, $mode: the ivf checker passes") or diag($err);

		my $all = $sub->safe_psql($d, 'SELECT count(*), count(*), sum(id) FROM items WHERE v IS NOT NULL');
		for my $index ('items_hnsw', 'items_ivf')
		{
			my $other = $index eq 'items_hnsw' ? 'items_ivf' : 'items_hnsw';
			my $pre = "BEGIN; DROP INDEX $other; SET vsearch.hybrid = off; SET enable_seqscan = off;
				SET enable_bitmapscan = off; SET enable_sort = off;";
			my $q = 'SELECT count(*), count(DISTINCT id), sum(id) FROM
				  (SELECT id FROM items ORDER BY v <-> array_fill(4::real, ARRAY[16])::vector) s';
			like($sub->safe_psql($d, "$pre EXPLAIN (COSTS OFF) $q; ROLLBACK;"),
				qr/Index Scan using $index/, "$what, $mode: the scan without LIMIT reads $index");
			is($sub->safe_psql($d, "$pre $q; ROLLBACK;"), $all,
				"$what, $mode: $index returns every row with a vector exactly once");
		}

		my ($plans, $short, $hits, $total) = (0, 0, 0, 0);
		for my $fi (0 .. $#filters)
		{
			my $f = $filters[$fi];
			for my $qv (@queries)
			{
				my $q = "SELECT id, v <-> $qv FROM items WHERE $f ORDER BY v <-> $qv LIMIT 10";
				my $plan = $sub->safe_psql($d, "EXPLAIN (COSTS OFF) $q");
				$plans++ if $fi < $hybrid_filters && $plan =~ /Custom Scan \(VSearch Hybrid\)/;
				my @got = split /\n/, $sub->safe_psql($d, $q);
				my @exact = split /\n/, $sub->safe_psql($d,
					"SET vsearch.hybrid = off; SET enable_indexscan = off; SET enable_bitmapscan = off; $q");
				my $matches = $sub->safe_psql($d, "SELECT count(*) FROM items WHERE $f AND v IS NOT NULL");
				$short++ if @got != ($matches < 10 ? $matches : 10);
				# a hit is a row no farther than the exact k-th row: many rows
				# share one vector here, so ids of tied rows may differ
				my $kth = @exact ? (split /\|/, $exact[-1])[1] : 0;
				$hits += grep { (split /\|/, $_)[1] <= $kth + 1e-4 * ($kth > 1 ? $kth : 1) } @got;
				$total += @exact;
			}
		}
		is($plans, $hybrid_filters * @queries, "$what, $mode: the selective filtered queries use the hybrid scan");
		is($short, 0, "$what, $mode: every filtered query returns min(10, matching rows)");
		cmp_ok($hits, '>=', 0.9 * $total, "$what, $mode: recall of the filtered queries >= 0.9 ($hits of $total)");
	}
}

compare('after the initial sync');

# inserts, updates of the vector, to NULL and back, of other columns only,
# deletes, in several transactions
for my $round (1 .. 3)
{
	my $lo = 4000 + ($round - 1) * 1000 + 1;
	my $hi = 4000 + $round * 1000;
	$pub->safe_psql('postgres', qq{
		INSERT INTO items SELECT i, i % 50, 'n' || i,
		    ARRAY(SELECT (random() + (i % 9))::real FROM generate_series(1, 16) WHERE i > 0)::vector
		  FROM generate_series($lo, $hi) i;
		UPDATE items SET v = ARRAY(SELECT (random() * 9)::real FROM generate_series(1, 16) WHERE id > 0)::vector
		  WHERE id % 13 = $round;
		UPDATE items SET v = NULL WHERE id % 17 = $round;
		UPDATE items SET v = array_fill((id % 9)::real, ARRAY[16])::vector WHERE v IS NULL AND id % 97 = $round;
		UPDATE items SET note = note || '+', cat = (cat + 1) % 50 WHERE id % 11 = $round;
		DELETE FROM items WHERE id % 7 = $round;
	});
	$pub->safe_psql('postgres', 'BEGIN; DELETE FROM items WHERE id % 23 = 5; INSERT INTO items VALUES (100000 + ' . $round . ", 7, 'x', NULL); COMMIT;");
	$pub->wait_for_catchup($_) for ('s_text', 's_bin');
	compare("after round $round");
}

$sub->safe_psql($_, 'VACUUM items') for values %db;
compare('after VACUUM on the subscriber');

$sub->stop;
$pub->stop;
command_ok([ 'pg_checksums', '--check', '-D', $sub->data_dir ], 'pg_checksums --check is clean on the subscriber');
done_testing();
