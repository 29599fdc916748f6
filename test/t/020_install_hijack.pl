# 020_install_hijack.pl: objects planted by an untrusted user before CREATE
# EXTENSION must not be captured by the install script, nor later by the
# extension's own objects.
#
# How an install script can be hijacked: PostgreSQL runs it with
# search_path = <target schema>, pg_temp (pg_catalog implicitly first), so
# an unqualified name in the script, or in the body of a SQL function it
# creates (resolved later under the caller's search_path), resolves to a
# planted object whenever that object is a better match than the built-in
# one: an exact signature against a polymorphic or coercing built-in
# (array_fill(integer, integer[]) against array_fill(anyelement, ...),
# sqrt(real) against sqrt(double precision), =(real[], real[]) against
# =(anyarray, anyarray)); and CREATE OR REPLACE / IF NOT EXISTS would adopt
# an object the attacker created first.  The type vector does not exist
# before the script runs, so nothing taking it can be planted; everything
# else that could capture a reference is planted here:
#
# - in the target schema and in public, owned by an unprivileged role
#   "mallory": functions with exact signatures named like built-ins a
#   vector script would use, functions named like vsearch's own but on
#   arrays or text, operators on real[], integer[] and double precision[]
#   (=, <>, <, ||, @>, +, -, *, and the distance operator names), domains
#   named like the built-in types the script names (whose CHECK calls a
#   planted function), selectivity functions (eqsel, ...) and an operator
#   family float_ops (these two need a superuser to create; owned by
#   mallory);
# - in pg_temp of the installing session: the same domains and a function.
#
# Every planted function that can run SQL adds a row to public.hijack_log
# and advances the sequence public.hijack_calls (which survives a rollback).
# Then, once with target schema "vs" and once with "public":
#   CREATE EXTENSION succeeds; no planted function ran; no object depends
#   on a planted object; every object the extension's objects refer to is
#   built in or the extension's own; every function is C or internal, or
#   SQL with a parse-time body or a fixed search_path; then a workload over
#   the whole SQL interface (casts, operators, functions, aggregates,
#   B-tree, HNSW and IVF indexes of every operator class, vacuum, checkers)
#   with the target schema and public on the search_path runs no planted
#   function either.
# Separately: a function or type the script creates, planted first under
# the same name and signature, makes CREATE EXTENSION fail and stays
# mallory's; and the script text has no CREATE OR REPLACE, no IF NOT
# EXISTS.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hijack');
$node->init;
$node->start;

# ---- the script text
my $version = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'vsearch'");
my $sharedir = $node->safe_psql('postgres', "SELECT setting FROM pg_config() WHERE name = 'SHAREDIR'");
my $script_file = "$sharedir/extension/vsearch--$version.sql";
my $script = slurp_file($script_file);
(my $code = $script) =~ s{/\*.*?\*/}{}gs;
$code =~ s/--[^\n]*//g;
is_deeply([ $code =~ /(OR\s+REPLACE|IF\s+NOT\s+EXISTS)/gi ], [],
	"$script_file has no CREATE OR REPLACE or IF NOT EXISTS");

