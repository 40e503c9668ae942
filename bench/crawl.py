"""A site crawl of pilotarchive beside a bare Scrapy spider and wget, on one local server.

Run: ``python bench/crawl.py [--pages N] [--rounds R] [--concurrency C] [--workers W]
[--nav-links K] [--baseline REV]``. With ``--nav-links 0`` every page keeps only its own
links (language and text versions, its five children, three cross links): about ten links
a page, the other shape of site on which pilotarchive must not be slower than a bare Scrapy
spider.

The synthetic ministry site (``pilotarchive replica serve --synthetic N``: N pages per
language, 15-30 KiB each, text versions, a link graph of depth 5 and more) is written as
files and served by Debian's nginx on 127.0.0.1 when it is installed (else by Twisted's
static file server, and the output says so). Three crawlers fetch the whole site, in
alternating rounds, and the median round of each counts:

a. ``pilotarchive crawl --scope site`` (extraction, validation, WARC, records);
a0. the same crawl by pilotarchive as it was at ``--baseline`` (a git revision; by default
   the commit before issue 18's structural reading, when the ratio to a bare spider was
   0.88 on one machine): that tree is exported with ``git archive`` into a temporary folder
   and run from there, so today's crawl is printed beside the one the issue measured, on
   the same site in the same run (``--baseline none`` leaves it out);
b. a bare Scrapy ``CrawlSpider`` with the same concurrency that yields url and title
   (``bench/bare_spider.py``), with Scrapy's defaults, and (b') with the generic speed
   settings pilotarchive sets for itself (``CONCURRENT_ITEMS``,
   ``WARN_ON_GENERATOR_RETURN_VALUE``), so that no default flatters the comparison;
c. ``wget --recursive --warc-file`` (one connection; what a WARC costs at its cheapest).

For each: pages, wall seconds, pages/s, CPU seconds (user + system, children included) and
peak RSS, from ``/usr/bin/time``. Then the ratios a/b, a/b', a/a0 and a/c of pages/s. Targets:
a/b at least 1.0 against the faster of b and b' (archiving costs no throughput against
Scrapy itself); a/a0 not below 0.95 (the new reading must not make a crawl slower; 5 %
is the spread of rounds on a shared machine); with ``--workers 2``, a/c at least 0.5. The
script exits 1 when a target is missed.
"""

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pilotarchive.replica.synthetic import SyntheticSite, write_static  # noqa: E402

NGINX_CONF = """
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    default_type text/html;
    types {{ text/html html; text/plain txt; }}
    charset utf-8;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
        location = / {{ return 302 /fi/index.html; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not start")


def start_server(root: Path, tmp: Path) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root))
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.PIPE)
        name = "Debian's nginx (2 workers)"
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twisted", "web", "--path", str(root), "--listen",
             f"tcp:{port}:interface=127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        name = "Twisted's static file server (nginx is not installed)"
    wait_for(port)
    return proc, port, name


@dataclass
class ServedSite:
    url: str  # the Finnish front page, where crawls start
    pages: int
    mean_kib: float
    server: str  # which server, for the output
    tmp: Path  # a work folder beside the site, removed with it


_NAV = re.compile(r'(<div id="leftnav"><ul>)(.*?)(</ul></div>)', re.DOTALL)
_NAV_ITEM = re.compile(r"<li>.*?</li>", re.DOTALL)


def trim_navigation(site: Path, keep: int) -> None:
    """Keep only the first ``keep`` links of every page's left navigation: pages with about
    ten links in all (the five children and three cross links of the page tree stay, so
    the whole site is still reached) instead of some fifty, the other shape of site a
    crawler must not be slower on."""
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")

        def cut(m: re.Match[str]) -> str:
            items = _NAV_ITEM.findall(m.group(2))[:keep]
            return m.group(1) + "".join(items) + m.group(3)

        path.write_text(_NAV.sub(cut, html, count=1), encoding="utf-8")


@contextmanager
def served_synthetic(pages: int, prefix: str, nav_links: int | None = None) -> Iterator[ServedSite]:
    """The synthetic site written as files in a temporary folder and served on 127.0.0.1
    (nginx when installed) while the block runs; both benches start from this.
    ``nav_links`` trims every page's navigation to that many links."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # nginx's workers run as another user and must read the site
        site = tmp / "site"
        written = write_static(SyntheticSite(pages), site)
        if nav_links is not None:
            trim_navigation(site, nav_links)
        sizes = [p.stat().st_size for p in site.rglob("*.html")]
        server, port, server_name = start_server(site, tmp)
        try:
            yield ServedSite(f"http://127.0.0.1:{port}/fi/index.html", written,
                             statistics.mean(sizes) / 1024, server_name, tmp)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)


