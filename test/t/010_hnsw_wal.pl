# 010_hnsw_wal.pl: vsearch_hnsw on a streaming standby.  The primary runs
# with wal_consistency_checking = 'generic', so the standby compares every
# replayed Generic WAL page with the full image the primary logged; after
# rounds of inserts, deletes and vacuum, nearest-neighbour answers read
# through the index must be identical on both, and the structure checker
# must pass on the standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, extra => ['--data-checksums']);
# Full page images of every Generic WAL record make WAL fast: keep it until
# the standby has streamed it (the fresh-clone CI of fc93e20 lost segment 8
# before the standby connected, and the catch-up waited until it timed out).
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\nwal_keep_size = '1GB'\n");
$primary->start;
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.7);
	CREATE TABLE items (id int PRIMARY KEY, v vector(16));
	INSERT INTO items SELECT i, ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE i > 0)::vector
	  FROM generate_series(1, 3000) i;
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 32);
	CREATE TABLE queries AS SELECT q, ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE q > 0)::vector AS v
	  FROM generate_series(1, 20) q;
});

# the 10 nearest ids of every query, read through the index
my $knn = q{
	SET enable_seqscan = off;
	SELECT string_agg(ids, ';' ORDER BY q) FROM (
	  SELECT q.q, (SELECT string_agg(id::text, ',') FROM
	                 (SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) s) AS ids
	  FROM queries q) t;
};

for my $round (1 .. 4)
{
	my $lo = 3000 + ($round - 1) * 1000 + 1;
	my $hi = 3000 + $round * 1000;
	$primary->safe_psql('postgres', qq{
		INSERT INTO items SELECT i, ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE i > 0)::vector
		  FROM generate_series($lo, $hi) i;
		DELETE FROM items WHERE id % 5 = $round;
	});
	$primary->safe_psql('postgres', 'VACUUM items');
	$primary->wait_for_catchup($standby);

	my $on_primary = $primary->safe_psql('postgres', $knn);
	my $on_standby = $standby->safe_psql('postgres', $knn);
	ok(length($on_primary) > 100, "round $round: the primary answers");
	is($on_standby, $on_primary, "round $round: the standby gives identical nearest neighbours");
	# inserts and vacuum repair may leave a few elements without in-links
	# (scans still return them through their final pass); keep it under 1%
	my $check = $standby->safe_psql('postgres',
		"SELECT heap_tids >= live_rows AND live_rows > 2000 AND unreachable * 100 <= elements, unreachable FROM vsearch_hnsw_check('items_hnsw')");
	my ($ok, $unreachable) = split(/\|/, $check);
	is($ok, 't', "round $round: the checker passes on the standby, every row in the index");
	note("round $round: $unreachable elements not reachable through the graph");
}

# reads on the standby while it replays a large insert
my $bg = $primary->background_psql('postgres');
$bg->query_safe(q{
	INSERT INTO items SELECT i, ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE i > 0)::vector
	  FROM generate_series(100001, 104000) i;
});
my $reads_ok = 1;
for (1 .. 20)
{
	my ($ret, $out, $err) = $standby->psql('postgres', $knn);
	$reads_ok = 0 if $ret != 0;
}
$bg->quit;
ok($reads_ok, 'queries on the standby during replay succeed');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $knn), $primary->safe_psql('postgres', $knn),
	'after replay the standby still agrees');

# the standby never failed a consistency check
$standby->stop;
my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no inconsistent page during replay');
$primary->stop;
done_testing();