# ---- the plants
# [name, argument types, result type, value returned]
my @plant_functions = (
	[ 'sqrt', 'real', 'real', 'pg_catalog.sqrt($1)' ],
	[ 'round', 'real', 'real', 'pg_catalog.round($1)' ],
	[ 'abs', 'integer[]', 'integer[]', '$1' ],
	[ 'array_fill', 'integer, integer[]', 'integer[]', 'pg_catalog.array_fill($1, $2)' ],
	[ 'array_fill', 'real, integer[]', 'real[]', 'pg_catalog.array_fill($1, $2)' ],
	[ 'array_fill', 'double precision, integer[]', 'double precision[]', 'pg_catalog.array_fill($1, $2)' ],
	[ 'array_length', 'real[], integer', 'integer', 'pg_catalog.array_length($1, $2)' ],
	[ 'array_length', 'integer[], integer', 'integer', 'pg_catalog.array_length($1, $2)' ],
	[ 'array_length', 'double precision[], integer', 'integer', 'pg_catalog.array_length($1, $2)' ],
	[ 'cardinality', 'real[]', 'integer', 'pg_catalog.cardinality($1)' ],
	[ 'array_to_string', 'real[], text', 'text', 'pg_catalog.array_to_string($1, $2)' ],
	[ 'array_cat', 'real[], real[]', 'real[]', 'pg_catalog.array_cat($1, $2)' ],
	[ 'array_append', 'real[], real', 'real[]', 'pg_catalog.array_append($1, $2)' ],
	[ 'vector', 'text, integer, boolean', 'text', '$1' ],
	[ 'vector_in', 'text, oid, integer', 'text', '$1' ],
	[ 'vector_out', 'text', 'text', '$1' ],
	[ 'array_to_vector', 'text, integer, boolean', 'text', '$1' ],
	[ 'vector_dims', 'real[]', 'integer', '0' ],
	[ 'vector_norm', 'real[]', 'double precision', '0' ],
	[ 'l2_normalize', 'real[]', 'real[]', '$1' ],
	[ 'subvector', 'real[], integer, integer', 'real[]', '$1' ],
	[ 'l2_distance', 'real[], real[]', 'double precision', '0' ],
	[ 'vector_l2_squared_distance', 'real[], real[]', 'double precision', '0' ],
	[ 'inner_product', 'real[], real[]', 'double precision', '0' ],
	[ 'vector_negative_inner_product', 'real[], real[]', 'double precision', '0' ],
	[ 'cosine_distance', 'real[], real[]', 'double precision', '0' ],
	[ 'l1_distance', 'real[], real[]', 'double precision', '0' ],
	[ 'vector_add', 'real[], real[]', 'real[]', '$1' ],
	[ 'vector_accum', 'double precision[], real[]', 'double precision[]', '$1' ],
	[ 'vector_avg', 'real[]', 'real[]', '$1' ],
	[ 'vector_cmp', 'real[], real[]', 'integer', '0' ],
	[ 'vsearch_kernels', 'text', 'text', '$1' ],);

# [operator, left, right, result type, value returned]
my @plant_operators = (
	[ '=', 'real[]', 'real[]', 'boolean', 'true' ],
	[ '<>', 'real[]', 'real[]', 'boolean', 'false' ],
	[ '<', 'real[]', 'real[]', 'boolean', 'false' ],
	[ '@>', 'real[]', 'real[]', 'boolean', 'true' ],
	[ '||', 'real[]', 'real[]', 'real[]', '$1' ],
	[ '||', 'real[]', 'real', 'real[]', '$1' ],
	[ '=', 'integer[]', 'integer[]', 'boolean', 'true' ],
	[ '=', 'double precision[]', 'double precision[]', 'boolean', 'true' ],
	[ '+', 'real[]', 'real[]', 'real[]', '$1' ],
	[ '-', 'real[]', 'real[]', 'real[]', '$1' ],
	[ '*', 'real[]', 'real[]', 'real[]', '$1' ],
	[ '<->', 'real[]', 'real[]', 'double precision', '0' ],
	[ '<#>', 'real[]', 'real[]', 'double precision', '0' ],
	[ '<=>', 'real[]', 'real[]', 'double precision', '0' ],
	[ '<+>', 'real[]', 'real[]', 'double precision', '0' ],);

# built-in types named by the install script
my @plant_domains = qw(int4 int8 float4 float8 bool text numeric bytea oid regclass);

# selectivity estimators named by the install script (need C or internal)
my @plant_estimators = (
	(map { [ $_, 'internal, oid, internal, integer' ] } qw(eqsel neqsel scalarltsel scalarlesel scalargtsel scalargesel)),
	(map { [ $_, 'internal, oid, internal, smallint, internal' ] }
	  qw(eqjoinsel neqjoinsel scalarltjoinsel scalarlejoinsel scalargtjoinsel scalargejoinsel)));

