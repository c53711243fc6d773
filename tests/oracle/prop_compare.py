#!/usr/bin/env python3
"""Property test: sheetsift against the reference on random small inputs.

    python tests/oracle/prop_compare.py --seed 1 --cases 50 \\
        --sheetsift target/release/sheetsift --reference tests/oracle/reference

Run with a Python that has the reference's packages
(`python3 -m venv .venv && .venv/bin/pip install -r ../shared/reference/requirements.txt`).
Each generated case is one directory with an input/ of 1 to 3 small files
(xlsx through openpyxl, ods through odfpy, CSV written byte for byte)
drawn from a seeded generator: value types (text, ints, floats with edge
reprs, 64-bit ids, booleans, NA strings, times, durations, dates), header
rows (typed names, duplicates, empty cells, blank first rows), CSV blank and
whitespace lines, line endings, quoting, encodings (UTF-8, UTF-8 with BOM,
GB18030) and the 1904 date system.  The reference's outputs are made for it
exactly as tests/oracle/make_cases.py makes a case's (extract dumped with
dump_cells_ext, dialogues with ARGS, EXIT), then compare_cases.py runs
sheetsift on it and lists the differences.

Every case records the features it was drawn with; the summary counts, per
feature, the cases that had it and the ones that failed, so a feature that
fails every time it appears names a class of mismatch.  Exit status 1 when
any case differs.  Failing cases are kept under --keep (default:
target/prop_compare/seed-S) as ready-made case directories.
"""
import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)

HEADER = ['坐席id', '客户微信id', '是否客服', '消息内容', '发送时间', '消息id']
TEXTS = ['你好', '在吗', '好的。', '谢谢！', '收到', 'ok', '嗯', '请问?', '稍等', '再见', '  ', '多行\n文本',
         '回车\r\n换行', '=SUM(A1)', '#REF!', '"引号"', '逗号,里', '1.50', '0012', 'True']
NA_TEXT = ['NA', 'null', 'None', 'nan', '#N/A', 'N/A', '']
# GB18030 codes Python and WHATWG decode differently (make_cases.GB18030_DIFFS).
GB_DIFF_BYTES = [bytes.fromhex(h) for h in ('A3A0', 'A6D9', 'A8BC', 'FE59', 'FEA0', '8135F437')]


class F:
    def __init__(self, value, fmt):
        self.value, self.fmt = value, fmt


# ---------------------------------------------------------------- features
# Each file is drawn with 0 to 2 of the features its format can have, so a
# failing case points at few candidates; without any, a file holds text
# ids, and text, small ints, booleans and plain floats as messages.

FEATURES = {
    'xlsx': ['time', 'duration', 'date', 'date1904', 'blank-first-row', 'multi-sheet', 'int-ids', 'bigint-ids',
             'mixed-ids', 'float-ids', 'float-edges', 'bigint-content', 'na-strings', 'content-one-type',
             'extra-header', 'column-order', 'duplicate-row'],
    'csv': ['blank-lines', 'whitespace-lines', 'blank-first-line', 'crlf', 'bom', 'gb18030', 'gb18030-diff-code',
            'gb18030-byte80', 'quoting', 'int-ids', 'bigint-ids', 'mixed-ids', 'float-ids', 'float-edges',
            'bigint-content', 'na-strings', 'content-one-type', 'extra-header', 'column-order', 'duplicate-row'],
    'ods': ['ods-tab', 'ods-text-s', 'int-ids', 'bigint-ids', 'mixed-ids', 'float-ids', 'float-edges',
            'bigint-content', 'na-strings', 'content-one-type', 'extra-header', 'column-order', 'duplicate-row'],
}


def draw_features(rng, fmt):
    return set(rng.sample(FEATURES[fmt], rng.choice([0, 0, 1, 1, 2])))


# ---------------------------------------------------------------- values

def float_edge(rng):
    return rng.choice([0.1 + 0.2, 1e-05, 1e16, 1e20, 2.5e19, -0.0, 123456.789, 1 / 3, 5e-324,
                       1.7976931348623157e308, 9007199254740993.0, 100.0])


