#!/usr/bin/env python3
"""Run sheetsift on oracle-made cases the way tests/fidelity_cases.rs does and
list every difference from the reference's expected outputs (not only the
first, as an assertion would).

    python tests/oracle/compare_cases.py --sheetsift target/release/sheetsift [CASE...]

For each case under tests/cases that has the fidelity layout (input/,
expected_extract/, expected_dialogues/, ARGS, optional EXIT and
expected_chain/), in a temporary copy:
  sheetsift dialogues input -o out -q ARGS     (exit code vs EXIT)
  sheetsift extract input -o xout -q           (exit code vs EXIT)
  sheetsift run input -o run --chunk-size 2 -q ARGS   (when expected_chain/)
then compares the extract cell for cell (sheetsift's xlsx read with the
dump's own xlsx reader; t:/D: tokens mapped as tests/common does, see
expected_cell) and the corpora line by line.  Exit status 1 when anything
differs.  Used by prop_compare.py too.
"""
import argparse
import datetime as dt
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dump_cells_ext  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
CASES = os.path.join(ROOT, 'tests', 'cases')
CORPUS = ['std/train.txt', 'std/val.txt', 'mmi/train.txt', 'mmi/val.txt']

_TD = re.compile(r'^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d{6}))?$')


def parse_timedelta(s):
    """Python str(datetime.timedelta) back to the timedelta."""
    m = _TD.match(s)
    if not m:
        raise ValueError('not a timedelta: %r' % s)
    days = int(m.group(1) or 0)
    return dt.timedelta(days=days, hours=int(m.group(2)), minutes=int(m.group(3)), seconds=int(m.group(4)),
                        microseconds=int(m.group(5) or 0))


def expected_cell(tok):
    """The token an xlsx cell must dump as for a DataFrame token.  A time
    (t:) is written by pandas' to_excel as the text str(time); a duration
    (D:) as the number total_seconds()/86400 (format '0').  That is what
    the reference's own chunk file holds, so stage 2 re-reading it (and
    sheetsift's `run`) sees text and a number.  An infinite number, which no
    xlsx cell can hold, is written as the text 'inf' / '-inf' (to_excel's
    inf_rep)."""
    if tok.startswith('t:'):
        return 's:' + dump_cells_ext.escape_text(tok[2:])
    if tok in ('n:inf', 'n:-inf'):
        return 's:' + tok[2:]
    if tok.startswith('D:'):
        return dump_cells_ext.fmt_number(parse_timedelta(tok[2:]).total_seconds() / 86400)
    return tok


def read_exit(case_dir):
    """(extract code, dialogues code) from EXIT ('N' or 'extract N' /
    'dialogues N' lines); 0 when there is no EXIT file."""
    p = os.path.join(case_dir, 'EXIT')
    if not os.path.exists(p):
        return 0, 0
    codes = {}
    for line in open(p).read().split('\n'):
        parts = line.split()
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            codes[parts[0]] = int(parts[1])
    return codes.get('extract', 0), codes.get('dialogues', 0)


def run(binary, args, cwd):
    r = subprocess.run([binary] + args, cwd=cwd, capture_output=True, text=True)
    return r.returncode, r.stderr


def dump_xlsx(path):
    rows, _ = dump_cells_ext.merge_sheets(dump_cells_ext.read_xlsx(path))
    return rows


def compare_cells(got_rows, want_rows, label):
    """Differences between two token grids, one line each."""
    out = []
    header = want_rows[0] if want_rows else []
    if len(got_rows) != len(want_rows):
        out.append('%s: %d rows, reference %d' % (label, len(got_rows), len(want_rows)))
    width = max([len(r) for r in got_rows + want_rows] or [0])
    for i in range(max(len(got_rows), len(want_rows))):
        g = got_rows[i] if i < len(got_rows) else None
        w = want_rows[i] if i < len(want_rows) else None
        if g is None or w is None:
            out.append('%s row %d: sheetsift %s, reference %s' % (label, i + 1, g, w))
            continue
        g = g + [''] * (width - len(g))
        w = w + [''] * (width - len(w))
        for c in range(width):
            want = expected_cell(w[c])
            if g[c] != want:
                col = header[c] if c < len(header) else '?'
                shown = want if want == w[c] else '%s (as written: %s)' % (w[c], want)
                out.append('%s row %d col %d [%s]: reference %s, sheetsift %s' % (label, i + 1, c + 1, col, shown,
                                                                                  g[c] or '(empty)'))
    return out


