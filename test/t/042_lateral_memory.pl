# 042_lateral_memory.pl: 10,000 rescans of a filtered top-k in a LATERAL
# join keep backend memory flat.  Each outer row runs
#   LATERAL (SELECT id FROM t WHERE cat = o.c ORDER BY v <-> o.q LIMIT 5)
# through the hybrid scan (vsearch.hybrid = on, each strategy) and through
# the plain index scan (vsearch.hybrid = off), for hnsw and ivf.  A
# volatile function in the join's target list reads
# pg_backend_memory_contexts while the executor runs, after outer rows
# 1,000 and 10,000: the backend's total must grow by less than 1 MB
# between the two (a leak of 100 bytes a rescan would show as 900 kB).
# The same session's total after a run of 1,000 and after one of 10,000
# outer rows must also differ by less than 1 MB.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lateral');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vsearch;
	SELECT setseed(0.42);
	CREATE TABLE t (id int PRIMARY KEY, cat int, v vector(8));
	INSERT INTO t SELECT i, (i / 5) % 10, ARRAY(SELECT (random() + (i % 5))::real FROM generate_series(1, 8) WHERE i > 0)::vector
	  FROM generate_series(1, 10000) i;
	CREATE INDEX t_cat ON t (cat);
	CREATE INDEX t_hnsw ON t USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 32);
	CREATE TABLE t2 AS SELECT * FROM t;
	CREATE INDEX t2_cat ON t2 (cat);
	CREATE INDEX t2_ivf ON t2 USING vsearch_ivf (v) WITH (lists = 20);
	ANALYZE t, t2;
	CREATE TABLE o AS SELECT n, n % 10 AS c, ARRAY(SELECT (random() * 5)::real FROM generate_series(1, 8) WHERE n > 0)::vector AS q
	  FROM generate_series(1, 10000) n;
	ANALYZE o;
	CREATE FUNCTION backend_mem() RETURNS bigint VOLATILE LANGUAGE sql
	  AS $$ SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts $$;
	-- the backend's memory after outer rows 1,000 and 10,000, else NULL
	CREATE FUNCTION mem_at(n int) RETURNS bigint VOLATILE LANGUAGE plpgsql
	  AS $$ BEGIN IF n IN (1000, 10000) THEN RETURN backend_mem(); END IF; RETURN NULL; END $$;
});

my $bg = $node->background_psql('postgres');

# run TABLE's lateral query over the first N outer rows under SETTINGS;
# returns (rows, memory at outer row 1,000, memory at outer row 10,000)
sub lateral
{
	my ($table, $n, $settings) = @_;
	my $q = qq{SELECT count(*), sum(n),
	        max(m) FILTER (WHERE n = 1000), max(m) FILTER (WHERE n = 10000)
	  FROM (SELECT o.n, s.id, mem_at(o.n) AS m
	          FROM o CROSS JOIN LATERAL
	               (SELECT id FROM $table t WHERE t.cat = o.c ORDER BY t.v <-> o.q LIMIT 5) s
	         WHERE o.n <= $n OFFSET 0) x};
	my $plan = $bg->query_safe("$settings; EXPLAIN (COSTS OFF) $q");
	my $out = $bg->query_safe($q);
	return ($plan, split /\|/, $out);
}

my %cases = (
	'hnsw, hybrid (auto)'  => [ 't',  'SET vsearch.hybrid = on; RESET vsearch.hybrid_strategy', qr/Custom Scan \(VSearch Hybrid\)/ ],
	'hnsw, hybrid exact'   => [ 't',  'SET vsearch.hybrid = on; SET vsearch.hybrid_strategy = exact', qr/Custom Scan \(VSearch Hybrid\)/ ],
	'hnsw, hybrid index'   => [ 't',  'SET vsearch.hybrid = on; SET vsearch.hybrid_strategy = index', qr/Custom Scan \(VSearch Hybrid\)/ ],
	'hnsw, plain index scan' => [ 't', 'SET vsearch.hybrid = off; RESET vsearch.hybrid_strategy; SET enable_bitmapscan = off; SET enable_seqscan = off',
		qr/Index Scan using t_hnsw/ ],
	'ivf, hybrid (auto)'   => [ 't2', 'SET vsearch.hybrid = on; RESET vsearch.hybrid_strategy; RESET enable_bitmapscan; RESET enable_seqscan', qr/Custom Scan \(VSearch Hybrid\)/ ],
	'ivf, plain index scan' => [ 't2', 'SET vsearch.hybrid = off; SET enable_bitmapscan = off; SET enable_seqscan = off',
		qr/Index Scan using t2_ivf/ ],
);

for my $case (sort { $cases{$a}[0] cmp $cases{$b}[0] or $a cmp $b } keys %cases)
{
	my ($table, $settings, $plan_re) = @{ $cases{$case} };
	my $t0 = time;
	my ($plan) = lateral($table, 1000, $settings);
	like($plan, $plan_re, "$case: the plan") or diag($plan);
	like($plan, qr/Nested Loop/, "$case: a nested loop rescans the inner side");

	# a warm-up run, then the session's total after 1,000 and 10,000 outer rows
	lateral($table, 1000, $settings);
	my (undef, $rows1) = lateral($table, 1000, $settings);
	my $after1 = $bg->query_safe('SELECT backend_mem()');
	my (undef, $rows10, $outer, $m1000, $m10000) = lateral($table, 10000, $settings);
	my $after10 = $bg->query_safe('SELECT backend_mem()');

	is($rows1, 5000, "$case: 1,000 outer rows give 5 rows each");
	is("$rows10|$outer", '50000|250025000', "$case: 10,000 outer rows give 5 rows each");
	my $in_run = $m10000 - $m1000;
	my $between = $after10 - $after1;
	cmp_ok($in_run, '<', 1024 * 1024,
		"$case: inside the run, memory after outer row 10,000 within 1 MB of that after row 1,000 ($m1000 -> $m10000)");
	cmp_ok($between, '<', 1024 * 1024,
		"$case: the session's memory after 10,000 outer rows within 1 MB of that after 1,000 ($after1 -> $after10)");
	note(sprintf('%s: growth from row 1,000 to 10,000 %d bytes; session %d bytes; %d s',
			$case, $in_run, $between, time - $t0));
}

$bg->quit;
$node->stop;
done_testing();
