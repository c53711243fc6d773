#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Typed, diffable cell dump of spreadsheet outputs (`*.cells.csv`), with
time and duration tokens (see [ext] below).

    python dump_cells.py FILE_OR_DIR... [--outdir DIR]

For every .xlsx (or .csv) given, writes NAME.cells.csv (beside it, or in
--outdir): one CSV line per sheet row, the header row first; the data rows of
all sheets are concatenated in sheet order (a later sheet's header row must
equal the first one and is not repeated).  Every cell is a typed token:

    (empty)          empty cell / missing value (NaN, None, NaT, '')
    s:TEXT           text; backslash, CR, LF, TAB and other control
                     characters are escaped as \\\\ \\r \\n \\t \\xHH
    n:NUMBER         number: an integral value as an integer ('n:12'), else
                     Python repr of the float ('n:1.5', 'n:1e-05')
    b:TRUE / b:FALSE boolean
    d:ISO            date-time, rounded to the millisecond
                     ('d:2023-05-01T09:30:00', 'd:2023-05-01T09:30:00.250')
    e:#REF!          error cell (only when reading an xlsx)
    f:=FORMULA       formula cell without a cached value (only xlsx)
    t:HH:MM:SS       time of day (datetime.time): Python str() of the value
                     ('t:09:30:00', 't:12:30:00.500000')          [ext]
    D:STR            duration (datetime.timedelta, pandas.Timedelta,
                     numpy.timedelta64): Python str() of the value as a
                     datetime.timedelta ('D:1 day, 2:00:00',
                     'D:-1 day, 23:59:59', 'D:0:00:01.500000')   [ext]

[ext] This is tests/oracle/dump_cells_ext.py, a copy of the reference's
dump_cells.py that adds the t: and D: tokens (the reference dumps a time as
d:1899-12-31T... and a duration as s:STR, which hides both types).  Every
other value dumps exactly as dump_cells.py dumps it; make_cases.py checks
that on a sample of values before it writes any case.

xlsx files are read by a small ECMA-376 reader in this file (not openpyxl):
shared and inline strings with _xHHHH_ escapes decoded, rich-text runs
joined, phonetic runs ignored, number formats used to recognise dates.  The
reference workflow's own xlsx are written by openpyxl, which renders a few
values lossily (see workflow.py D6), so `workflow.py extract --dump-cells`
dumps the DataFrame it writes instead; that dump is the authoritative one.
"""
import argparse
import csv
import datetime as _dt
import math
import os
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'
RNS = '{http://schemas.openxmlformats.org/officeDocument/2006/relationships}'
PKG_RNS = '{http://schemas.openxmlformats.org/package/2006/relationships}'

_ESC_RE = re.compile(r'_x([0-9A-Fa-f]{4})_')


def escape_text(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif o < 0x20 or o == 0x7f:
            out.append('\\x%02x' % o)
        else:
            out.append(ch)
    return ''.join(out)


def fmt_number(x):
    f = float(x)
    if math.isnan(f):
        return ''
    if f.is_integer() and abs(f) < 2 ** 63:
        return 'n:%d' % int(f)
    return 'n:' + repr(f)


def fmt_datetime(d):
    # round to the millisecond
    if isinstance(d, _dt.time):
        d = _dt.datetime.combine(_dt.date(1899, 12, 31), d)
    us = d.microsecond
    ms = int(round(us / 1000.0))
    base = d.replace(microsecond=0)
    if ms == 1000:
        base = base + _dt.timedelta(seconds=1)
        ms = 0
    s = base.strftime('%Y-%m-%dT%H:%M:%S')
    if ms:
        s += '.%03d' % ms
    return 'd:' + s


def token(v):
    """Typed token of one Python / pandas value."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if v is None:
        return ''
    try:
        import pandas as pd
        if v is pd.NaT or v is pd.NA:
            return ''
        if isinstance(v, pd.Timestamp):
            return fmt_datetime(v.to_pydatetime())
    except ImportError:  # pragma: no cover
        pass
    # [ext] durations and times of day get their own tokens (checked
    # before the date-time branches below, which would swallow a time).
    if np is not None and isinstance(v, np.timedelta64):
        import pandas as pd
        v = pd.Timedelta(v)
        if v is pd.NaT:
            return ''
    if isinstance(v, _dt.timedelta):
        # pandas.Timedelta is a subclass whose str() is '1 days 02:00:00';
        # the token holds the plain datetime.timedelta form.
        if hasattr(v, 'to_pytimedelta'):
            v = v.to_pytimedelta()
        return 'D:' + str(v)
    if isinstance(v, _dt.time):
        return 't:' + str(v)
    if isinstance(v, str):
        return 's:' + escape_text(v) if v != '' else ''
    if isinstance(v, bool) or (np is not None and isinstance(v, np.bool_)):
        return 'b:TRUE' if v else 'b:FALSE'
    if isinstance(v, int) or (np is not None and isinstance(v, np.integer)):
        return fmt_number(int(v))
    if isinstance(v, float) or (np is not None and isinstance(v, np.floating)):
        return fmt_number(v)
    if np is not None and isinstance(v, np.datetime64):
        import pandas as pd
        t = pd.Timestamp(v)
        return '' if t is pd.NaT else fmt_datetime(t.to_pydatetime())
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
            v = _dt.datetime(v.year, v.month, v.day)
        return fmt_datetime(v)
    return 's:' + escape_text(str(v))


