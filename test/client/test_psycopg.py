#!/usr/bin/python3
"""test_psycopg.py: a real client (Debian's python3-psycopg) writes vectors
with COPY in text and binary format and as binary query parameters, reads
them back in text and binary, and checks that malformed binary input gets
the right SQLSTATE.

The binary COPY stream and the vector wire format are built by hand, the way
client libraries do: int16 dim, int16 reserved (0), dim big-endian float4.
Connection settings come from the usual PG* environment variables.
Prints one line per check and a final "N passed, N failed" line.
"""
import math
import random
import struct
import sys

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok -", name)
    else:
        failed += 1
        print("not ok -", name, detail)


def vec_bytes(values, dim=None, reserved=0):
    """The binary wire form of a vector; dim may lie about the length."""
    if dim is None:
        dim = len(values)
    return struct.pack("!hh", dim, reserved) + b"".join(struct.pack("!f", v) for v in values)


def copy_binary_stream(rows):
    """A complete COPY BINARY stream for rows of (int4, raw vector bytes)."""
    out = [b"PGCOPY\n\xff\r\n\0", struct.pack("!ii", 0, 0)]
    for ident, raw in rows:
        out.append(struct.pack("!h", 2))
        out.append(struct.pack("!ii", 4, ident))
        out.append(struct.pack("!i", len(raw)) + raw)
    out.append(struct.pack("!h", -1))
    return b"".join(out)


def f32(x):
    """Round a Python float to the nearest float4."""
    return struct.unpack("!f", struct.pack("!f", x))[0]


class RawVector:
    """Bytes to send as a binary vector parameter, unchanged."""

    def __init__(self, raw):
        self.raw = raw


