# 010_ivf_standby.pl: a vsearch_ivf index replayed on a streaming standby
# with wal_consistency_checking = 'generic' (replay compares every page it
# rebuilds with the full-page image the primary logged, and stops on a
# mismatch) gives the same k-NN answers as on the primary, after a build
# and after rounds of inserts, deletes and vacuum; an index on an empty
# table that gets its first list by insert replays too; the structure
# checker passes on both nodes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('ivf_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq(
wal_consistency_checking = 'generic'
max_wal_senders = 2
wal_keep_size = '1GB'
));
# wal_keep_size: WAL with full page images outruns a standby still connecting
$primary->start;
$primary->backup('ivf_backup');

my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($primary, 'ivf_backup', has_streaming => 1);
$standby->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\n");
$standby->start;

$primary->safe_psql('postgres', q(
CREATE EXTENSION vsearch;
SELECT setseed(0.5);
CREATE TABLE items (id int PRIMARY KEY, v vector(8));
INSERT INTO items SELECT i, ARRAY(SELECT (random() + (i % 5))::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(1, 2000) i;
CREATE INDEX items_ivf ON items USING vsearch_ivf (v) WITH (lists = 12);
CREATE TABLE later (id int, v vector(8));
CREATE INDEX later_ivf ON later USING vsearch_ivf (v vector_cosine_ops);
));

# The k-NN answers of five queries through the index (3 of 12 lists probed,
# so approximate answers that depend on every page of the index).
my $knn = q(
SET enable_seqscan = off;
SET vsearch.probes = 3;
SELECT string_agg(ids, ' | ' ORDER BY q) FROM (
  SELECT q, (SELECT string_agg(id::text, ',') FROM
               (SELECT id FROM items ORDER BY v <-> array_fill(q::real, ARRAY[8])::vector LIMIT 10) s) AS ids
    FROM generate_series(0, 4) q) s;
);
my $later = q(
SET enable_seqscan = off;
SELECT string_agg(id::text, ',') FROM (SELECT id FROM later ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 20) s;
);

sub compare
{
	my ($what) = @_;
	$primary->wait_for_catchup($standby, 'replay');
	my $p = $primary->safe_psql('postgres', $knn);
	my $s = $standby->safe_psql('postgres', $knn);
	isnt($p, '', "$what: the primary answers");
	is($s, $p, "$what: the standby gives the same k-NN answers");
	is($standby->safe_psql('postgres', $later), $primary->safe_psql('postgres', $later),
		"$what: same answers from the index built empty");
}

compare('after build');

for my $round (1 .. 3)
{
	my $lo = 2000 * $round + 1;
	my $hi = $lo + 1499;
	$primary->safe_psql('postgres', qq(
INSERT INTO items SELECT i, ARRAY(SELECT (random() + (i % 7))::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series($lo, $hi) i;
INSERT INTO later SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series($lo, $lo + 299) i;
DELETE FROM items WHERE id % 3 = $round % 3;
DELETE FROM later WHERE id % 2 = 0;
VACUUM items;
VACUUM later;
));
	compare("round $round (insert, delete, vacuum)");
}

# everything deleted, vacuumed and inserted again
$primary->safe_psql('postgres', q(
DELETE FROM items;
VACUUM items;
INSERT INTO items SELECT i, ARRAY(SELECT (random() + (i % 5))::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(1, 3000) i;
));
compare('delete all, vacuum, reinsert');

for my $node ($primary, $standby)
{
	my ($ret, $out, $err) = $node->psql('postgres',
		q(SELECT vsearch_ivf_check('items_ivf'), vsearch_ivf_check('later_ivf')));
	is($ret, 0, $node->name . ': the structure checker passes') or diag($err);
}

$standby->stop;
$primary->stop;
done_testing();