def dataframe_rows(df):
    """Header + data rows of a DataFrame as tokens (what to_excel writes)."""
    rows = [[token(c) for c in df.columns]]
    for rec in df.itertuples(index=False, name=None):
        rows.append([token(v) for v in rec])
    return rows


# ------------------------------------------------------------ xlsx reader

_BUILTIN_DATE_FMTS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))


def _is_date_code(code):
    code = re.sub(r'"[^"]*"', '', code)
    code = re.sub(r'\[[^\]]*\]', '', code)
    code = re.sub(r'\\.', '', code)
    code = code.split(';')[0]
    return bool(re.search(r'[ymdhsYMDHS]', code))


def _text_of(el):
    """Text of an <si> or <is>: <t> children and <r><t> runs, no <rPh>."""
    parts = []
    for child in el:
        if child.tag == NS + 't':
            parts.append(child.text or '')
        elif child.tag == NS + 'r':
            for t in child.iter(NS + 't'):
                parts.append(t.text or '')
    return _ESC_RE.sub(lambda m: chr(int(m.group(1), 16)), ''.join(parts))


def _col_index(ref):
    n = 0
    for ch in ref:
        if ch.isalpha():
            n = n * 26 + (ord(ch.upper()) - 64)
        else:
            break
    return n - 1


def _serial_to_datetime(x, date1904):
    base = _dt.datetime(1904, 1, 1) if date1904 else _dt.datetime(1899, 12, 30)
    if not date1904 and x < 60:
        x += 1  # Excel's 1900 leap-year bug
    return base + _dt.timedelta(days=x)