# A plpgsql body that logs the call, then returns $ret.
sub logging_body
{
	my ($what, $ret, $setof) = @_;
	my $return = $setof ? "RETURN NEXT $ret; RETURN;" : "RETURN $ret;";
	return qq{\$plant\$
BEGIN
	PERFORM pg_catalog.nextval('public.hijack_calls');
	INSERT INTO public.hijack_log VALUES ('$what', current_user);
	RAISE WARNING 'planted % called', '$what';
	$return
END \$plant\$};
}

# SQL run as mallory that plants the functions, operators and domains in
# schema $s.
sub plant_sql
{
	my ($s) = @_;
	my $sql = "SET ROLE mallory;\n";
	for my $f (@plant_functions)
	{
		my ($name, $args, $ret, $value) = @$f;
		$sql .= "CREATE FUNCTION $s.$name($args) RETURNS $ret LANGUAGE plpgsql AS "
		  . logging_body("$s.$name($args)", $value) . ";\n";
	}
	my $n = 0;
	for my $o (@plant_operators)
	{
		my ($op, $left, $right, $ret, $value) = @$o;
		$n++;
		$sql .= "CREATE FUNCTION $s.planted_op_$n($left, $right) RETURNS $ret LANGUAGE plpgsql AS "
		  . logging_body("$s.$op($left, $right)", $value) . ";\n";
		$sql .= "CREATE OPERATOR $s.$op (LEFTARG = $left, RIGHTARG = $right, FUNCTION = $s.planted_op_$n);\n";
	}
	$sql .= "CREATE FUNCTION $s.planted_check(anyelement) RETURNS boolean LANGUAGE plpgsql AS "
	  . logging_body("$s domain CHECK", 'true') . ";\n";
	for my $d (@plant_domains)
	{
		$sql .= "CREATE DOMAIN $s.$d AS pg_catalog.$d CHECK ($s.planted_check(VALUE));\n";
	}
	$sql .= "RESET ROLE;\n";
	# these need a superuser; handed to mallory
	for my $e (@plant_estimators)
	{
		my ($name, $args) = @$e;
		my $other = $name =~ /join/ ? 'neqjoinsel' : 'neqsel';
		$other = $name =~ /join/ ? 'eqjoinsel' : 'eqsel' if $name =~ /^neq/;
		$sql .= "CREATE FUNCTION $s.$name($args) RETURNS double precision AS '$other' LANGUAGE internal STRICT;\n";
		$sql .= "ALTER FUNCTION $s.$name($args) OWNER TO mallory;\n";
	}
	$sql .= "CREATE OPERATOR FAMILY $s.float_ops USING btree;\n";
	$sql .= "ALTER OPERATOR FAMILY $s.float_ops USING btree OWNER TO mallory;\n";
	return $sql;
}

# The same domains and a function in pg_temp of the installing session.
my $temp_plants = join('',
	"CREATE FUNCTION pg_temp.planted_check(anyelement) RETURNS boolean LANGUAGE plpgsql AS "
	  . logging_body('pg_temp domain CHECK', 'true') . ";\n",
	(map { "CREATE DOMAIN pg_temp.$_ AS pg_catalog.$_ CHECK (pg_temp.planted_check(VALUE));\n" } @plant_domains),
	"CREATE FUNCTION pg_temp.sqrt(real) RETURNS real LANGUAGE plpgsql AS "
	  . logging_body('pg_temp.sqrt(real)', 'pg_catalog.sqrt($1)') . ";\n");

# Everything that belongs to the extension: its members and the objects
# inside them (operators and functions of operator classes, the array type).
my $ext_objects = q{
	WITH RECURSIVE ext(classid, objid) AS (
	    SELECT classid, objid FROM pg_depend
	     WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	       AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vsearch')
	  UNION
	    SELECT d.classid, d.objid FROM pg_depend d JOIN ext e ON (d.refclassid, d.refobjid) = (e.classid, e.objid)
	     WHERE d.deptype IN ('a', 'i'))
	SELECT * FROM ext
};

my $calls = q{SELECT (SELECT count(*) FROM public.hijack_log) || ' logged, '
	|| (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.hijack_calls) || ' counted'};