def big_int(rng):
    return rng.choice([1234567890123456789, 1234567890123456788, 9007199254740993, 9007199254740992,
                       9223372036854775807, -9223372036854775808])


def content_value(rng, kind):
    """One message cell of the given kind (a Python value or F)."""
    if kind == 'text':
        return rng.choice(TEXTS)
    if kind == 'na-strings':
        return rng.choice(NA_TEXT)
    if kind == 'int':
        return rng.choice([0, 1, 12, -3, 2 ** 31, 10 ** 15])
    if kind == 'float':
        return rng.choice([1.5, 0.5, -7.25, 2.0])
    if kind == 'float-edges':
        return float_edge(rng)
    if kind == 'bigint-content':
        return big_int(rng)
    if kind == 'bool':
        return rng.choice([True, False])
    if kind == 'time':
        return F(rng.choice([0.0, 0.25, 0.395833333333333, 0.5208391203703704, 0.999988425925926]),
                 rng.choice(['h:mm', 'hh:mm:ss', 'h:mm AM/PM', 'mm:ss']))
    if kind == 'duration':
        return F(rng.choice([1.0833333333333333, 0.75, 0.01, 2.5, -0.5, 30.25]),
                 rng.choice(['[h]:mm:ss', '[hh]:mm', '[mm]:ss', '[ss]']))
    if kind == 'date':
        return F(rng.choice([45046.0, 45046.395833333336, 1.0, 59.0, 61.0, 1.5]),
                 rng.choice(['yyyy-mm-dd', 'yyyy-mm-dd hh:mm:ss', 'h:mm']))
    raise ValueError(kind)


def id_value(kind, k):
    if kind == 'text':
        return 'A%03d' % k
    if kind == 'int-ids':
        return [9, 10, 100, 1003, 12][k % 5]
    if kind == 'bigint-ids':
        return [1234567890123456789, 1234567890123456788, 9223372036854775807][k % 3]
    if kind == 'mixed-ids':
        return [12, 'A12', '0012', 12.0, 7][k % 5]
    if kind == 'float-ids':
        return [1.5, 2.0, 2.5][k % 3]
    raise ValueError(kind)


# ---------------------------------------------------------------- tables

def make_table(rng, on, fmt):
    """(header, rows): a header and 4-12 data rows; `on` is the file's
    feature set."""
    ids = [f for f in ('int-ids', 'bigint-ids', 'mixed-ids', 'float-ids') if f in on]
    agent_kind = ids[0] if ids else 'text'
    cust_kind = 'int-ids' if 'int-ids' in on and rng.random() < 0.5 else 'text'
    kinds = ['text'] * 6 + ['int', 'float', 'bool']
    kinds += [f for f in ('na-strings', 'float-edges', 'bigint-content', 'time', 'duration', 'date') if f in on] * 3
    if 'content-one-type' in on:
        kinds = [rng.choice(kinds[6:])]  # a content column of one type: pandas types it whole
    n = rng.randint(4, 12)
    rows = []
    for k in range(n):
        g = rng.randint(0, 3)
        rows.append([id_value(agent_kind, g), id_value(cust_kind, g * 7 + 1) if cust_kind != 'text' else 'wxid_%d' % g,
                     rng.choice(['是', '否', '否']), content_value(rng, rng.choice(kinds)),
                     '2023-05-01 10:%02d:00' % k, 100 + k])
    header = list(HEADER)
    if 'column-order' in on:
        order = list(range(6))
        rng.shuffle(order)
        header = [header[i] for i in order]
        rows = [[r[i] for i in order] for r in rows]
    if 'extra-header' in on:
        extra = rng.choice([[2023, '2023'], ['x', 'x', 'x.1'], ['NA'], [None, 'Unnamed: 7'], [True, 1.5],
                            ['备注', '备注']])
        if fmt != 'xlsx':
            extra = ['' if e is None else str(e) for e in extra]
        header += extra
        for r in rows:
            r += [rng.choice(['v', 1, 2.5, None]) for _ in extra]
    if 'duplicate-row' in on and len(rows) > 1:
        rows.append(list(rows[0]))
    return header, rows


