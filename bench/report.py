#!/usr/bin/python3
#-------------------------------------------------------------------------
#
# report.py
#	  Turns one benchmark results directory (the per-run CSVs written by
#	  bench/run) into results.csv and results.json (medians over runs),
#	  summary.md (Markdown tables with vsearch/pgvector ratios) and PNG
#	  plots drawn by gnuplot.
#
#	  /usr/bin/python3 bench/report.py RESULTS_DIR
#	  /usr/bin/python3 bench/report.py --merge NEW_DIR RESULTS_DIR...
#
#	  --merge first combines several results directories of the same dataset
#	  (say, an exact-search run and an HNSW run) into NEW_DIR, then reports
#	  on it as one.
#
# Design: every number shown is the median over runs of one configuration
# (engine, index, build parameters, search parameter, filter), and every
# ratio is vsearch over pgvector for the same configuration, so "higher is
# better" holds for QPS and TPS ratios and "lower is better" for times and
# sizes.  Only the standard library is used; plots are gnuplot scripts
# written next to their data, so they can be re-drawn or restyled by hand.
#
# IDENTIFICATION
#	  bench/report.py
#
#-------------------------------------------------------------------------

import csv
import json
import os
import statistics
import subprocess
import sys

ENGINES = ["vsearch", "pgvector"]
COLORS = {"vsearch": "#1f6fb4", "pgvector": "#e8810e"}
INDEX_ORDER = {"none": 0, "hnsw": 1, "ivf": 2}


