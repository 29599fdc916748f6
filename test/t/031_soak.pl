# 031_soak.pl: a bounded soak.  pgbench clients run custom scripts
# against one table carrying a vsearch_hnsw index (vector_l2_ops) and a
# vsearch_ivf index (vector_cosine_ops) at once: inserts (some of
# identical vectors), updates (some to NULL), deletes, nearest-neighbour
# selects through each index and with a filter (each fails its client
# unless it returns the rows asked for; the ivf one also checks distance
# order) and VACUUM, with autovacuum busy too.  Afterwards pgbench reports
# no failed transaction and no aborted client, every script ran, the
# server never restarted, both checkers pass (the hnsw one may report a
# vacuum left unfinished, as when a client's VACUUM cancels an
# autovacuum), each index returns every live row exactly once, and after
# a last VACUUM the hnsw checker passes with no deleted element left;
# pg_checksums --check is clean.
#
# VSEARCH_SOAK_SECONDS sets the length (default 15), VSEARCH_SOAK_CLIENTS
# the clients (default 4); scripts/soak runs it for longer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $seconds = $ENV{VSEARCH_SOAK_SECONDS} // 15;
my $clients = $ENV{VSEARCH_SOAK_CLIENTS} // 4;
die "VSEARCH_SOAK_SECONDS must be a positive number of seconds" unless $seconds =~ /^[1-9][0-9]*$/;
die "VSEARCH_SOAK_CLIENTS must be a positive number" unless $clients =~ /^[1-9][0-9]*$/;

my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', qq{
max_connections = @{[ $clients + 20 ]}
log_statement = none
autovacuum_naptime = 1s
autovacuum_vacuum_scale_factor = 0.05
autovacuum_vacuum_insert_scale_factor = 0.05
});
$node->start;

my $dims = 16;
my $vec = "ARRAY(SELECT (random() * 9)::real FROM generate_series(1, $dims) WHERE g > 0)::vector";
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vsearch;
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector($dims));
	INSERT INTO items (v) SELECT ARRAY(SELECT (random() + (g % 9))::real FROM generate_series(1, $dims) WHERE g > 0)::vector
	  FROM generate_series(1, 20000) g;
	CREATE INDEX items_hnsw ON items USING vsearch_hnsw (v vector_l2_ops);
	CREATE INDEX items_ivf ON items USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 40);
});
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# A select fails the client unless it got the LIMIT rows it asked for (no
# silent cap, whatever the rows deleted or filtered out).  For ivf it also
# checks distance order: 10 rows lie well within the probed lists, where
# the order is exact.  (hnsw orders exactly only within one widening step,
# and dead rows not yet vacuumed can use up the first one.)
$node->safe_psql('postgres', q{
	CREATE FUNCTION fail(msg text) RETURNS int LANGUAGE plpgsql VOLATILE
	AS $$ BEGIN RAISE EXCEPTION '%', msg; END $$;
});
sub knn_select
{
	my ($op, $where, $sorted) = @_;
	# varied directions too, for cosine
	my $q = "(ARRAY[:a, :b]::real[] || array_fill((:c + 0.5)::real, ARRAY[@{[ $dims - 2 ]}]))::vector";
	# the index orders by its own float4 arithmetic (on normalised vectors
	# for cosine), the operator recomputes: allow rounding between them
	my $ok = 'count(*) = 10' . ($sorted ? ' AND bool_and(next IS NULL OR d <= next + 1e-6)' : '');
	return "\\set a random(0, 8)\n\\set b random(0, 8)\n\\set c random(0, 8)\n"
	  . "SELECT CASE WHEN $ok THEN 1\n"
	  . "  ELSE fail('v $op [' || :a || ',' || :b || ',' || :c || '.5...] $where LIMIT 10 gave ' || count(*) || ' rows: ' || array_agg(d)::text) END\n"
	  . "  FROM (SELECT d, lead(d) OVER (ORDER BY n) AS next FROM\n"
	  . "         (SELECT d, row_number() OVER () AS n FROM\n"
	  . "           (SELECT v $op $q AS d FROM items $where ORDER BY v $op $q LIMIT 10) s0) s1) s;\n";
}

my $dir = $node->basedir;
my %scripts = (
	'insert.sql@6' => "INSERT INTO items (v) SELECT $vec FROM generate_series(1, 5) g;\n"
	  . "INSERT INTO items (v) SELECT CASE WHEN random() < 0.05 THEN NULL ELSE $vec END FROM generate_series(1, 1) g;\n",
	# identical vectors, concurrently: more than one hnsw element holds
	'insert_dup.sql@2' => "\\set c random(1, 8)\n"
	  . "INSERT INTO items (v) SELECT array_fill(:c::real, ARRAY[$dims])::vector FROM generate_series(1, 4);\n",
	'update.sql@4' => "SELECT last_value AS maxid FROM items_id_seq \\gset\n"
	  . "\\set id random(1, :maxid)\n"
	  . "UPDATE items SET v = CASE WHEN random() < 0.05 THEN NULL ELSE $vec END FROM generate_series(1, 1) g WHERE id = :id;\n",
	'delete.sql@3' => "SELECT last_value AS maxid FROM items_id_seq \\gset\n"
	  . "\\set id random(1, :maxid)\n"
	  . "DELETE FROM items WHERE id BETWEEN :id AND :id + 5;\n",
	'select_hnsw.sql@4' => knn_select('<->', '', 0),
	'select_ivf.sql@4' => knn_select('<=>', '', 1),
	'select_filtered.sql@2' => knn_select('<->', 'WHERE id % 13 = 0', 0),
	'vacuum.sql@1' => "VACUUM items;\n");
