/*
 * vsearch--0.1.0.sql
 *	  Install script for vsearch 0.1.0, built by the Makefile from each
 *	  room's .sql files (every .sql file of each room under src, rooms in
 *	  the order the Makefile lists them).
 *
 * Object names that applications use (type, operators, functions, opclass
 * names) are pgvector's; everything else is prefixed with vsearch.  Every
 * built-in type and function is schema-qualified and every object of ours
 * is referenced through @extschema@, so nothing planted in the target
 * schema or in public can capture a reference.
 */

\echo Use "CREATE EXTENSION vsearch" to load this file. \quit