def compare_corpus(got_dir, want_dir, label):
    out = []
    for f in CORPUS:
        gp, wp = os.path.join(got_dir, f), os.path.join(want_dir, f)
        if not os.path.exists(gp):
            out.append('%s %s: missing in sheetsift output' % (label, f))
            continue
        g = open(gp, 'rb').read()
        w = open(wp, 'rb').read()
        if g == w:
            continue
        gl = g.decode('utf-8', 'replace').split('\n')
        wl = w.decode('utf-8', 'replace').split('\n')
        diff = [d for d in difflib.unified_diff(wl, gl, 'reference', 'sheetsift', n=0, lineterm='')
                if not d.startswith(('---', '+++'))]
        out.append('%s %s differs (- reference, + sheetsift):' % (label, f))
        out.extend('    ' + repr(d)[1:-1] for d in diff[:60])
        if len(diff) > 60:
            out.append('    ... %d more diff lines' % (len(diff) - 60))
    return out


def compare_case(binary, case_dir, chain=True):
    """All differences for one case directory, as text lines."""
    name = os.path.basename(case_dir.rstrip('/'))
    diffs = []
    tmp = tempfile.mkdtemp(prefix='sheetsift-case-')
    try:
        root = os.path.join(tmp, name)
        shutil.copytree(case_dir, root)
        args = open(os.path.join(root, 'ARGS')).read().split()
        want_x, want_d = read_exit(root)
        code, err = run(binary, ['dialogues', 'input', '-o', 'out', '-q'] + args, root)
        if code != want_d:
            diffs.append('dialogues exit %d, reference %d; stderr: %s' % (code, want_d, err.strip()[:400]))
        if os.path.isdir(os.path.join(root, 'expected_dialogues', 'std')) and code in (0, 3):
            diffs += compare_corpus(os.path.join(root, 'out'), os.path.join(root, 'expected_dialogues'), 'dialogues')
        code, err = run(binary, ['extract', 'input', '-o', 'xout', '-q'], root)
        if code != want_x:
            diffs.append('extract exit %d, reference %d; stderr: %s' % (code, want_x, err.strip()[:400]))
        want_files = sorted(f[:-len('.cells.csv')] for f in os.listdir(os.path.join(root, 'expected_extract'))
                            if f.endswith('.cells.csv'))
        got_files = sorted(f for f in os.listdir(os.path.join(root, 'xout')) if f.endswith('.xlsx')) \
            if os.path.isdir(os.path.join(root, 'xout')) else []
        if want_files != got_files:
            diffs.append('extract outputs %s, reference %s' % (got_files, want_files))
        for f in want_files:
            if f in got_files:
                diffs += compare_cells(dump_xlsx(os.path.join(root, 'xout', f)),
                                       dump_cells_ext.read_rows(os.path.join(root, 'expected_extract', f + '.cells.csv')),
                                       'extract ' + f)
        if chain and os.path.isdir(os.path.join(root, 'expected_chain')):
            code, err = run(binary, ['run', 'input', '-o', 'run', '--chunk-size', '2', '-q'] + args, root)
            if code != want_d:
                diffs.append('run exit %d, reference %d; stderr: %s' % (code, want_d, err.strip()[:400]))
            diffs += compare_corpus(os.path.join(root, 'run'), os.path.join(root, 'expected_chain'), 'run (chain)')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return diffs


def fidelity_cases():
    """Case directories with the fidelity layout (they have expected_extract/
    and an ARGS; the older cases are run by tests/fidelity.rs)."""
    old = {'emoji_punct', 'ids_dups', 'bets', 'chain'}
    return sorted(d for d in os.listdir(CASES)
                  if d not in old and os.path.exists(os.path.join(CASES, d, 'ARGS')))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sheetsift', default=os.environ.get('SHEETSIFT', os.path.join(ROOT, 'target', 'release', 'sheetsift')))
    ap.add_argument('cases', nargs='*')
    a = ap.parse_args()
    binary = os.path.abspath(a.sheetsift)
    bad = 0
    for case in a.cases or fidelity_cases():
        diffs = compare_case(binary, os.path.join(CASES, case))
        print('== %s: %s' % (case, 'same' if not diffs else '%d difference(s)' % len(diffs)))
        for d in diffs:
            print('  ' + d)
        bad += bool(diffs)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