# ---------------------------------------------------------------- writers

def write_xlsx(path, rng, on):
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    wb = openpyxl.Workbook()
    if 'date1904' in on:
        wb.epoch = CALENDAR_MAC_1904
        on.add('date')  # a 1904 workbook matters for its dates and times
        on.add('time')
    wb.remove(wb.active)
    for s in range(2 if 'multi-sheet' in on else 1):
        ws = wb.create_sheet('Sheet%d' % (s + 1))
        header, rows = make_table(rng, on, 'xlsx')
        offset = 2 if 'blank-first-row' in on else 1
        for r, row in enumerate([header] + rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, F):
                    ws.cell(r + offset, c + 1, v.value).number_format = v.fmt
                    continue
                if isinstance(v, str) and (v.startswith('=') or v.startswith('#')):
                    v = ' ' + v  # openpyxl would write a formula / an error cell
                ws.cell(r + offset, c + 1, v)
    wb.save(path)


def csv_field(v, rng, on):
    if v is None:
        return ''
    if isinstance(v, F):
        v = v.value
    if isinstance(v, bool):
        s = rng.choice(['True', 'TRUE', 'true']) if v else rng.choice(['False', 'FALSE', 'false'])
    elif isinstance(v, float):
        s = rng.choice([repr(v), '%.6g' % v, '%e' % v]) if 'float-edges' in on else repr(v)
    else:
        s = str(v)
    if any(ch in s for ch in ',"\r\n') or ('quoting' in on and rng.random() < 0.3):
        s = '"' + s.replace('"', '""') + '"'
    return s


def write_csv(path, rng, on):
    header, rows = make_table(rng, on, 'csv')
    eol = '\r\n' if 'crlf' in on else '\n'
    lines = [','.join(csv_field(h, rng, on) for h in header)]
    for r in rows:
        lines.append(','.join(csv_field(v, rng, on) for v in r))
        if 'blank-lines' in on and rng.random() < 0.3:
            lines.append('')
        if 'whitespace-lines' in on and rng.random() < 0.3:
            lines.append(rng.choice([' ', '\t', '  \t']))
    if 'blank-first-line' in on:
        lines.insert(0, rng.choice(['', ' ']))
    text = eol.join(lines) + eol
    if on & {'gb18030', 'gb18030-diff-code', 'gb18030-byte80'}:
        on.add('gb18030')
        data = text.encode('gb18030')
        if 'gb18030-diff-code' in on:
            # messages carry codes Python and WHATWG decode differently
            for t in ('好的。', '收到', '稍等'):
                data = data.replace(t.encode('gb18030'), t.encode('gb18030') + rng.choice(GB_DIFF_BYTES), 1)
        if 'gb18030-byte80' in on:
            data = data.replace('谢谢'.encode('gb18030'), b'\x80', 1)
            data = data.replace('再见'.encode('gb18030'), b'\x80', 1)
    elif 'bom' in on:
        data = text.encode('utf-8-sig')
    else:
        data = text.encode('utf-8')
    with open(path, 'wb') as f:
        f.write(data)


def write_ods(path, rng, on):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P, S, Tab
    header, rows = make_table(rng, on, 'ods')
    doc = OpenDocumentSpreadsheet()
    t = Table(name='Sheet1')
    for r, row in enumerate([header] + rows):
        tr = TableRow()
        for v in row:
            if isinstance(v, F):
                v = v.value
            if v is None or v == '':
                tr.addElement(TableCell())
            elif isinstance(v, bool):
                c = TableCell(valuetype='boolean', booleanvalue='true' if v else 'false')
                c.addElement(P(text='TRUE' if v else 'FALSE'))
                tr.addElement(c)
            elif isinstance(v, (int, float)):
                c = TableCell(valuetype='float', value=repr(v))
                c.addElement(P(text=str(v)))
                tr.addElement(c)
            else:
                c = TableCell(valuetype='string')
                p = P()
                for i, part in enumerate(v.split('  ')):
                    if i:
                        p.addElement(S(c=2))
                    p.addText(part)
                if 'ods-text-s' in on and r > 0 and rng.random() < 0.3:
                    p.addElement(S(c=3))
                    p.addText('尾')
                if 'ods-tab' in on and r > 0 and rng.random() < 0.3:
                    p.addElement(Tab())
                    p.addText('尾')
                c.addElement(p)
                tr.addElement(c)
        t.addElement(tr)
    doc.spreadsheet.addElement(t)
    doc.save(path)