def main():
    rng = random.Random(7)
    conn = psycopg.connect(autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vsearch")
    vector_oid = conn.execute("SELECT 'vector'::regtype::oid").fetchone()[0]

    class RawVectorDumper(Dumper):
        format = pq.Format.BINARY
        oid = vector_oid

        def dump(self, obj):
            return obj.raw

    conn.adapters.register_dumper(RawVector, RawVectorDumper)

    # random vectors over the float4 range, including subnormals and -0.0
    vectors = []
    for i in range(300):
        dim = rng.choice([1, 2, 3, 15, 16, 17, 128, 784, 1536])
        vals = []
        for _ in range(dim):
            r = rng.random()
            if r < 0.01:
                vals.append(-0.0)
            elif r < 0.02:
                vals.append(f32(1e-42))
            else:
                vals.append(f32((rng.random() - 0.5) * 10 ** rng.uniform(-30, 30)))
        vectors.append(vals)

    conn.execute("DROP TABLE IF EXISTS client_vectors")
    conn.execute("CREATE TABLE client_vectors (id int4, v vector)")

    # COPY text: the client formats floats with repr (shortest round trip)
    with conn.cursor() as cur:
        with cur.copy("COPY client_vectors (id, v) FROM STDIN") as copy:
            for i, vals in enumerate(vectors):
                copy.write_row((i, "[" + ",".join(repr(v) for v in vals) + "]"))
    # COPY binary: ids offset by 1000
    stream = copy_binary_stream([(1000 + i, vec_bytes(vals)) for i, vals in enumerate(vectors)])
    with conn.cursor() as cur:
        with cur.copy("COPY client_vectors (id, v) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(stream)
    # binary parameters: ids offset by 2000
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO client_vectors VALUES (%s, %b)",
                        [(2000 + i, RawVector(vec_bytes(vals))) for i, vals in enumerate(vectors)])

    count = conn.execute("SELECT count(*) FROM client_vectors").fetchone()[0]
    check("all rows loaded through text COPY, binary COPY and binary parameters",
          count == 3 * len(vectors), f"count={count}")

    # read back as binary COPY and as binary result values
    def read_binary():
        got = {}
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT id, v FROM client_vectors")
            for ident, raw in cur:
                got[ident] = bytes(raw)
        return got

    got = read_binary()
    mismatches = [i for i, vals in enumerate(vectors)
                  for base in (0, 1000, 2000)
                  if got.get(base + i) != vec_bytes(vals)]
    check("binary results equal the bytes written, for every write path",
          not mismatches, f"first mismatches: {mismatches[:5]}")

    # read back as text: parse and compare floats bit for bit
    def parse(text):
        return [float(x) for x in text.strip("[]").split(",")]

    bad = 0
    for ident, text in conn.execute("SELECT id, v::text FROM client_vectors"):
        vals = vectors[ident % 1000]
        parsed = parse(text)
        if len(parsed) != len(vals) or any(
                struct.pack("!f", a) != struct.pack("!f", b) for a, b in zip(parsed, vals)):
            bad += 1
    check("text output parses back to the same float4 bits", bad == 0, f"bad={bad}")

    # COPY TO in binary format reproduces the wire bytes too
    with conn.cursor() as cur:
        data = bytearray()
        with cur.copy("COPY (SELECT id, v FROM client_vectors WHERE id >= 1000 AND id < 2000 ORDER BY id) "
                      "TO STDOUT (FORMAT BINARY)") as copy:
            for chunk in copy:
                data += chunk
    expect = copy_binary_stream([(1000 + i, vec_bytes(vals)) for i, vals in enumerate(vectors)])
    check("COPY TO (FORMAT BINARY) gives back the stream that was loaded", bytes(data) == expect,
          f"{len(data)} vs {len(expect)} bytes")

    # distances computed by the server match a client-side computation
    # (moderate values: squares of the random data above overflow float4)
    moderate = [[f32(rng.uniform(-100, 100)) for _ in range(784)] for _ in range(50)]
    conn.execute("CREATE TEMP TABLE moderate (id int4, v vector(784))")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO moderate VALUES (%s, %b)",
                        [(i, RawVector(vec_bytes(v))) for i, v in enumerate(moderate)])
    q = moderate[0]
    rows = conn.execute("SELECT id, v <-> %b, v <+> %b FROM moderate",
                        [RawVector(vec_bytes(q)), RawVector(vec_bytes(q))]).fetchall()
    worst = 0.0
    for ident, l2, l1 in rows:
        ref_l2 = math.sqrt(sum((a - b) ** 2 for a, b in zip(moderate[ident], q)))
        ref_l1 = sum(abs(a - b) for a, b in zip(moderate[ident], q))
        worst = max(worst, abs(l2 - ref_l2) / max(ref_l2, 1e-30), abs(l1 - ref_l1) / max(ref_l1, 1e-30))
        if ident == 0:
            worst = max(worst, l2, l1)  # distance to itself must be exactly 0
    check("server L2 and L1 distances match the client's within 1e-5 relative",
          len(rows) == 50 and worst < 1e-5, f"rows={len(rows)} worst={worst}")

    # malformed binary input: COPY and parameters both get 22P03 / 22000 / 54000
    cases = [
        ("dimension 0", struct.pack("!hh", 0, 0), "22000"),
        ("dimension -1", struct.pack("!hh", -1, 0) + b"\0" * 4, "22000"),
        ("dimension 16001", vec_bytes([1.0] * 16001), "54000"),
        ("dimension 32767", struct.pack("!hh", 32767, 0), "54000"),
        ("more dimensions than bytes", vec_bytes([1.0, 2.0], dim=3), "22P03"),
        ("fewer dimensions than bytes (trailing garbage)", vec_bytes([1.0, 2.0], dim=1), "22P03"),
        ("non-zero reserved field", vec_bytes([1.0], reserved=1), "22P03"),
        ("shorter than the header", b"\0\1", "22P03"),
        ("NaN payload", vec_bytes([1.0, float("nan")]), "22000"),
        ("infinite payload", vec_bytes([float("inf")]), "22000"),
        ("negative infinite payload", vec_bytes([float("-inf")]), "22000"),
    ]
    for name, raw, state in cases:
        for path in ("COPY", "parameter"):
            try:
                if path == "COPY":
                    with conn.cursor() as cur:
                        with cur.copy("COPY client_vectors (id, v) FROM STDIN (FORMAT BINARY)") as copy:
                            copy.write(copy_binary_stream([(9999, raw)]))
                else:
                    conn.execute("SELECT %b::text", [RawVector(raw)])
                check(f"binary {path}: {name} is rejected", False, "accepted")
            except psycopg.Error as e:
                check(f"binary {path}: {name} is rejected with {state}", e.sqlstate == state,
                      f"got {e.sqlstate}: {e}")
    # a typmod is enforced on binary input too
    conn.execute("CREATE TEMP TABLE typed (v vector(3))")
    try:
        conn.execute("INSERT INTO typed VALUES (%b)", [RawVector(vec_bytes([1.0, 2.0]))])
        check("binary parameter into vector(3) with 2 dimensions is rejected", False, "accepted")
    except psycopg.Error as e:
        check("binary parameter into vector(3) with 2 dimensions is rejected with 22000",
              e.sqlstate == "22000", f"got {e.sqlstate}")

    n = conn.execute("SELECT count(*) FROM client_vectors WHERE id = 9999").fetchone()[0]
    check("no malformed row was stored", n == 0, f"n={n}")
    conn.execute("DROP TABLE client_vectors")
    conn.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # an unexpected failure is a failed check, not a silent pass
        check("client test ran to completion", False, repr(e))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)
