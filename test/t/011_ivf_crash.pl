# 011_ivf_crash.pl: an immediate shutdown (a crash) while two clients insert
# into tables with vsearch_ivf indexes; after recovery the structure
# checker passes, the index returns exactly the rows of the table, and
# inserts and a rebuild work.  Repeated with different timings, and once
# while the index of an empty table creates its first list.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('ivf_crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 20\n");
$node->start;

$node->safe_psql('postgres', q(
CREATE EXTENSION vsearch;
CREATE TABLE items (id bigserial PRIMARY KEY, v vector(16));
INSERT INTO items (v) SELECT ARRAY(SELECT (random() + (i % 9))::real FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(1, 3000) i;
CREATE INDEX items_ivf ON items USING vsearch_ivf (v) WITH (lists = 10);
CREATE TABLE empty_at_build (id bigserial PRIMARY KEY, v vector(16));
CREATE INDEX empty_ivf ON empty_at_build USING vsearch_ivf (v vector_ip_ops);
));

my $script = "$PostgreSQL::Test::Utils::tmp_check/ivf_insert.sql";
PostgreSQL::Test::Utils::append_to_file($script, q(
INSERT INTO items (v) SELECT ARRAY(SELECT (random() * 9)::real FROM generate_series(1, 16) WHERE g > 0)::vector FROM generate_series(1, 20) g;
INSERT INTO empty_at_build (v) SELECT ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE g > 0)::vector FROM generate_series(1, 5) g;
DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 3);
));

# every row the index returns (all lists read) against the table
my $agree = q(
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT (SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> array_fill(4::real, ARRAY[16])::vector LIMIT 1000000) s)
     = (SELECT count(*) FROM items WHERE v IS NOT NULL)
   AND (SELECT count(*) FROM (SELECT id FROM empty_at_build ORDER BY v <#> array_fill(1::real, ARRAY[16])::vector LIMIT 1000000) s)
     = (SELECT count(*) FROM empty_at_build WHERE v IS NOT NULL);
);

for my $round (1 .. 4)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-T', '30', '-f', $script, '-d', $node->connstr('postgres') ],
		'>', \$out, '2>', \$err);
	# let the clients run for a while: 0.5 to 2 seconds
	select(undef, undef, undef, 0.5 * $round);
	$node->stop('immediate');
	$h->finish;
	$node->start;

	my ($ret, $o, $e) = $node->psql('postgres',
		q(SELECT vsearch_ivf_check('items_ivf'), vsearch_ivf_check('empty_ivf')));
	is($ret, 0, "round $round: the structure checker passes after the crash") or diag($e);
	is($node->safe_psql('postgres', $agree), 't', "round $round: the index returns exactly the table's rows");
}

# the clients did run before the crashes (the second table gets rows only from them)
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM empty_at_build'), '>', 0,
	'the clients inserted rows before the crashes');

$node->safe_psql('postgres', q(
INSERT INTO items (v) SELECT ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector FROM generate_series(1, 500) i;
VACUUM items;
REINDEX INDEX items_ivf;
));
my ($ret, $o, $e) = $node->psql('postgres', q(SELECT vsearch_ivf_check('items_ivf')));
is($ret, 0, 'after inserts, vacuum and REINDEX the checker passes') or diag($e);
is($node->safe_psql('postgres', $agree), 't', 'after REINDEX the index returns exactly the table rows');

$node->stop;
done_testing();