def read_csv(path):
    """Rows of a CSV file as dicts; an absent file gives no rows."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def num(s):
    """A float from a CSV cell, or None for an empty or '-' cell."""
    if s is None or s in ("", "-"):
        return None
    return float(s)


def param_key(p):
    try:
        return (0, float(p))
    except ValueError:
        return (1, p)


def fmt(v, digits=2):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}×"


def mib(b):
    return None if b is None else b / 1048576.0


def read_meta(path):
    meta = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    meta[k.strip()] = v.strip()
    return meta


def aggregate_queries(rows):
    """Median per (engine, index, build, param_name, param, filter)."""
    groups = {}
    for r in rows:
        key = (r["engine"], r["index"], r["build"], r["param_name"], r["param"], r["filter"])
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        e, ix, build, pname, param, filt = key
        out.append({
            "engine": e, "dataset": rs[0]["dataset"], "index": ix, "build": build,
            "param_name": pname, "param": param, "filter": filt,
            "selectivity": num(rs[0]["selectivity"]),
            "runs": len(rs), "queries": int(rs[0]["queries"]), "k": int(rs[0]["k"]),
            "recall": median(num(r["recall"]) for r in rs),
            "qps": median(num(r["qps"]) for r in rs),
            "mean_ms": median(num(r["mean_ms"]) for r in rs),
            "p50_ms": median(num(r["p50_ms"]) for r in rs),
            "p99_ms": median(num(r["p99_ms"]) for r in rs),
            "rows_mean": median(num(r["rows_mean"]) for r in rs),
            "short_queries": median(num(r["short_queries"]) for r in rs),
            "plan": rs[-1]["plan"],
        })
    return out


def aggregate_throughput(rows):
    groups = {}
    for r in rows:
        key = (r["engine"], r["index"], r["build"], r["param_name"], r["param"])
        groups.setdefault(key, []).append(r)
    return {key: {"tps": median(num(r["tps"]) for r in rs),
                  "latency_ms": median(num(r["latency_ms"]) for r in rs),
                  "clients": int(rs[0]["clients"]), "runs": len(rs)}
            for key, rs in groups.items()}


def aggregate_builds(rows):
    groups = {}
    for r in rows:
        key = (r["engine"], r["index"], r["build"], r["mode"])
        groups.setdefault(key, []).append(r)
    return {key: {"build_s": median(num(r["build_s"]) for r in rs),
                  "index_bytes": median(num(r["index_bytes"]) for r in rs),
                  "workers": int(rs[0]["workers"]), "runs": len(rs)}
            for key, rs in groups.items()}


def sort_key(q):
    return (INDEX_ORDER.get(q["index"], 9), q["build"], param_key(q["param"]),
            ENGINES.index(q["engine"]) if q["engine"] in ENGINES else 9)


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" for _ in header) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def chosen_params(queries):
    """For each index kind, the sweep point shown in the filtered table:
    among the points that ran filtered queries, ef_search 40 if there, else
    the middle one (bench/run's mid_param makes the same choice)."""
    by_index = {}
    for q in queries:
        if q["filter"] != "none" and "/" not in q["param"]:
            by_index.setdefault(q["index"], set()).add(q["param"])
    chosen = {}
    for ix, params in by_index.items():
        ps = sorted(params, key=param_key)
        if ix == "hnsw" and "40" in ps:
            chosen[ix] = "40"
        else:
            chosen[ix] = ps[(len(ps) - 1) // 2]
    return chosen


def qps_at_recall(points, target):
    """The best QPS an engine's sweep reaches at recall >= target: the
    fastest point at or above it, or the straight line between two
    neighbouring sweep points whose recall crosses it upwards.  None when no point reaches
    it.  points: aggregated query rows of one engine, index and filter."""
    pts = sorted(points, key=lambda q: param_key(q["param"]))
    best = None
    for q in pts:
        if q["recall"] >= target:
            best = q["qps"] if best is None else max(best, q["qps"])
    for lo, hi in zip(pts, pts[1:]):
        # only where recall grows with the search depth: a planner that
        # changes plans along the sweep (pgvector's exact plan at ef_search
        # 40, its short index scan at 80) gives no line between the two
        if lo["recall"] < target <= hi["recall"]:
            q = lo["qps"] + (hi["qps"] - lo["qps"]) * (target - lo["recall"]) / (hi["recall"] - lo["recall"])
            best = q if best is None else max(best, q)
    return best


# ---------- gnuplot ----------

def gp_quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_bars(path_dat, groups, series, values):
    """A clustered-histogram data file: one line per group, one column per
    series; '?' marks a missing value."""
    with open(path_dat, "w") as f:
        f.write("# group " + " ".join(gp_quote(s) for s in series) + "\n")
        for g in groups:
            cells = []
            for s in series:
                v = values.get((g, s))
                cells.append("?" if v is None else f"{v:.6g}")
            f.write(gp_quote(g) + " " + " ".join(cells) + "\n")


def bars_script(png, title, ylabel, dat, series, colors, fmt_label="%.1f", logy=False):
    n = len(series)
    gap = 1
    lines = [
        f"set output {gp_quote(png)}",
        f"set title {gp_quote(title)}",
        f"set ylabel {gp_quote(ylabel)}",
        "unset xlabel",
        "set style data histograms",
        f"set style histogram clustered gap {gap}",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set datafile missing '?'",
        "set key top right",
        "set grid ytics",
        "set xtics nomirror",
        "set yrange [0:*]" if not logy else "set logscale y",
        "set offsets 0, 0, graph 0.1, 0",
    ]
    parts = []
    for i, s in enumerate(series):
        col = i + 2
        using = f"{col}:xtic(1)" if i == 0 else f"{col}"
        parts.append(f"{gp_quote(dat)} using {using} title {gp_quote(s)} lc rgb {gp_quote(colors[i])}")
    for i, s in enumerate(series):
        col = i + 2
        off = (i - (n - 1) / 2.0) / (n + gap)
        parts.append(f"{gp_quote(dat)} using ($0 + ({off:.4f})):{col}:(sprintf({gp_quote(fmt_label)}, ${col})) "
                     f"with labels offset 0,0.7 font ',9' notitle")
    lines.append("plot " + ", \\\n     ".join(parts))
    lines.append("unset logscale y")
    lines.append("set yrange [*:*]")
    return "\n".join(lines) + "\n"


def engine_color(series_name):
    for e, c in COLORS.items():
        if series_name.startswith(e):
            return c
    return "#555555"


def make_plots(outdir, queries, throughput, builds, meta):
    pdir = os.path.join(outdir, "plotdata")
    os.makedirs(pdir, exist_ok=True)
    script = [
        "set terminal pngcairo size 960,600 noenhanced font 'DejaVu Sans,11'",
        "set encoding utf8",
    ]
    made = []
    dataset = meta.get("dataset", "").split(" ")[0]
    unf = [q for q in queries if q["filter"] == "none"]

    # recall@k vs QPS: one line per (engine, index, build); exact search as points
    curves = {}
    for q in sorted(unf, key=sort_key):
        curves.setdefault((q["engine"], q["index"], q["build"]), []).append(q)
    if curves:
        parts = []
        pt = {"none": 7, "hnsw": 5, "ivf": 9}
        dash = {"vsearch": 1, "pgvector": 2}
        for (e, ix, build), pts in sorted(curves.items(),
                                          key=lambda kv: (INDEX_ORDER.get(kv[0][1], 9), kv[0])):
            name = f"{e}-{ix}" + ("" if build == "-" else f"-{build}")
            safe = name.replace(";", "_").replace("=", "")
            dat = os.path.join(pdir, f"rq-{safe}.dat")
            with open(dat, "w") as f:
                f.write("# recall qps param\n")
                for p in pts:
                    f.write(f"{p['recall']:.6f} {p['qps']:.6f} {gp_quote(p['param'])}\n")
            label = f"{e} exact" if ix == "none" else f"{e} {ix} ({build.replace(';', ', ')})"
            style = "points" if ix == "none" else "linespoints"
            parts.append(f"{gp_quote(dat)} using 1:2 with {style} pt {pt.get(ix, 7)} ps 1.6 "
                         f"dt {dash.get(e, 1)} lw 2 lc rgb {gp_quote(COLORS.get(e, '#555555'))} "
                         f"title {gp_quote(label)}")
            if ix != "none":
                parts.append(f"{gp_quote(dat)} using 1:2:3 with labels offset 0.8,0.6 font ',8' "
                             f"tc rgb {gp_quote(COLORS.get(e, '#555555'))} notitle")
        k = unf[0]["k"]
        script += [
            f"set output {gp_quote(os.path.join(outdir, 'recall_qps.png'))}",
            f"set title {gp_quote(f'recall@{k} vs QPS, {dataset}, 1 client (up and right is better)')}",
            f"set xlabel {gp_quote(f'recall@{k}')}",
            "set ylabel 'queries per second'",
            "set logscale y",
            "set grid",
            "set key bottom left",
            "set xrange [*:1.02]",
            "plot " + ", \\\n     ".join(parts),
            "unset logscale y",
            "set xrange [*:*]",
            "unset xlabel",
        ]
        made.append("recall_qps.png")

    # exact search: QPS with 1 client and TPS with N clients, bars per engine
    exact = [q for q in unf if q["index"] == "none"]
    if exact:
        engines = [e for e in ENGINES if any(q["engine"] == e for q in exact)]
        vals = {}
        clients = None
        for q in exact:
            vals[("1 client (QPS)", q["engine"])] = q["qps"]
            t = throughput.get((q["engine"], "none", "-", "-", "-"))
            if t:
                clients = t["clients"]
                vals[(f"{t['clients']} clients (TPS)", q["engine"])] = t["tps"]
        groups = ["1 client (QPS)"] + ([f"{clients} clients (TPS)"] if clients else [])
        dat = os.path.join(pdir, "exact.dat")
        write_bars(dat, groups, engines, vals)
        script.append(bars_script(os.path.join(outdir, "exact_qps.png"),
                                  f"exact top-{exact[0]['k']} search, {dataset} (higher is better)",
                                  "queries per second", dat, engines,
                                  [COLORS.get(e, "#555") for e in engines]))
        made.append("exact_qps.png")

    # builds: time and size, bars per engine
    if builds:
        engines = [e for e in ENGINES if any(k[0] == e for k in builds)]
        groups_t, vals_t, groups_s, vals_s = [], {}, [], {}
        for (e, ix, build, mode), b in sorted(builds.items(),
                                              key=lambda kv: (INDEX_ORDER.get(kv[0][1], 9), kv[0][3] != "serial")):
            g = f"{ix} {mode}" + (f" ({b['workers']}w)" if mode == "parallel" else "")
            if g not in groups_t:
                groups_t.append(g)
            vals_t[(g, e)] = b["build_s"]
            if mode == "serial" or (ix not in groups_s):
                if ix not in groups_s:
                    groups_s.append(ix)
                vals_s[(ix, e)] = mib(b["index_bytes"])
        dat = os.path.join(pdir, "build_time.dat")
        write_bars(dat, groups_t, engines, vals_t)
        script.append(bars_script(os.path.join(outdir, "build_time.png"),
                                  f"index build time, {dataset} (lower is better)", "seconds",
                                  dat, engines, [COLORS.get(e, "#555") for e in engines]))
        dat = os.path.join(pdir, "index_size.dat")
        write_bars(dat, groups_s, engines, vals_s)
        script.append(bars_script(os.path.join(outdir, "index_size.png"),
                                  f"index size, {dataset} (lower is better)", "MiB",
                                  dat, engines, [COLORS.get(e, "#555") for e in engines]))
        made += ["build_time.png", "index_size.png"]

    # filtered recall at the chosen sweep point
    chosen = chosen_params(queries)
    filt = [q for q in queries if q["index"] != "none" and q["param"] == chosen.get(q["index"])]
    if filt:
        series = []
        for q in sorted(filt, key=sort_key):
            s = f"{q['engine']} {q['index']} {q['param_name']}={q['param']}"
            if s not in series:
                series.append(s)
        groups = []
        vals = {}
        for q in filt:
            if q["filter"] not in groups:
                groups.append(q["filter"])
            vals[(q["filter"], f"{q['engine']} {q['index']} {q['param_name']}={q['param']}")] = q["recall"]
        dat = os.path.join(pdir, "filter_recall.dat")
        write_bars(dat, groups, series, vals)
        palette = []
        for s in series:
            c = engine_color(s)
            palette.append(c if " hnsw " in s else ("#7fb2dc" if s.startswith("vsearch") else "#f4c08a"))
        script.append(bars_script(os.path.join(outdir, "filter_recall.png"),
                                  f"recall by filter, {dataset} (higher is better)",
                                  "recall", dat, series, palette, fmt_label="%.2f"))
        made.append("filter_recall.png")

    gp = os.path.join(outdir, "plots.gp")
    with open(gp, "w") as f:
        f.write("# written by bench/report.py; run: gnuplot plots.gp\n")
        f.write("\n".join(script) + "\n")
    if made:
        subprocess.run(["gnuplot", gp], check=True, cwd=outdir)
    return made


# ---------- summary ----------

CSV_FILES = ["query.csv", "build.csv", "throughput.csv", "load.csv"]


def merge(outdir, indirs):
    """Concatenates the per-run CSVs, plans and skip lists of indirs into
    outdir; meta values that differ are joined with ' ; ', load lines are
    kept from the first directory that has them, per engine."""
    os.makedirs(outdir, exist_ok=True)
    for name in CSV_FILES:
        header, lines, seen_engines = None, [], set()
        for d in indirs:
            path = os.path.join(d, name)
            if not os.path.exists(path):
                continue
            with open(path) as f:
                rows = f.read().splitlines()
            if not rows:
                continue
            header = header or rows[0]
            if rows[0] != header:
                sys.exit(f"{path}: columns differ from the other directories")
            for r in rows[1:]:
                if name == "load.csv":
                    e = r.split(",", 1)[0]
                    if e in seen_engines:
                        continue
                if r:
                    lines.append(r)
            if name == "load.csv":
                seen_engines |= {r.split(",", 1)[0] for r in rows[1:] if r}
        if header:
            with open(os.path.join(outdir, name), "w") as f:
                f.write("\n".join([header] + lines) + "\n")
    metas = [read_meta(os.path.join(d, "meta.txt")) for d in indirs]
    datasets = {m.get("dataset") for m in metas}
    if len(datasets) > 1:
        sys.exit("cannot merge results of different datasets: " + ", ".join(sorted(map(str, datasets))))
    keys = []
    for m in metas:
        keys += [k for k in m if k not in keys]
    with open(os.path.join(outdir, "meta.txt"), "w") as f:
        for k in keys:
            vals = []
            for m in metas:
                if k in m and m[k] not in vals:
                    vals.append(m[k])
            f.write(f"{k}: {' ; '.join(vals)}\n")
    for name in ("plans.txt", "skipped.txt"):
        out = []
        for d in indirs:
            path = os.path.join(d, name)
            if os.path.exists(path):
                with open(path) as f:
                    for line in f.read().splitlines():
                        if name == "plans.txt" or line not in out:
                            out.append(line)
        with open(os.path.join(outdir, name), "w") as f:
            f.write("\n".join(out) + ("\n" if out else ""))
    stats = os.path.join(indirs[0], "dataset-stats.txt")
    if os.path.exists(stats):
        with open(stats) as src, open(os.path.join(outdir, "dataset-stats.txt"), "w") as dst:
            dst.write(src.read())


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "--merge":
        outdir = os.path.abspath(args[1])
        merge(outdir, [os.path.abspath(d) for d in args[2:]])
    elif len(args) == 1 and not args[0].startswith("-"):
        outdir = os.path.abspath(args[0])
    else:
        sys.exit("usage: report.py RESULTS_DIR | report.py --merge NEW_DIR RESULTS_DIR...")
    meta = read_meta(os.path.join(outdir, "meta.txt"))
    queries = aggregate_queries(read_csv(os.path.join(outdir, "query.csv")))
    throughput = aggregate_throughput(read_csv(os.path.join(outdir, "throughput.csv")))
    builds = aggregate_builds(read_csv(os.path.join(outdir, "build.csv")))
    loads = read_csv(os.path.join(outdir, "load.csv"))
    skipped = []
    if os.path.exists(os.path.join(outdir, "skipped.txt")):
        with open(os.path.join(outdir, "skipped.txt")) as f:
            skipped = [l.strip() for l in f if l.strip()]

    qindex = {(q["engine"], q["index"], q["build"], q["param_name"], q["param"], q["filter"]): q
              for q in queries}

    def other(q, field):
        """The pgvector value of field for the configuration of vsearch row q."""
        if q["engine"] != "vsearch":
            return None
        p = qindex.get(("pgvector", q["index"], q["build"], q["param_name"], q["param"], q["filter"]))
        return p[field] if p else None

    def tp(q):
        return throughput.get((q["engine"], q["index"], q["build"], q["param_name"], q["param"]))

    def tp_other(q):
        if q["engine"] != "vsearch":
            return None
        return throughput.get(("pgvector", q["index"], q["build"], q["param_name"], q["param"]))

    # results.csv and results.json: medians per configuration
    results = []
    for q in sorted(queries, key=lambda q: (q["filter"] != "none", q["filter"]) + sort_key(q)):
        r = dict(q)
        t = tp(q) if q["filter"] == "none" else None
        r["tps"] = t["tps"] if t else None
        r["tps_clients"] = t["clients"] if t else None
        r["qps_ratio_vs_pgvector"] = ratio(q["qps"], other(q, "qps"))
        results.append(r)
    fields = ["engine", "dataset", "index", "build", "param_name", "param", "filter", "selectivity",
              "runs", "queries", "k", "recall", "qps", "mean_ms", "p50_ms", "p99_ms", "rows_mean",
              "short_queries", "plan", "tps", "tps_clients", "qps_ratio_vs_pgvector"]
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in results:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({
            "meta": meta,
            "skipped": skipped,
            "queries": results,
            "builds": [dict(zip(("engine", "index", "build", "mode"), k), **v)
                       for k, v in sorted(builds.items())],
            "loads": loads,
        }, f, indent=1)

    plots = make_plots(outdir, queries, throughput, builds, meta)

    md = []
    dataset = meta.get("dataset", "?")
    md.append(f"# vsearch benchmark: {dataset.split(' ')[0]}")
    md.append("")
    md.append(f"- Command: `{meta.get('command', '?')}`")
    md.append(f"- Date: {meta.get('date', '?')}")
    md.append(f"- Machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, "
              f"{meta.get('memory', '?')} RAM, {meta.get('kernel', '?')}")
    md.append(f"- PostgreSQL {meta.get('postgres', '?')}; shared_buffers {meta.get('server.shared_buffers', '?')}, "
              f"work_mem {meta.get('server.work_mem', '?')}; session: {meta.get('session', '?')}")
    engines = [v for k, v in sorted(meta.items()) if k.startswith("engine.")]
    md.append(f"- Engines: {', '.join(engines) if engines else '?'}; vsearch source: commit "
              f"{meta.get('vsearch commit', '?')}")
    md.append(f"- Server: {meta.get('server', '?')}")
    md.append(f"- Dataset: {dataset}; queries: {meta.get('queries', '?')}")
    md.append(f"- Index parameters: hnsw {meta.get('hnsw', '?')}; ivf {meta.get('ivf', '?')}; "
              f"{meta.get('builds', '?')}; pgbench {meta.get('pgbench', '?')}")
    runs = sorted({q["runs"] for q in queries})
    md.append(f"- Every number is the median of {', '.join(map(str, runs)) or '?'} run(s). "
              "Ratios are vsearch / pgvector for the same configuration: above 1 is better "
              "for QPS and TPS, below 1 is better for latency, build time and size.")
    md.append("")
    if skipped:
        md.append("Skipped:")
        md.append("")
        for s in skipped:
            md.append(f"- {s}")
        md.append("")

    unf = sorted((q for q in queries if q["filter"] == "none"), key=sort_key)
    if unf:
        k = unf[0]["k"]
        clients = next((t["clients"] for t in throughput.values()), None)
        md.append(f"## Top-{k} search, no filter")
        md.append("")
        rows = []
        for q in unf:
            t, to = tp(q), tp_other(q)
            rows.append([q["engine"], "exact (none)" if q["index"] == "none" else q["index"],
                         q["build"].replace(";", ", "),
                         "–" if q["param_name"] == "-" else f"{q['param_name']}={q['param']}",
                         q["queries"], f"{q['recall']:.4f}", fmt(q["qps"], 1),
                         fmt(q["p50_ms"]), fmt(q["p99_ms"]),
                         fmt(t["tps"], 1) if t else "–",
                         fmt_ratio(ratio(q["qps"], other(q, "qps"))),
                         fmt_ratio(ratio(q["p50_ms"], other(q, "p50_ms"))),
                         fmt_ratio(ratio(t["tps"] if t else None, to["tps"] if to else None)),
                         q["plan"]])
        md.append(md_table(["engine", "index", "build", "search", "queries", f"recall@{k}", "QPS",
                            "p50 ms", "p99 ms", f"{clients or '?'}-client TPS", "QPS ratio",
                            "p50 ratio", "TPS ratio", "plan"], rows))
        md.append("")

    filtered = [q for q in queries if q["filter"] != "none"]
    if filtered:
        chosen = chosen_params(queries)
        shown = sorted((q for q in filtered if q["index"] == "none" or q["param"] == chosen.get(q["index"])
                        or q["param"].startswith(f"{chosen.get(q['index'])}/")),
                       key=lambda q: (q["filter"],) + sort_key(q))
        md.append("## Filtered top-k search")
        md.append("")
        note = ", ".join(f"{ix} {next(q['param_name'] for q in queries if q['index'] == ix)}={p}"
                         for ix, p in sorted(chosen.items()) if ix != "none")
        md.append("`rows` is the mean number of rows returned (LIMIT k); `short` the number of "
                  "queries that returned fewer than min(k, matching rows)."
                  + (f" ANN rows at {note}; every sweep point is in results.csv." if note else ""))
        md.append("")
        rows = []
        for q in shown:
            rows.append([q["filter"], f"{100 * q['selectivity']:.2f}%" if q["selectivity"] is not None else "–",
                         q["engine"], "exact" if q["index"] == "none" else f"{q['index']} {q['param_name']}={q['param']}",
                         f"{q['recall']:.4f}", fmt(q["rows_mean"], 1), fmt(q["short_queries"], 0),
                         fmt(q["qps"], 1), fmt(q["p50_ms"]), fmt(q["p99_ms"]),
                         fmt_ratio(ratio(q["qps"], other(q, "qps"))), q["plan"]])
        md.append(md_table(["filter", "selectivity", "engine", "index", "recall", "rows", "short",
                            "QPS", "p50 ms", "p99 ms", "QPS ratio", "plan"], rows))
        md.append("")

    variants = [q for q in filtered if "/" in q["param"]] if filtered else []
    if variants:
        md.append("## Hybrid queries: the strategy vsearch chose against the alternatives")
        md.append("")
        md.append("Per filter, at the sweep point of the filtered table: vsearch's default (`auto`: "
                  "the hybrid scan chooses at run time); the fastest strategy forced by hand "
                  "(`vsearch.hybrid_strategy` = index or exact, or `vsearch.hybrid = off`: the core "
                  "planner's plan) among those with recall >= 0.95 and no short query; and the "
                  "fastest pgvector configuration (default plan, iterative scan relaxed or strict "
                  "order) whatever its recall. Ratios are QPS ratios.")
        md.append("")
        rows = []
        chosen = chosen_params(queries)
        for ix in sorted({q["index"] for q in variants}, key=lambda x: INDEX_ORDER.get(x, 9)):
            mid = chosen.get(ix)
            for f in sorted({q["filter"] for q in variants if q["index"] == ix}):
                def pick(engine, p):
                    return next((q for q in filtered if q["engine"] == engine and q["index"] == ix
                                 and q["filter"] == f and q["param"] == p), None)
                auto = pick("vsearch", mid)
                forced = [q for q in (pick("vsearch", f"{mid}/{v}") for v in ("index", "exact", "core"))
                          if q and q["recall"] >= 0.95 and not q["short_queries"]]
                best = max(forced, key=lambda q: q["qps"]) if forced else None
                pg = [q for q in (pick("pgvector", p) for p in (mid, f"{mid}/relaxed", f"{mid}/strict")) if q]
                pgbest = max(pg, key=lambda q: q["qps"]) if pg else None
                if not auto:
                    continue
                sel = f"{100 * auto['selectivity']:.2f}%" if auto["selectivity"] is not None else "–"
                rows.append([ix, f, sel, f"{auto['recall']:.4f}", fmt(auto["short_queries"], 0),
                             fmt(auto["qps"], 1),
                             f"{best['param'].split('/')[1]} {fmt(best['qps'], 1)}" if best else "–",
                             fmt_ratio(ratio(auto["qps"], best["qps"] if best else None)),
                             (f"{pgbest['param'].split('/')[1] if '/' in pgbest['param'] else 'default'} "
                              f"{fmt(pgbest['qps'], 1)} (recall {pgbest['recall']:.3f}, short "
                              f"{fmt(pgbest['short_queries'], 0)})") if pgbest else "–",
                             fmt_ratio(ratio(auto["qps"], pgbest["qps"] if pgbest else None))])
        md.append(md_table(["index", "filter", "selectivity", "auto recall", "short", "auto QPS",
                            "fastest forced (QPS)", "auto / forced", "pgvector fastest (QPS)",
                            "auto / pgvector"], rows))
        md.append("")

    # Equal recall: only with filtered queries at two or more sweep points
    # (bench/run --full-sweep), for each engine's default plan.
    target = 0.95
    curves = {}
    for q in filtered if filtered else []:
        if q["index"] != "none" and "/" not in q["param"]:
            curves.setdefault((q["index"], q["filter"], q["engine"]), []).append(q)
    pairs = sorted({(ix, f) for (ix, f, e) in curves
                    if len(curves.get((ix, f, "vsearch"), [])) >= 2
                    and len(curves.get((ix, f, "pgvector"), [])) >= 2},
                   key=lambda x: (INDEX_ORDER.get(x[0], 9), x[1]))
    if pairs:
        md.append(f"## Filtered search at equal recall ({target})")
        md.append("")
        md.append(f"Each engine's default plan along the sweep: the best QPS at recall >= {target}, "
                  "the fastest sweep point at or above it or the straight line between the two "
                  "neighbouring points that cross it. `not reached` gives the engine's highest "
                  "recall (and its QPS) when no point reaches it.")
        md.append("")
        rows = []
        for ix, f in pairs:
            cells = []
            vals = {}
            for e in ("vsearch", "pgvector"):
                pts = curves[(ix, f, e)]
                v = qps_at_recall(pts, target)
                vals[e] = v
                span = ", ".join(f"{q['param']}: {q['recall']:.3f} / {fmt(q['qps'], 1)}"
                                 for q in sorted(pts, key=lambda q: param_key(q["param"])))
                if v is None:
                    top = max(pts, key=lambda q: q["recall"])
                    cells += [f"not reached ({top['recall']:.3f} at {fmt(top['qps'], 1)})", span]
                else:
                    cells += [fmt(v, 1), span]
            sel = curves[(ix, f, "vsearch")][0]["selectivity"]
            rows.append([ix, f, f"{100 * sel:.2f}%" if sel is not None else "–"] + cells
                        + [fmt_ratio(ratio(vals["vsearch"], vals["pgvector"]))])
        md.append(md_table(["index", "filter", "selectivity", f"vsearch QPS at {target}",
                            "vsearch sweep (recall / QPS)", f"pgvector QPS at {target}",
                            "pgvector sweep (recall / QPS)", "ratio"], rows))
        md.append("")

    if builds:
        md.append("## Index builds")
        md.append("")
        rows = []
        keys = sorted({(k[1], k[2]) for k in builds}, key=lambda x: INDEX_ORDER.get(x[0], 9))
        for ix, build in keys:
            for e in ENGINES:
                s = builds.get((e, ix, build, "serial"))
                p = builds.get((e, ix, build, "parallel"))
                if not s and not p:
                    continue
                ps = builds.get(("pgvector", ix, build, "serial")) if e == "vsearch" else None
                pp = builds.get(("pgvector", ix, build, "parallel")) if e == "vsearch" else None
                size = (s or p)["index_bytes"]
                psize = (ps or pp)["index_bytes"] if (ps or pp) else None
                rows.append([e, ix, build.replace(";", ", "), fmt(s["build_s"]) if s else "–",
                             (f"{fmt(p['build_s'])} ({p['workers']} workers)" if p else "–"),
                             fmt(mib(size), 1),
                             fmt_ratio(ratio(s["build_s"] if s else None, ps["build_s"] if ps else None)),
                             fmt_ratio(ratio(p["build_s"] if p else None, pp["build_s"] if pp else None)),
                             fmt_ratio(ratio(size, psize))])
        md.append(md_table(["engine", "index", "build", "serial s", "parallel s", "size MiB",
                            "serial ratio", "parallel ratio", "size ratio"], rows))
        md.append("")

    if loads:
        md.append("## Load")
        md.append("")
        rows = [[l["engine"], l["extension_version"], l["rows"], l["dim"], fmt(num(l["copy_s"])),
                 fmt(num(l["post_load_s"])), fmt(mib(num(l["table_bytes"])), 1),
                 fmt(mib(num(l["btree_bytes"])), 1)] for l in loads]
        md.append(md_table(["engine", "version", "rows", "dim", "COPY s",
                            "keys+btrees+analyze s", "table MiB (with TOAST)", "btrees MiB"], rows))
        md.append("")

    stats = os.path.join(outdir, "dataset-stats.txt")
    if os.path.exists(stats):
        md.append("## Dataset")
        md.append("")
        md.append("```")
        with open(stats) as f:
            md.append(f.read().rstrip())
        md.append("```")
        md.append("")

    if plots:
        md.append("## Plots")
        md.append("")
        for p in plots:
            md.append(f"![{p[:-4]}]({p})")
            md.append("")
    if not builds:
        md.append("No index was built in this run (exact search only), so there are no "
                  "build-time or index-size plots.")
        md.append("")

    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(md))
    print(os.path.join(outdir, "summary.md"))


if __name__ == "__main__":
    main()