# ---- an object the script creates, planted first: CREATE EXTENSION fails
$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE DATABASE conflict;
});
$node->safe_psql('conflict', 'CREATE SCHEMA vs AUTHORIZATION mallory');
for my $conflict (
	[ 'FUNCTION', 'vs.vsearch_kernels()', q{RETURNS SETOF text LANGUAGE sql AS $$ SELECT 'scalar' $$} ],
	[ 'FUNCTION', 'vs.vsearch_hnsw_check(regclass)', q{RETURNS void LANGUAGE sql AS $$ SELECT $$} ],
	[ 'FUNCTION', 'vs.vsearch_ivf_check(regclass)', q{RETURNS void LANGUAGE sql AS $$ SELECT $$} ],
	[ 'FUNCTION', 'vs.vector_combine(double precision[], double precision[])',
		q{RETURNS double precision[] LANGUAGE sql AS $$ SELECT $1 $$} ],
	[ 'DOMAIN', 'vs.vector', 'AS integer' ],
	[ 'TABLE', 'vs.vector', '(x integer)' ])
{
	my ($kind, $name, $rest) = @$conflict;
	$node->safe_psql('conflict', "SET ROLE mallory; CREATE $kind $name $rest;");
	my ($rc, $out, $err) = $node->psql('conflict', 'CREATE EXTENSION vsearch SCHEMA vs');
	(my $bare = $name) =~ s/^vs\.|\(.*//g;
	like($err, qr/"$bare" already exists|is not a member of extension/,
		"planted \L$kind\E $name first: CREATE EXTENSION fails");
	my $owner_query = $kind ne 'FUNCTION'
	  ? "SELECT typowner::regrole FROM pg_type WHERE oid = '$name'::regtype"
	  : "SELECT proowner::regrole FROM pg_proc WHERE oid = '$name'::regprocedure";
	is( $node->safe_psql('conflict',
			"SELECT ($owner_query) || ' ' || (SELECT count(*) FROM pg_extension WHERE extname = 'vsearch')"),
		'mallory 0', "planted \L$kind\E $name first: it stays mallory's, no extension");
	$node->safe_psql('conflict', "DROP $kind $name; DROP EXTENSION IF EXISTS vsearch CASCADE");
}

# ---- plants, then CREATE EXTENSION into schema vs, and into public
for my $case ([ 'vs', 'hijack_vs', 'vs, public' ], [ 'public', 'hijack_public', 'public' ])
{
	my ($target, $db, $path) = @$case;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		GRANT CREATE ON SCHEMA public TO mallory;
		CREATE TABLE public.hijack_log (what text, by_user name);
		CREATE SEQUENCE public.hijack_calls;
		GRANT INSERT ON public.hijack_log TO PUBLIC;
		GRANT USAGE ON SEQUENCE public.hijack_calls TO PUBLIC;
	});
	$node->safe_psql($db, 'CREATE SCHEMA vs AUTHORIZATION mallory') if $target eq 'vs';
	$node->safe_psql($db, plant_sql('public'));
	$node->safe_psql($db, plant_sql('vs')) if $target eq 'vs';

	# In one session: pg_temp plants, the list of planted objects, CREATE
	# EXTENSION, and the dependency checks (temp objects live as long as
	# the session).
	my $target_clause = $target eq 'public' ? '' : " SCHEMA $target";
	# pg_temp comes first for type names unless listed: this session's own
	# queries below name pg_catalog types, so put it last (CREATE EXTENSION
	# sets its own search_path, with pg_temp last, for the script anyway).
	my ($rc, $out, $err) = $node->psql(
		$db, $temp_plants . qq{
		SET search_path = public, pg_temp;
		CREATE TEMP TABLE planted AS
		  WITH RECURSIVE planted(classid, objid) AS (
		      SELECT classid, objid FROM pg_depend
		       WHERE refclassid = 'pg_namespace'::regclass
		         AND (refobjid IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'vs'))
		              OR refobjid = pg_my_temp_schema())
		    UNION
		      SELECT d.classid, d.objid FROM pg_depend d
		        JOIN planted p ON (d.refclassid, d.refobjid) = (p.classid, p.objid)
		       WHERE d.deptype IN ('a', 'i'))
		  SELECT * FROM planted;
		SELECT count(*) FROM planted;
		CREATE EXTENSION vsearch$target_clause;
		SELECT 'installed';
		-- objects depending on a planted object, other than planted ones
		SELECT 'depends: ' || coalesce(string_agg(pg_describe_object(d.classid, d.objid, d.objsubid)
		                     || ' -> ' || pg_describe_object(d.refclassid, d.refobjid, 0), '; '), '')
		  FROM pg_depend d JOIN planted p ON (d.refclassid, d.refobjid) = (p.classid, p.objid)
		 WHERE (d.classid, d.objid) NOT IN (SELECT classid, objid FROM planted);
		-- objects the extension's objects refer to: built in or its own
		WITH ext AS ($ext_objects)
		SELECT 'refers: ' || coalesce(string_agg(DISTINCT pg_describe_object(d.refclassid, d.refobjid, 0), '; '), '')
		  FROM pg_depend d JOIN ext e ON (d.classid, d.objid) = (e.classid, e.objid)
		 WHERE d.deptype <> 'e'
		   AND d.refobjid >= 16384
		   AND (d.refclassid, d.refobjid) NOT IN (SELECT classid, objid FROM ext)
		   AND NOT (d.refclassid = 'pg_namespace'::regclass AND d.refobjid = '$target'::regnamespace);
		-- functions whose SQL could be resolved at run time
		SELECT 'unpinned: ' || coalesce(string_agg(p.oid::regprocedure::text, '; '), '')
		  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
		   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		 WHERE p.prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('c', 'internal'))
		   AND p.prosqlbody IS NULL
		   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
		                    WHERE c LIKE 'search_path=%' AND c NOT LIKE '%public%' AND c NOT LIKE '%\$user%');
		$calls;
	});
	is($rc, 0, "$target: CREATE EXTENSION vsearch with planted objects succeeds") or diag($err);
	my @lines = split /\n/, $out;
	cmp_ok($lines[0] // 0, '>=', 100, "$target: planted objects in place ($lines[0])");
	is($lines[1], 'installed', "$target: installed");
	is($lines[2], 'depends: ', "$target: nothing depends on a planted object");
	is($lines[3], 'refers: ', "$target: the extension's objects refer only to built-in objects and its own");
	is($lines[4], 'unpinned: ', "$target: no function whose body is resolved under the caller's search_path");
	is($lines[5], '0 logged, 0 counted', "$target: no planted function ran during CREATE EXTENSION");
	unlike($err, qr/planted .* called/, "$target: no planted function raised its warning");

	# the SQL interface with the planted objects on the search_path
	$node->safe_psql($db, 'TRUNCATE public.hijack_log; ALTER SEQUENCE public.hijack_calls RESTART');
	($rc, $out, $err) = $node->psql($db, qq{
		SET search_path = $path;
		\\set ON_ERROR_STOP 1
		CREATE TABLE items (id int PRIMARY KEY, v vector(3));
		INSERT INTO items SELECT i, ARRAY[i % 7, i % 11, i % 13 + 1]::real[] FROM generate_series(1, 600) i;
		INSERT INTO items VALUES (1001, ARRAY[1, 2, 3]);
		INSERT INTO items VALUES (1002, ARRAY[1.5, 2.5, 3.5]::double precision[]);
		INSERT INTO items VALUES (1003, ARRAY[1, 2, 3]::numeric[]);
		INSERT INTO items VALUES (1004, '[4,5,6]'), (1005, NULL);
		SELECT v::real[], v::double precision[], v::numeric[], v::integer[], v::text, vector_send(v),
		       '[1,2,3]'::vector(3), v::vector(3)
		  FROM items WHERE id = 1002;
		SELECT vector_dims(v), vector_norm(v), l2_normalize(v), subvector(v, 1, 2),
		       v + v, v - v, v * v, v || v, v = v, v <> v, v < v, v <= v, v > v, v >= v, vector_cmp(v, v)
		  FROM items WHERE id = 1004;
		SELECT v <-> '[1,1,1]', v <#> '[1,1,1]', v <=> '[1,1,1]', v <+> '[1,1,1]',
		       l2_distance(v, '[1,1,1]'), vector_l2_squared_distance(v, '[1,1,1]'), inner_product(v, '[1,1,1]'),
		       vector_negative_inner_product(v, '[1,1,1]'), cosine_distance(v, '[1,1,1]'), l1_distance(v, '[1,1,1]')
		  FROM items WHERE id = 1004;
		SELECT avg(v), sum(v) FROM items;
		SELECT id % 3, avg(v), sum(v) FROM items GROUP BY 1 ORDER BY 1;
		SELECT count(*) FROM vsearch_kernels();
		SET vsearch.kernel = 'scalar';
		SELECT sum(v <-> '[1,2,3]') FROM items;
		RESET vsearch.kernel;
		SELECT v FROM items ORDER BY v LIMIT 3;
		SELECT DISTINCT v FROM items ORDER BY v LIMIT 3;
		CREATE INDEX items_btree ON items (v);
		CREATE INDEX items_hnsw_l2 ON items USING vsearch_hnsw (v vector_l2_ops);
		CREATE INDEX items_hnsw_ip ON items USING vsearch_hnsw (v vector_ip_ops);
		CREATE INDEX items_hnsw_cos ON items USING vsearch_hnsw (v vector_cosine_ops);
		CREATE INDEX items_hnsw_l1 ON items USING vsearch_hnsw (v vector_l1_ops);
		CREATE INDEX items_ivf_l2 ON items USING vsearch_ivf (v vector_l2_ops) WITH (lists = 4);
		CREATE INDEX items_ivf_ip ON items USING vsearch_ivf (v vector_ip_ops) WITH (lists = 4);
		CREATE INDEX items_ivf_cos ON items USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 4);
		INSERT INTO items SELECT i, ARRAY[i % 5, i % 3, 1]::real[] FROM generate_series(2001, 2100) i;
		SET enable_seqscan = off;
		SELECT count(*) FROM items WHERE v = '[1,2,3]';
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <#> '[1,2,3]' LIMIT 5) s;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <=> '[1,2,3]' LIMIT 5) s;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <+> '[1,2,3]' LIMIT 5) s;
		DROP INDEX items_hnsw_l2, items_hnsw_ip, items_hnsw_cos;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <#> '[1,2,3]' LIMIT 5) s;
		SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <=> '[1,2,3]' LIMIT 5) s;
		RESET enable_seqscan;
		DELETE FROM items WHERE id % 4 = 0;
		VACUUM items;
		SELECT * FROM vsearch_hnsw_check('items_hnsw_l1'::regclass);
		SELECT vsearch_ivf_check('items_ivf_l2'::regclass);
		SELECT vsearch_ivf_check('items_ivf_cos'::regclass);
		REINDEX TABLE items;
		$calls;
	});
	is($rc, 0, "$target: the workload runs with \"$path\" on the search_path") or diag($err);
	my @out = split /\n/, $out;
	is($out[-1], '0 logged, 0 counted', "$target: no planted function ran during the workload");
	unlike($err, qr/planted .* called/, "$target: no planted function raised its warning");
	diag($node->safe_psql($db, 'SELECT what FROM public.hijack_log')) if $out[-1] ne '0 logged, 0 counted';

	# control: the plants are live, an unqualified call that matches one
	# better than the built-in is captured and logged
	$node->safe_psql($db, 'TRUNCATE public.hijack_log; ALTER SEQUENCE public.hijack_calls RESTART');
	($rc, $out, $err) = $node->psql($db, qq{
		SET search_path = $path;
		SELECT array_fill(7, ARRAY[2]);
		$calls;
	});
	like($out, qr/\n1 logged, 1 counted\z/, "$target: control: array_fill(integer, integer[]) on the search_path is captured");
}

$node->stop;
done_testing();