def read_xlsx(path):
    """[(sheet_name, [[token,...], ...])] for every sheet of an xlsx."""
    z = zipfile.ZipFile(path)
    names = set(z.namelist())
    wb = ET.fromstring(z.read('xl/workbook.xml'))
    date1904 = False
    pr = wb.find(NS + 'workbookPr')
    if pr is not None and pr.get('date1904') in ('1', 'true'):
        date1904 = True
    rels = ET.fromstring(z.read('xl/_rels/workbook.xml.rels'))
    targets = {r.get('Id'): r.get('Target') for r in rels.iter(PKG_RNS + 'Relationship')}
    shared = []
    if 'xl/sharedStrings.xml' in names:
        sst = ET.fromstring(z.read('xl/sharedStrings.xml'))
        shared = [_text_of(si) for si in sst.iter(NS + 'si')]
    xf_date = []
    if 'xl/styles.xml' in names:
        st = ET.fromstring(z.read('xl/styles.xml'))
        custom = {}
        nf = st.find(NS + 'numFmts')
        if nf is not None:
            for f in nf.iter(NS + 'numFmt'):
                custom[int(f.get('numFmtId'))] = f.get('formatCode') or ''
        cx = st.find(NS + 'cellXfs')
        if cx is not None:
            for xf in cx.iter(NS + 'xf'):
                fid = int(xf.get('numFmtId') or 0)
                xf_date.append(_is_date_code(custom[fid]) if fid in custom else fid in _BUILTIN_DATE_FMTS)
    out = []
    for sh in wb.iter(NS + 'sheet'):
        target = targets[sh.get(RNS + 'id')]
        target = target.lstrip('/') if target.startswith('/') else 'xl/' + target
        root = ET.fromstring(z.read(target))
        grid = {}
        max_r = max_c = -1
        auto_r = -1
        for row in root.iter(NS + 'row'):
            auto_r = int(row.get('r')) - 1 if row.get('r') else auto_r + 1
            auto_c = -1
            for c in row.iter(NS + 'c'):
                ref = c.get('r')
                ci = _col_index(ref) if ref else auto_c + 1
                auto_c = ci
                t = c.get('t', 'n')
                v = c.find(NS + 'v')
                f = c.find(NS + 'f')
                vt = v.text if v is not None else None
                tok = ''
                if t == 'inlineStr':
                    is_ = c.find(NS + 'is')
                    tok = token(_text_of(is_)) if is_ is not None else ''
                elif t == 's':
                    tok = token(shared[int(vt)]) if vt is not None else ''
                elif t == 'str':
                    tok = token(_ESC_RE.sub(lambda m: chr(int(m.group(1), 16)), vt)) if vt else ''
                elif t == 'b':
                    tok = ('b:TRUE' if vt.strip() in ('1', 'true') else 'b:FALSE') if vt is not None else ''
                elif t == 'e':
                    tok = 'e:' + vt if vt else ''
                elif t == 'd':
                    tok = fmt_datetime(_dt.datetime.fromisoformat(vt)) if vt else ''
                else:  # number
                    if vt is not None and vt.strip() != '':
                        x = float(vt)
                        s = int(c.get('s') or 0)
                        if s < len(xf_date) and xf_date[s]:
                            tok = fmt_datetime(_serial_to_datetime(x, date1904))
                        else:
                            tok = fmt_number(x)
                if tok == '' and f is not None and (f.text or '') != '':
                    tok = 'f:=' + f.text
                if tok != '':
                    grid[(auto_r, ci)] = tok
                    max_r = max(max_r, auto_r)
                    max_c = max(max_c, ci)
        rows = [[grid.get((r, ci), '') for ci in range(max_c + 1)] for r in range(max_r + 1)]
        out.append((sh.get('name'), rows))
    return out


def read_csv_rows(path):
    import pandas as pd
    df = pd.read_csv(path, encoding='utf-8-sig')
    return [('csv', dataframe_rows(df))]


def merge_sheets(sheets):
    """Concatenate the sheets' rows: header of the first, then data rows."""
    merged = None
    problems = []
    for name, rows in sheets:
        if not rows:
            continue
        if merged is None:
            merged = [rows[0]] + rows[1:]
            continue
        if rows[0] != merged[0]:
            problems.append('sheet %s has header %r, first sheet has %r' % (name, rows[0], merged[0]))
        merged.extend(rows[1:])
    if merged is None:
        merged = []
    width = max((len(r) for r in merged), default=0)
    merged = [r + [''] * (width - len(r)) for r in merged]
    return merged, problems


def write_rows(rows, path):
    with open(path, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        for r in rows:
            w.writerow(r)


def read_rows(path):
    with open(path, encoding='utf-8', newline='') as f:
        return [r for r in csv.reader(f)]


def rows_of_file(path):
    """(rows, problems) of an .xlsx / .csv / .cells.csv file."""
    if path.endswith('.cells.csv'):
        return read_rows(path), []
    if path.lower().endswith('.csv'):
        return merge_sheets(read_csv_rows(path))
    return merge_sheets(read_xlsx(path))


def main(argv=None):
    ap = argparse.ArgumentParser(description='typed cell dump of xlsx/csv outputs')
    ap.add_argument('paths', nargs='+')
    ap.add_argument('--outdir', default=None)
    a = ap.parse_args(argv)
    files = []
    for p in a.paths:
        if os.path.isdir(p):
            files += [os.path.join(p, n) for n in sorted(os.listdir(p))
                      if (n.endswith('.xlsx') or n.endswith('.csv')) and not n.endswith('.cells.csv')]
        else:
            files.append(p)
    for p in files:
        rows, problems = rows_of_file(p)
        for pr in problems:
            sys.stderr.write('warning: %s: %s\n' % (p, pr))
        d = a.outdir or os.path.dirname(p)
        os.makedirs(d or '.', exist_ok=True)
        write_rows(rows, os.path.join(d, os.path.basename(p) + '.cells.csv'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