my @files;
for my $name (sort keys %scripts)
{
	(my $file = "$dir/$name") =~ s/\@\d+$//;
	append_to_file($file, $scripts{$name});
	push @files, '-f', "$dir/$name";
}

# the plans the selects rely on
my $plans = $node->safe_psql('postgres', q{
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
});
like($plans, qr/Index Scan using items_hnsw.*Index Scan using items_ivf/s,
	'the l2 select reads the hnsw index, the cosine select the ivf index');

my ($out, $err) = ('', '');
my @cmd = ('pgbench', '-n', '-c', $clients, '-j', $clients, '-T', $seconds, @files,
	'-h', $node->host, '-p', $node->port, 'postgres');
note("running: @cmd");
my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err, IPC::Run::timeout($seconds + 180));
note($out);
ok($ok, "pgbench ran $clients clients for ${seconds}s and exited 0") or diag($err);
like($out, qr/number of failed transactions: 0 /, 'no transaction failed');
unlike($err, qr/ERROR|FATAL|abort/i, 'no client reported an error') or diag($err);
my @per_script = $out =~ /^SQL script \d+: \S+\n - weight: .*\n - (\d+) transactions/mg;
is(scalar(grep { $_ > 0 } @per_script), scalar(keys %scripts), 'every script ran at least once')
  or diag("transactions per script: @per_script");

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started,
	'the server did not restart');
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|TRAP:/, 'no backend crashed');

# every live row once through each index (all lists, the whole graph)
sub reaches_all
{
	my ($index, $op, $what) = @_;
	my $force = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;';
	my $q = "array_fill(4.5::real, ARRAY[$dims])::vector";
	my $scan = "SELECT count(*), count(DISTINCT id), sum(id) FROM (SELECT id FROM items ORDER BY v $op $q) s";
	like($node->safe_psql('postgres', "$force EXPLAIN (COSTS OFF) $scan"),
		qr/Index Scan using $index/, "$what: the scan without LIMIT reads $index");
	is($node->safe_psql('postgres', "$force $scan"),
		$node->safe_psql('postgres', 'SELECT count(*), count(*), sum(id) FROM items WHERE v IS NOT NULL'),
		"$what: $index returns every live row exactly once");
}

# check_both WHAT [PENDING]: both checkers pass and each index returns
# every live row once.  With PENDING the hnsw checker may instead report
# what an unfinished vacuum leaves until the next one completes (an
# autovacuum cancelled by a client's VACUUM, see src/hnsw/README.md,
# "Structure checker"): live links to elements marked deleted, or a
# deleted element above the entry level.
sub check_both
{
	my ($what, $pending) = @_;
	my ($ret, $o, $e) = $node->psql('postgres',
		'SELECT heap_tids >= live_rows, deleted, unreachable FROM vsearch_hnsw_check(\'items_hnsw\')');
	$ret = 1 if $ret == 0 && $o !~ /^t\|/;
	if ($ret != 0 && $pending
		&& $e =~ /DETAIL:  element \(\d+,\d+\) (links on layer \d+ to deleted element|has level \d+ above the entry level)/)
	{
		note("$what: the hnsw checker reports an unfinished vacuum: $1");
		$ret = 0;
	}
	is($ret, 0, "$what: vsearch_hnsw_check passes" . ($pending ? ' (or reports an unfinished vacuum)' : ''))
	  or diag($e);
	note("$what: hnsw check (heap_tids >= live_rows|deleted|unreachable): $o");
	($ret, $o, $e) = $node->psql('postgres', q{SELECT vsearch_ivf_check('items_ivf')});
	is($ret, 0, "$what: vsearch_ivf_check passes") or diag($e);
	reaches_all('items_hnsw', '<->', $what);
	reaches_all('items_ivf', '<=>', $what);
	note("$what: " . $node->safe_psql('postgres',
		q{SELECT count(*) || ' rows, ' || count(v) || ' with a vector' FROM items}));
}

# let a running autovacuum finish (cancelling it would leave its work
# unfinished) and start no other
$node->safe_psql('postgres', 'ALTER SYSTEM SET autovacuum = off');
$node->reload;
$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_stat_progress_vacuum')
  or die 'a vacuum did not finish';
check_both('after the soak', 1);
$node->safe_psql('postgres', 'VACUUM items');
check_both('after a last vacuum');
is($node->safe_psql('postgres', q{SELECT deleted FROM vsearch_hnsw_check('items_hnsw')}), '0',
	'no deleted hnsw element is left after a completed vacuum');

$node->stop;
command_ok([ 'pg_checksums', '--check', '-D', $node->data_dir ],
	'pg_checksums --check is clean after the soak');
done_testing();