# ---------------------------------------------------------------- one case

def make_case(rng, d):
    """Write d/input/ and return (dialogues args, features)."""
    feats = set()
    inp = os.path.join(d, 'input')
    os.makedirs(inp)
    for i in range(rng.randint(1, 3)):
        fmt = rng.choice(['xlsx', 'xlsx', 'csv', 'csv', 'ods'])
        on = draw_features(rng, fmt)
        p = os.path.join(inp, 'f%d.%s' % (i, fmt))
        {'xlsx': write_xlsx, 'csv': write_csv, 'ods': write_ods}[fmt](p, rng, on)
        feats |= {fmt + ':' + f for f in on} | {fmt}
    args = ['--val-size', rng.choice(['0.3', '0.5', '1']), '--seed', str(rng.randint(0, 9))]
    return args, feats


_WORKFLOW = []


def load_workflow(ref):
    """The reference workflow.py imported once into this process (its
    stage 1 Pool and stage 2 writer Process fork from here), with
    dump_cells_ext standing in for its dump_cells: the same code as
    `python workflow.py`, without paying an interpreter and pandas start-up
    per run."""
    if not _WORKFLOW:
        import importlib.util
        import dump_cells_ext
        sys.modules['dump_cells'] = dump_cells_ext
        sys.path.insert(0, ref)
        spec = importlib.util.spec_from_file_location('sheetsift_reference_workflow', os.path.join(ref, 'workflow.py'))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # Pool workers find extract_data by module name
        spec.loader.exec_module(mod)
        _WORKFLOW.append(mod)
    return _WORKFLOW[0]


def call_workflow(ref, d, argv):
    """workflow.main(argv) run in d: its exit code (1 for an exception, as
    the script's traceback exit), its stderr discarded."""
    wf = load_workflow(ref)
    cwd, err = os.getcwd(), sys.stderr
    os.chdir(d)
    sys.stderr = open(os.devnull, 'w')
    try:
        code = wf.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        code = 1
    finally:
        sys.stderr.close()
        sys.stderr = err
        os.chdir(cwd)
    return code


def run_reference(ref, d, args):
    rx = call_workflow(ref, d, ['extract', '--out', 'expected_extract', '--dump-cells', '--jobs', '1', 'input'])
    os.makedirs(os.path.join(d, 'expected_extract'), exist_ok=True)
    for f in os.listdir(os.path.join(d, 'expected_extract')):
        if f.endswith('.xlsx'):
            os.remove(os.path.join(d, 'expected_extract', f))
    rd = call_workflow(ref, d, ['dialogues', '--out', 'expected_dialogues'] + args + ['input'])
    with open(os.path.join(d, 'ARGS'), 'w') as f:
        f.write(' '.join(args) + '\n')
    if rx != rd:
        with open(os.path.join(d, 'EXIT'), 'w') as f:
            f.write('extract %d\ndialogues %d\n' % (rx, rd))
    elif rd:
        with open(os.path.join(d, 'EXIT'), 'w') as f:
            f.write('%d\n' % rd)
    if rd == 1:
        # A fatal error (no dialogues, a split that leaves no train set):
        # nothing to compare but the exit code.
        shutil.rmtree(os.path.join(d, 'expected_dialogues'), ignore_errors=True)