@dataclass
class Round:
    pages: int
    wall: float
    cpu: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


def timed(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """Run under /usr/bin/time: wall, CPU (user+sys) and peak RSS of the command."""
    stats = cwd / "time.txt"
    started = time.monotonic()
    proc = subprocess.run(
        ["/usr/bin/time", "-o", str(stats), "-f", "%U %S %M", *argv],
        cwd=cwd, capture_output=True, text=True, env=env,
    )  # fmt: skip
    wall = time.monotonic() - started
    user, system, rss = stats.read_text().split()[-3:]
    return proc, wall, float(user) + float(system), int(rss) / 1024


# The crawl before issue 18 (reading by structure and labels): the one a/a0 compares with.
BASELINE_REV = "735a176"


def export_tree(rev: str, into: Path) -> Path | None:
    """pilotarchive and its schemas as they were at ``rev``, written under ``into``; None
    (and why, printed) when git cannot export that revision."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "pilotarchive", "schemas"],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"  baseline {rev}: not measured ({exc})")
        return None
    tree = into / f"pilotarchive-{rev}"
    tree.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def run_pilotarchive(
    url: str, work: Path, concurrency: int, workers: int, tree: Path | None = None
) -> Round:
    """One crawl of the whole site; ``tree``: run the pilotarchive exported there (a
    baseline revision) instead of this checkout's."""
    out = work / "pa"
    env = {**os.environ, "PYTHONPATH": str(tree)} if tree is not None else None
    argv = [sys.executable, "-m", "pilotarchive", "crawl", url, "--scope", "site",
            "--max-pages", "1000000", "--output", str(out), "--fast-loopback",
            "-s", f"CONCURRENT_REQUESTS={concurrency}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}"]  # fmt: skip
    if workers > 1:
        argv += ["--workers", str(workers)]
    proc, wall, cpu, rss = timed(argv, work, env)
    if proc.returncode not in (0, 3):
        which = f" (baseline {tree.name})" if tree is not None else ""
        raise SystemExit(f"pilotarchive crawl{which} failed: {proc.stderr.strip()[-500:]}")
    snapshot = Path(proc.stdout.strip().splitlines()[-1])
    manifest = json.loads((snapshot / "manifest.json").read_text())
    return Round(manifest["counts"]["page"]["total"], wall, cpu, rss)


# The generic Scrapy settings pilotarchive's crawl sets for speed (pilotarchive/settings.py):
# the tuned baseline gets them too, so a/b' compares the work done per page, not defaults.
TUNED = ["-s", "CONCURRENT_ITEMS=16", "-s", "WARN_ON_GENERATOR_RETURN_VALUE=False"]


def run_scrapy(url: str, work: Path, concurrency: int, tuned: bool = False) -> Round:
    count = work / "count.txt"
    argv = [sys.executable, "-m", "scrapy", "runspider", str(ROOT / "bench" / "bare_spider.py"),
            "-a", f"start={url}", "-a", f"count_file={count}",
            "-s", f"CONCURRENT_REQUESTS={concurrency}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            "-s", "LOG_LEVEL=ERROR", *(TUNED if tuned else [])]  # fmt: skip
    proc, wall, cpu, rss = timed(argv, work)
    if proc.returncode != 0 or not count.exists():
        raise SystemExit(f"bare Scrapy failed: {proc.stderr.strip()[-500:]}")
    return Round(int(count.read_text()), wall, cpu, rss)


def run_wget(url: str, work: Path) -> Round:
    argv = ["wget", "--recursive", "--level=inf", "--no-verbose", "-e", "robots=on",
            "--warc-file", str(work / "wget"), "--no-warc-keep-log",
            "--directory-prefix", str(work / "wget-files"), url]  # fmt: skip
    proc, wall, cpu, rss = timed(argv, work)
    if proc.returncode not in (0, 8):  # 8: some 404 among the links
        raise SystemExit(f"wget failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    pages = sum(1 for p in (work / "wget-files").rglob("*.html"))
    return Round(pages, wall, cpu, rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=333,
                        help="synthetic pages per language (333: about 2,000 pages in all, "
                        "with text versions)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once (a, b)")
    parser.add_argument("--workers", type=int, default=1, help="pilotarchive --workers")
    parser.add_argument("--nav-links", type=int, default=None,
                        help="keep this many navigation links a page (0: about ten links a "
                        "page in all; default: all 40)")  # fmt: skip
    parser.add_argument("--baseline", default=BASELINE_REV,
                        help=f"the pilotarchive revision to crawl beside today's (a0; "
                        f"default {BASELINE_REV}, before issue 18; 'none': not run)")  # fmt: skip
    args = parser.parse_args()
    if not shutil.which("wget"):
        raise SystemExit("wget is not installed (apt-get install wget)")
    with served_synthetic(args.pages, "pa-bench-", args.nav_links) as served:
        url, tmp = served.url, served.tmp
        links = "all navigation links"
        if args.nav_links is not None:
            links = f"navigation cut to {args.nav_links} links ({args.nav_links + 11} a page)"
        print(f"site: {served.pages} pages ({args.pages} per language, graphic and text), "
              f"mean {served.mean_kib:.1f} KiB, {links}, served by {served.server}")  # fmt: skip
        print(
            f"machine: {os.cpu_count()} cores; concurrency {args.concurrency}; "
            f"pilotarchive workers {args.workers}; {args.rounds} alternating rounds, median"
        )
        tree = export_tree(args.baseline, tmp) if args.baseline != "none" else None
        results: dict[str, list[Round]] = {"a": [], "a0": [], "b": [], "b'": [], "c": []}
        if tree is None:
            del results["a0"]
        for n in range(args.rounds):
            for key in results:
                work = tmp / f"round-{n}-{key}"
                work.mkdir()
                if key in ("a", "a0"):
                    old = tree if key == "a0" else None
                    results[key].append(run_pilotarchive(url, work, args.concurrency,
                                                          args.workers, old))  # fmt: skip
                elif key in ("b", "b'"):
                    results[key].append(run_scrapy(url, work, args.concurrency,
                                                   tuned=key == "b'"))  # fmt: skip
                else:
                    results[key].append(run_wget(url, work))
                shutil.rmtree(work)
    workers = f" --workers {args.workers}" if args.workers > 1 else ""
    names = {
        "a": f"a. pilotarchive crawl --scope site{workers}",
        "a0": f"a0. the same, pilotarchive at {args.baseline}",
        "b": "b. bare Scrapy CrawlSpider (url, title)",
        "b'": "b'. the same, pilotarchive's Scrapy settings",
        "c": "c. wget --recursive --warc-file",
    }
    medians = {}
    print(f"{'crawler':46} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} {'peak RSS':>9}")
    for key, rounds in results.items():
        best = sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]
        medians[key] = best
        print(f"{names[key]:46} {best.pages:6} {best.wall:7.1f} {best.rate:8.1f} "
              f"{best.cpu:7.1f} {best.rss_mb:7.0f} MB")  # fmt: skip
    # The target is judged against the faster of the two baselines.
    ab = medians["a"].rate / max(medians["b"].rate, medians["b'"].rate)
    ac = medians["a"].rate / medians["c"].rate
    a, b, b_tuned = medians["a"].rate, medians["b"].rate, medians["b'"].rate
    print(f"a/b (pages/s): {a / b:.2f}   a/b' (pages/s): {a / b_tuned:.2f}   "
          f"target >= 1.0 against the faster: {'meets' if ab >= 1.0 else 'MISSES'}")  # fmt: skip
    kept = True
    if "a0" in medians:
        aa0 = a / medians["a0"].rate
        kept = aa0 >= 0.95
        print(f"a/a0 (pages/s): {aa0:.2f}   today's crawl against {args.baseline}'s, "
              f"target >= 0.95 (not slower): {'meets' if kept else 'MISSES'}")  # fmt: skip
    target_c = "meets" if ac >= 0.5 else "MISSES"
    note = "" if args.workers > 1 else " (the target is for --workers 2)"
    print(f"a/c (pages/s): {ac:.2f}   target >= 0.5 with --workers 2: {target_c}{note}")
    ok = ab >= 1.0 and kept and (args.workers < 2 or ac >= 0.5)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
