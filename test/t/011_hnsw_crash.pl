# 011_hnsw_crash.pl: vsearch_hnsw under concurrent inserts and crashes.
# Two pgbench clients insert for a while and the server is stopped with
# 'immediate' at a random moment, twice; after each restart the structure
# checker passes, every visible row is in the index, and recall against
# exact search holds.  An unlogged table is empty after the crash and its
# index still works; at the end pg_checksums finds every page valid.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(usleep);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', "max_connections = 20\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(16));
	INSERT INTO items (v) SELECT ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE g > 0)::vector
	  FROM generate_series(1, 2000) g;
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v);
	CREATE UNLOGGED TABLE scratch (v vector(4));
	CREATE INDEX scratch_hnsw ON scratch USING vsearch_hnsw (v);
	INSERT INTO scratch SELECT ARRAY[i, i, i, i]::real[] FROM generate_series(1, 100) i;
});

my $script = $node->basedir . '/insert.sql';
open(my $fh, '>', $script) or die "could not write $script: $!";
print $fh "INSERT INTO items (v) SELECT ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE g > 0)::vector FROM generate_series(1, 5) g;\n";
close($fh);

my $recall = q{
	CREATE TEMP TABLE qs AS SELECT ARRAY(SELECT (random() * 10)::real FROM generate_series(1, 16) WHERE g > 0)::vector AS v
	  FROM generate_series(1, 20) g;
	SELECT sum((SELECT count(*) FROM
	             (SELECT id FROM items ORDER BY v <-> qs.v LIMIT 10) a
	             WHERE id IN (SELECT id FROM items ORDER BY l2_distance(v, qs.v) LIMIT 10)))
	       / 200.0 >= 0.95
	  FROM qs;
};

for my $round (1 .. 2)
{
	my ($out, $err) = ('', '');
	my $pgbench = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-T', '20', '-f', $script,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	usleep(1_500_000 + int(rand(2_500_000)));
	$node->stop('immediate');
	$pgbench->finish;
	$node->start;

	# the checker raises an error for a visible row missing from the index;
	# rows of transactions the crash aborted may still be in it until vacuum
	my $check = $node->safe_psql('postgres',
		"SELECT live_rows > 2000 AND heap_tids >= live_rows FROM vsearch_hnsw_check('items_hnsw')");
	is($check, 't', "crash $round: checker passes and every visible row is in the index");
	# index scan (ORDER BY v <-> q) against exact search (ORDER BY the
	# function l2_distance(v, q), which no index can serve)
	# a search wider than the default keeps the check about the graph
	# (intact after the crash), not about how hard 16-d uniform data is
	is($node->safe_psql('postgres', "SET enable_seqscan = off; SET vsearch.ef_search = 100; $recall"), 't',
		"crash $round: recall\@10 against exact search >= 0.95");
}

is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'unlogged table is empty after the crash');
$node->safe_psql('postgres', q{INSERT INTO scratch SELECT ARRAY[i, i, i, i]::real[] FROM generate_series(1, 50) i});
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT string_agg(v::text, ' ') FROM (SELECT v FROM scratch ORDER BY v <-> '[2.9,2.9,2.9,2.9]' LIMIT 2) s}),
	'[3,3,3,3] [2,2,2,2]', 'its index works after the crash');
is($node->safe_psql('postgres', "SELECT elements FROM vsearch_hnsw_check('scratch_hnsw')"), '50',
	'the unlogged index holds only the new rows');

$node->stop;
# every page the crashes, recovery and the workload wrote has a valid checksum
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
	'pg_checksums --check is clean after the crashes');
done_testing();