def classify(diff):
    """A coarse class for one difference line of compare_cases."""
    if 'exit' in diff.split(';')[0]:
        return 'exit code'
    if diff.startswith('extract') and ' row 1 col ' in diff:
        return 'extract header'
    if diff.startswith('extract'):
        if 'reference t:' in diff:
            return 'extract time'
        if 'reference D:' in diff:
            return 'extract duration'
        if 'rows, reference' in diff or 'sheetsift None' in diff or 'reference None' in diff:
            return 'extract row count'
        return 'extract value'
    if diff.startswith('run'):
        return 'run vs chain'
    return 'corpus'


def main():
    from compare_cases import compare_case
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--cases', type=int, default=50)
    ap.add_argument('--sheetsift', default=os.environ.get('SHEETSIFT', os.path.join(ROOT, 'target', 'release', 'sheetsift')))
    ap.add_argument('--reference', default=os.environ.get('SHEETSIFT_REFERENCE', os.path.join(HERE, 'reference')))
    ap.add_argument('--keep', default=None, help='directory for failing cases (default target/prop_compare/seed-S)')
    ap.add_argument('--without', default='',
                    help="comma-separated features ('time' or 'xlsx:time'): skip cases drawn with any of them")
    ap.add_argument('--json', default=None, help='also write the summary as JSON to this file')
    a = ap.parse_args()
    binary = os.path.abspath(a.sheetsift)
    ref = os.path.abspath(a.reference)
    if not os.path.exists(os.path.join(ref, 'workflow.py')):
        raise SystemExit('no reference workflow.py in %s (--reference)' % ref)
    if not os.path.exists(binary):
        raise SystemExit('no sheetsift binary at %s (--sheetsift; cargo build --release)' % binary)
    keep = os.path.abspath(a.keep or os.path.join(ROOT, 'target', 'prop_compare', 'seed-%d' % a.seed))
    without = set(filter(None, a.without.split(',')))
    rng = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix='prop-compare-')
    per_feature, classes, failed, ran = {}, {}, [], 0
    try:
        i = 0
        while ran < a.cases:
            i += 1
            if i > a.cases * 20:
                break
            name = 'case%04d' % i
            d = os.path.join(tmp, name)
            args, feats = make_case(rng, d)
            if any(f in without or f.split(':')[-1] in without for f in feats):
                shutil.rmtree(d)
                continue
            ran += 1
            run_reference(ref, d, args)
            diffs = compare_case(binary, d, chain=False)
            for f in feats:
                per_feature.setdefault(f, [0, 0])[0] += 1
                per_feature[f][1] += bool(diffs)
            if diffs:
                cls = sorted({classify(x) for x in diffs})
                for c in cls:
                    classes[c] = classes.get(c, 0) + 1
                failed.append((name, sorted(feats), cls, diffs))
                dst = os.path.join(keep, name)
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(d, dst)
                with open(os.path.join(dst, 'DIFFS.txt'), 'w') as fh:
                    fh.write('features: %s\n' % ' '.join(sorted(feats)) + '\n'.join(diffs) + '\n')
            print('%s %s [%s]' % (name, 'DIFFERS' if diffs else 'same', ' '.join(sorted(feats))), flush=True)
            shutil.rmtree(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('\n%d cases (seed %d), %d differ' % (ran, a.seed, len(failed)))
    if classes:
        print('difference classes (cases): ' + ', '.join('%s %d' % kv for kv in sorted(classes.items())))
    print('features (cases with it / of those differing):')
    for f, (n, bad) in sorted(per_feature.items(), key=lambda kv: (-kv[1][1] / kv[1][0], kv[0])):
        print('  %-22s %3d / %3d%s' % (f, n, bad, '   <- always differs' if bad == n else ''))
    for name, feats, cls, diffs in failed:
        print('\n== %s [%s]: %s' % (name, ' '.join(feats), ', '.join(cls)))
        for x in diffs[:8]:
            print('  ' + x)
    if failed:
        print('\nfailing cases kept in %s' % keep)
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump({'seed': a.seed, 'cases': ran, 'failed': [f[0] for f in failed], 'classes': classes,
                       'features': per_feature}, fh, indent=1, ensure_ascii=False)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
