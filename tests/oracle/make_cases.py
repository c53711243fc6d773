#!/usr/bin/env python3
"""Regenerate the oracle-made test data under tests/ (run from the repo root).

    python3 -m venv .venv && .venv/bin/pip install -r ../shared/reference/requirements.txt
    .venv/bin/python tests/oracle/make_cases.py ../shared/reference

    .venv/bin/python tests/oracle/make_cases.py ../shared/reference --only times,ids64

Writes, with the reference environment (pandas, openpyxl, numpy, emoji,
and the optional readers xlrd, odfpy):
  tests/cases/<case>/input/...            inputs (built with openpyxl, odfpy,
                                          xlwt, or byte for byte for CSV)
  tests/cases/<case>/expected_*/...        outputs of ../shared/reference/workflow.py
  tests/cases/<case>/ARGS                  the dialogues arguments used
  tests/cases/<case>/EXIT                  the reference's exit code, when not 0
  tests/data/emoji_cases.tsv               input <TAB> emoji.replace_emoji(input, '')
  tests/data/permutations.txt              numpy RandomState(seed).permutation(n) samples
Everything is deterministic (fixed seeds), so a rerun reproduces the files.

The fidelity cases (tests/cases/README.md) dump the extract with
tests/oracle/dump_cells_ext.py (t: and D: tokens for times and durations)
through tests/oracle/refrun.py.  Their .xls inputs are written by xlwt,
which is not in the reference's requirements: make_cases.py runs
tests/oracle/make_xls.py with $XLWT_PYTHON, or makes a throwaway venv with
xlwt==1.3.0 for it (skipped, keeping the committed .xls, when that fails).
"""
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys

import emoji
import numpy as np
import openpyxl

REF = os.path.abspath('../shared/reference')  # main() takes another from the command line
WORKFLOW = os.path.join(REF, 'workflow.py')
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..'))
CASES = os.path.join(ROOT, 'cases')
DATA = os.path.join(ROOT, 'data')
HEADER = ['坐席id', '客户微信id', '是否客服', '消息内容', '发送时间', '消息id']
PUNCT = string.punctuation + '，。！？；：、“”‘’（）【】《》〈〉「」『』〔〕…—～·'

EMOJI_PIECES = [
    '😀', '👍', '👍🏽', '🏽', '👨\u200d👩\u200d👧\u200d👦', '👩\u200d🦰', '🦰', '😀\u200d😀', '👨\u200d🦰\u200d👍',
    '🇨🇳', '🇺', '🇸', '🇺😀🇸', '1️⃣', '1\u20e3', '#️⃣', '*\u20e3', '🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F',
    '🏴\U000E0067\U000E0062', '🏴', '\ufe0f', '\ufe0e', '\u200d', '☺', '☺️', '©', '©️', '❤', '❤️', '❤\u200d🔥',
    '🧑\u200d🤝\u200d🧑', '🫨', '🪾', '\U0001FAE9', '🏳️\u200d🌈', '🏳\u200d🌈', '👁️\u200d🗨️', '🙇\u200d♀️', '🙇\u200d♀',
]
TEXT_PIECES = ['你好', '在吗', 'ok', '123', '1', '#', '*', ' ', 'a', '好的', '。', '!', '\r', '\n', '𠀀', '〜', '_x000D_']


def rand_mix(rng, n):
    return ''.join(rng.choice(EMOJI_PIECES if rng.random() < 0.5 else TEXT_PIECES) for _ in range(n))


def emoji_table():
    rng = random.Random(20261121)
    cases = list(EMOJI_PIECES) + [p + 'x' for p in EMOJI_PIECES] + ['x' + p for p in EMOJI_PIECES]
    cases += ['你好' + p + '吗' for p in EMOJI_PIECES]
    cases += [a + b for a in EMOJI_PIECES[:12] for b in ['\u200d', '\ufe0f', '🏽', '🇺']]
    cases += [rand_mix(rng, rng.randint(1, 8)) for _ in range(300)]
    seen, rows = set(), []
    for c in cases:
        if c in seen:
            continue
        seen.add(c)
        rows.append((c, emoji.replace_emoji(c, '')))
    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, 'emoji_cases.tsv'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('# input<TAB>expected, JSON-encoded strings; made by tests/oracle/make_cases.py with emoji 2.16.0\n')
        for a, b in rows:
            f.write(json.dumps(a) + '\t' + json.dumps(b) + '\n')
    print('emoji cases:', len(rows))


def permutation_table():
    lines = ['# seed n fnv1a64(permutation as little-endian u32) first-8 last-8; numpy %s' % np.__version__]
    for seed in [0, 1, 2, 7, 42, 2**31, 2**32 - 1]:
        for n in [1, 2, 5, 21, 100, 1000, 4097, 70000]:
            p = np.random.RandomState(seed).permutation(n)
            h = 0xcbf29ce484222325
            for b in p.astype('<u4').tobytes():
                h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
            lines.append('%d %d %016x %s %s' % (seed, n, h, ','.join(map(str, p[:8])), ','.join(map(str, p[-8:]))))
    with open(os.path.join(DATA, 'permutations.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def write_xlsx(path, sheets):
    """sheets: [(name, rows)], rows[0] is the header."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    wb.save(path)


def crashes_reference(text):
    """The reference raises IndexError when only its second cleaning
    empties a message; sheetsift skips such a message (SPEC), so the oracle
    cases avoid them."""
    once = emoji.replace_emoji(text.replace('\n', ''), '')
    return once != '' and emoji.replace_emoji(once, '') == ''


def dialogue_rows(rng, agent, customer, msgs, t0, id0):
    rows = []
    msgs = [(role, text) for role, text in msgs if not crashes_reference(text)]
    for k, (role, text) in enumerate(msgs):
        rows.append([agent, customer, role, text, '2023-05-%02d %02d:%02d:00' % (1 + t0 % 28, k % 24, k % 60), id0 + k])
    return rows


def case_emoji_punct():
    rng = random.Random(1)
    rows = [HEADER]
    n = 0
    for i, p in enumerate(EMOJI_PIECES):
        msgs = [('否', '问题' + p), ('是', p), ('是', '回复' + p + '。'), ('否', p + p)]
        rows += dialogue_rows(rng, 'E%02d' % (i % 5), 'wxid_e%03d' % i, msgs, i, 1000 + 10 * i)
    for i, ch in enumerate(PUNCT):
        msgs = [('否', '结尾' + ch), ('是', '回答' + ch), ('否', ch)]
        rows += dialogue_rows(rng, 'P%02d' % (i % 4), 'wxid_p%03d' % i, msgs, i, 5000 + 10 * i)
    write_xlsx(os.path.join(CASES, 'emoji_punct', 'input', 'messages.xlsx'), [('Sheet1', rows)])
    return 'emoji_punct', ['--val-size', '10']


def case_ids_dups():
    rng = random.Random(2)
    base = [
        [1003, 'wxid_a', '是', '您好', '2023-05-01 10:00:00', 1],
        [1003, 'wxid_a', '否', '在吗', '2023-05-01 10:01:00', 2],
        [1003.0, 'wxid_a', '否', '在吗', '2023-05-01 10:01:00', 2],     # duplicate of the row above (1003 == 1003.0)
        ['1003', 'wxid_a', '否', '文本id', '2023-05-01 10:02:00', 3],   # text '1003' is another key
        [12, 'wxid_b', '否', 'NA', '2023-05-01 10:03:00', 4],            # NA string -> missing -> dropped
        [12, 'wxid_b', '否', 'null', '2023-05-01 10:03:00', 5],
        [12, 'wxid_b', '是', 123, '2023-05-01 10:04:00', 6],              # number content
        [12, 'wxid_b', '是', 1.5, '2023-05-01 10:05:00', 7],
        [12, 'wxid_b', '否', True, '2023-05-01 10:06:00', 8],
        ['A0012', 12345, '否', '客户id是数字', '2023-05-01 10:07:00', 9],
        ['A0012', 12345.0, '是', '同一个客户', '2023-05-01 10:08:00', 10],
        ['B7', 'wxid_c', 'N', '角色N', '2023-05-01 10:09:00', 11],
        ['B7', 'wxid_c', '否', '角色否', '2023-05-01 10:10:00', 12],
        ['B7', 'wxid_c', '否', '', '2023-05-01 10:11:00', 13],            # empty -> dropped
        ['B7', 'wxid_c', '是', '  ', '2023-05-01 10:12:00', 14],          # whitespace stays
        [7, 'wxid_d', '否', '你好\n在吗', None, 15],                       # missing time: dialogues drops it
        [7, 'wxid_d', '否', '换行\r\n后', '2023-05-01 10:13:00', 16],
        [7, 'wxid_d', '是', '好的😀', '2023-05-01 10:14:00', 17],
    ]
    for i in range(20):
        a = rng.choice([1, 2, 3, 'X1', 'X2', 2.5])
        c = rng.choice(['wxid_r1', 'wxid_r2', 77])
        base.append([a, c, rng.choice(['是', '否']), rng.choice(['收到', '好的', '谢谢！', '？', '嗯']), '2023-05-02 09:%02d:00' % i, 100 + i])
    other = [r[:] for r in base[:6]] + [[1003, 'wxid_a', '是', '第二个文件里的同一对', '2023-05-03 10:00:00', 50]]
    with_note = [HEADER + ['备注']] + [r + ['备注%d' % k] for k, r in enumerate(base[6:12])]
    write_xlsx(os.path.join(CASES, 'ids_dups', 'input', 'a_first.xlsx'), [('Sheet1', [HEADER] + base)])
    write_xlsx(os.path.join(CASES, 'ids_dups', 'input', 'b_second.xlsx'),
               [('一月', [HEADER] + other), ('说明', [['说明'], ['这个表没有数据列']]), ('二月', with_note)])
    return 'ids_dups', ['--val-size', '0.3', '--seed', '7']


def case_bets():
    """sheetsift groups a file's rows while reading them, betting that its
    sheets share one header and no column turns numeric; each file here
    either keeps the bet across sheets or breaks it a different way."""
    rng = random.Random(4)
    rows = []
    for i in range(12):
        msgs = [(rng.choice(['是', '否']), rng.choice(['你好', '在吗', '好的', '收到。', '谢谢'])) for _ in range(5)]
        rows += dialogue_rows(rng, 'S%d' % (i % 3), 'wxid_s%02d' % i, msgs, i, 100 * i)
    half = len(rows) // 2
    # Same header on both sheets: one table; duplicates across the sheets.
    write_xlsx(os.path.join(CASES, 'bets', 'input', 'a_same_header.xlsx'),
               [('Sheet1', [HEADER] + rows[:half]), ('Sheet2', [HEADER] + rows[half - 3:])])
    # The same columns in another order on the second sheet.
    order = [1, 0, 2, 3, 5, 4]
    write_xlsx(os.path.join(CASES, 'bets', 'input', 'b_reordered.xlsx'),
               [('Sheet1', [HEADER] + rows[:half]),
                ('Sheet2', [[HEADER[k] for k in order]] + [[r[k] for k in order] for r in rows[half:]])])
    # Every content is numeric text: pandas turns the column numeric.
    numeric = [r[:3] + [rng.choice(['1', '2.5', '003', '1e3', '-7'])] + r[4:] for r in rows[:20]]
    write_xlsx(os.path.join(CASES, 'bets', 'input', 'c_numeric_text.xlsx'), [('Sheet1', [HEADER] + numeric)])
    return 'bets', ['--val-size', '0.2', '--seed', '3']


def case_chain():
    """run == extract then dialogues on its outputs: a column that is text in
    its own file ('0012' next to 'A1') but all numeric in the chunk output
    (the 'A1' row is dropped by extract) turns numeric when stage 2 re-reads
    the chunk."""
    d = os.path.join(CASES, 'chain', 'input')
    f1 = [HEADER,
          ['0012', 'wxid_x', '否', '你好', '2023-05-01 10:00:00', 1],
          ['0012', 'wxid_x', '是', '您好！', '2023-05-01 10:01:00', 2],
          ['A1', 'wxid_x', '否', 'NA', '2023-05-01 10:02:00', 3],
          ['0012', 'wxid_y', '否', '[微信红包]', '2023-05-01 10:03:00', 4],
          ['0012', 'wxid_y', '否', '在吗', '2023-05-01 10:04:00', 5]]
    f2 = [HEADER,
          [12, 'wxid_x', '否', '第二个文件', '2023-05-01 11:00:00', 6],
          [7, 'wxid_z', '是', '好的', '2023-05-01 11:01:00', 7],
          [7, 'wxid_z', '否', '谢谢', '2023-05-01 11:02:00', 8]]
    f3 = [HEADER] + [['C%d' % (i % 3), 'wxid_w%d' % (i % 4), '是' if i % 3 else '否', '消息%d' % i,
                      '2023-05-02 09:%02d:00' % i, 100 + i] for i in range(30)]
    write_xlsx(os.path.join(d, 'f1.xlsx'), [('Sheet1', f1)])
    write_xlsx(os.path.join(d, 'f2.xlsx'), [('Sheet1', f2)])
    write_xlsx(os.path.join(d, 'f3.xlsx'), [('Sheet1', f3)])
    return 'chain', ['--val-size', '3']


def run_chain(case, dargs):
    """The documented two-step workflow on its own intermediate files."""
    d = os.path.join(CASES, case)
    tmp = os.path.join(d, 'tmp_extract')
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(os.path.join(d, 'expected_chain'), ignore_errors=True)
    # The chunk files hold every number at full precision (refrun.py's
    # REFRUN_FULL_PRECISION), as sheetsift's do: the reference's own
    # '%.16g' write is a deliberate difference (README, tests/cases/README.md).
    env = dict(os.environ, REFRUN_FULL_PRECISION='1')
    subprocess.run([sys.executable, os.path.join(HERE, 'refrun.py'), WORKFLOW, 'extract', '--out', tmp,
                    '--chunk-size', '2', '--jobs', '2', 'input'],
                   cwd=d, env=env, check=False)
    r = subprocess.run([sys.executable, WORKFLOW, 'dialogues', '--out', 'expected_chain'] + dargs + [tmp],
                       cwd=d, check=False)
    shutil.rmtree(tmp)
    print(case, 'chain dialogues exit', r.returncode)


def run_reference(case, dargs):
    d = os.path.join(CASES, case)
    for sub in ('expected_extract', 'expected_dialogues'):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    env = dict(os.environ)
    subprocess.run([sys.executable, WORKFLOW, 'extract', '--out', 'expected_extract', '--dump-cells', '--jobs', '2', 'input'],
                   cwd=d, env=env, check=False)
    for f in os.listdir(os.path.join(d, 'expected_extract')):
        if f.endswith('.xlsx'):
            os.remove(os.path.join(d, 'expected_extract', f))  # the .cells.csv dump is the authority
    r = subprocess.run([sys.executable, WORKFLOW, 'dialogues', '--out', 'expected_dialogues'] + dargs + ['input'],
                       cwd=d, env=env, check=False)
    with open(os.path.join(d, 'ARGS'), 'w') as f:
        f.write(' '.join(dargs) + '\n')
    print(case, 'dialogues exit', r.returncode)


# ---------------------------------------------------------------- fidelity cases
# Issue "Fidelity on what real exports contain": one case per class of value
# that real exports hold.  Layout: input/, expected_extract/*.cells.csv
# (dump_cells_ext tokens), expected_dialogues/, ARGS, EXIT when not 0,
# expected_chain/ for cases where stage 2 on the reference's own chunk files
# reads a value back as another type.

FIXED_TIME = (2023, 1, 1, 0, 0, 0)


RAW_V = re.compile(rb'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t>RAWV:([^<]*)</t></is></c>')


def normalize_zip(path):
    """Rewrite a zip container with fixed member times and a fixed modified
    date (openpyxl and odfpy stamp the current time), so a rerun reproduces
    the same bytes; in
    worksheets, turn the placeholder text cells of V() into numeric cells
    with that exact <v> text."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, 'w') as z:
        for info, data in members:
            if info.filename == 'docProps/core.xml':  # openpyxl stamps 'modified' at save
                data = re.sub(rb'(<dcterms:modified[^>]*>)[^<]*', rb'\g<1>2023-01-01T00:00:00Z', data)
            if info.filename.startswith('xl/worksheets/'):
                data = RAW_V.sub(lambda m: b'<c r="' + m.group(1) + b'"' + (m.group(2) or b'') + b' t="n"><v>'
                                 + m.group(3) + b'</v></c>', data)
            ni = zipfile.ZipInfo(info.filename, FIXED_TIME)
            ni.compress_type = info.compress_type
            ni.external_attr = info.external_attr
            z.writestr(ni, data)


class F:
    """A cell value with an Excel number format."""

    def __init__(self, value, fmt):
        self.value, self.fmt = value, fmt


def V(text):
    """A numeric cell whose <v> is exactly `text` (openpyxl writes every
    number as '%.16g', so 1234567890123456789 would lose its last digits)."""
    return 'RAWV:' + text


def write_xlsx_cells(path, sheets, date1904=False):
    """Like write_xlsx, but a row may hold F(value, number_format) cells,
    None for an empty cell, and a row of [] is a row with no cells."""
    import datetime as dt
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    wb.properties.created = wb.properties.modified = dt.datetime(2023, 1, 1)
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                if isinstance(v, F):
                    cell = ws.cell(r, c, v.value)
                    cell.number_format = v.fmt
                else:
                    ws.cell(r, c, v)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    wb.save(path)
    normalize_zip(path)


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def fresh_input(case):
    d = os.path.join(CASES, case, 'input')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def keyed(rows_per_key, agent_fmt, cust_fmt, contents, times=None, role_cycle=('否', '是')):
    """Data rows: `contents` cut into dialogues of rows_per_key messages,
    roles alternating, message ids counting up."""
    rows = []
    for k, content in enumerate(contents):
        g = k // rows_per_key
        t = times[k] if times is not None else '2023-05-01 10:%02d:00' % (k % 60)
        rows.append([agent_fmt % g, cust_fmt % g, role_cycle[k % len(role_cycle)], content, t, 100 + k])
    return rows


def case_times():
    """Time-of-day and elapsed-time cells (openpyxl: datetime.time and
    datetime.timedelta), in the content column (they reach the corpus via
    str()) and in other columns (stage-1 values)."""
    import datetime as dt
    d = fresh_input('times')
    content = [
        F(0.395833333333333, 'h:mm'),          # 09:30:00
        F(0.0, 'h:mm'),                         # midnight: time(0, 0)
        F(0.5, 'hh:mm:ss'),
        F(0.75, 'h:mm AM/PM'),
        F(0.5208391203703704, 'hh:mm:ss.000'),  # 12:30:00.500000
        F(1.5, 'h:mm'),                         # a time format past one day: datetime 1900-01-01 12:00
        F(45046.395833333336, 'h:mm'),          # datetime 2023-04-30 09:30
        F(0.25, 'yyyy-mm-dd'),                  # a date format below 1: time(6, 0)
        F(1.0833333333333333, '[h]:mm:ss'),     # timedelta 1 day, 2:00:00
        F(0.75, '[hh]:mm'),                     # 18:00:00
        F(0.01, '[mm]:ss'),                     # 0:14:24
        F(0.000011574074074074073, '[ss]'),     # 0:00:01
        F(-0.5, '[h]:mm:ss'),                   # -1 day, 12:00:00
        F(30.25, '[h]:mm'),                     # 30 days, 6:00:00
        F(0.000005787037037037037, '[mm]:ss.000'),  # 0:00:00.500000
        dt.time(9, 30),                         # openpyxl writes h:mm:ss
        dt.timedelta(hours=2, minutes=5),       # openpyxl writes [hh]:mm:ss
        '09:30',                                # text stays text
        F(0.5, '"at "h:mm'),                    # literal text in the format
        F(0.5, 'mm:ss'),                        # minutes:seconds, still a time
        '好的',
    ]
    sent = [F(0.375 + k / 1440, 'h:mm') for k in range(len(content))]
    rows = keyed(3, 'T%d', 'wxid_t%02d', content, sent)
    for k, r in enumerate(rows):
        r.append(F(k / 24 + 1 / 86400, '[h]:mm:ss'))
        r.append(F(0.5 + k / 1440, 'hh:mm'))
    rows.append(list(rows[-1]))  # an exact duplicate, time values included
    header = HEADER + ['通话时长', '开始时间']
    write_xlsx_cells(os.path.join(d, 'a_mixed.xlsx'), [('Sheet1', [header] + rows)])
    # Whole columns of durations / times: pandas makes the duration column
    # timedelta64 (its str() differs from datetime.timedelta's).
    durs = [F(x, '[h]:mm:ss') for x in (1.0833333333333333, 0.75, 0.01, 2.5, 0.041666666666666664, 0.5)]
    rows = keyed(2, 'U%d', 'wxid_u%02d', durs, [F(0.25 + k / 24, 'h:mm') for k in range(len(durs))])
    write_xlsx_cells(os.path.join(d, 'b_all_durations.xlsx'), [('Sheet1', [HEADER] + rows)])
    times = [F(x, 'h:mm:ss') for x in (0.0, 0.25, 0.5, 0.75, 0.999988425925926, 0.5)]
    rows = keyed(2, 'V%d', 'wxid_v%02d', times)
    write_xlsx_cells(os.path.join(d, 'c_all_times.xlsx'), [('Sheet1', [HEADER] + rows)])
    return 'times', ['--val-size', '0.3', '--seed', '5']


def case_date1904():
    """A workbook in the 1904 date system (workbookPr date1904) beside one
    in the 1900 system with serials below 61 (Excel's 1900 leap-year bug)."""
    d = fresh_input('date1904')
    serials = [F(0.5, 'h:mm'), F(0, 'yyyy-mm-dd'), F(1, 'yyyy-mm-dd'), F(59, 'yyyy-mm-dd'),
               F(60, 'yyyy-mm-dd'), F(61, 'yyyy-mm-dd'), F(43584.5, 'yyyy-mm-dd hh:mm'),
               F(1.0833333333333333, '[h]:mm:ss'), F(1.5, 'h:mm'), F(0.999, 'yyyy-mm-dd hh:mm:ss'),
               '文本']
    for name, system in (('a_1900.xlsx', False), ('b_1904.xlsx', True)):
        rows = keyed(2, 'D%d', 'wxid_d%02d', serials,
                     [F(43585 + k / 24, 'yyyy-mm-dd hh:mm:ss') for k in range(len(serials))])
        for k, r in enumerate(rows):
            r.append(serials[(k + 3) % len(serials)])
        write_xlsx_cells(os.path.join(d, name), [('Sheet1', [HEADER + ['日期']] + rows)], date1904=system)
    return 'date1904', ['--val-size', '0.3', '--seed', '2']


def case_header_blank():
    """pandas takes row 1 as the header even when it is blank (then the
    required columns are missing: a file error); a CSV's blank first lines
    are skipped (skip_blank_lines), so its header is the first non-blank
    line."""
    d = fresh_input('header_blank')
    body = keyed(2, 'H%d', 'wxid_h%02d', ['你好', '您好', '在吗', '在的'])
    write_xlsx_cells(os.path.join(d, 'a_blank_row1.xlsx'), [('Sheet1', [[]] + [HEADER] + body)])
    write_xlsx_cells(os.path.join(d, 'b_empty_string_row1.xlsx'),
                     [('Sheet1', [[None, None, ' ']] + [HEADER] + body)])
    write_xlsx_cells(os.path.join(d, 'c_ok.xlsx'), [('Sheet1', [HEADER] + body)])
    csv_rows = [','.join(map(str, r)) for r in [HEADER] + keyed(2, 'C%d', 'wxid_c%02d', ['好', '嗯', '行', '收到'])]
    write_bytes(os.path.join(d, 'd_blank_lines_first.csv'), ('\n\n' + '\n'.join(csv_rows) + '\n').encode())
    write_bytes(os.path.join(d, 'e_space_line_first.csv'), (' \t\n' + '\n'.join(csv_rows) + '\n').encode())
    return 'header_blank', ['--val-size', '0.3', '--seed', '1']


def case_header_types():
    """Header cells keep their type as pandas' column names (2023 and '2023'
    are two columns), 'NA' stays a name, duplicate names are mangled
    (x, x.1, ... skipping names that exist), empty cells are 'Unnamed: N'
    (N the 0-based position; mangled after the named columns, so the
    literal name 'Unnamed: 14' keeps it and the empty cell at 14 becomes
    'Unnamed: 14.1')."""
    import datetime as dt
    d = fresh_input('header_types')
    extra = [2023, '2023', True, dt.datetime(2023, 5, 1), 'NA', 'x', 'x', 'x.1', None, 1.5,
             dt.time(9, 30), 'Unnamed: 14', None, 2023, '消息内容', '']
    header = HEADER + extra
    contents = ['你好', '在吗', '好的。', '谢谢', '再见', '嗯嗯']
    rows = keyed(2, 'K%d', 'wxid_k%02d', contents)
    for k, r in enumerate(rows):
        r.extend(['v%d_%d' % (k, j) for j in range(len(extra))])
    # The second sheet has the same header: sheets align by the typed names.
    write_xlsx_cells(os.path.join(d, 'a_typed.xlsx'),
                     [('Sheet1', [header] + rows[:3]), ('Sheet2', [header] + rows[3:])])
    # Names in another file: the text '2023' only, and its own duplicates.
    header2 = HEADER + ['2023', 'y', 'y', 'Unnamed: 7', None]
    rows2 = keyed(2, 'L%d', 'wxid_l%02d', contents[:4])
    for k, r in enumerate(rows2):
        r.extend(['w%d' % k, 1, 2, 3, 4])
    write_xlsx_cells(os.path.join(d, 'b_text_names.xlsx'), [('Sheet1', [header2] + rows2)])
    csv = [','.join(HEADER + ['a', 'a', 'a.1', '', 'NA', '2023', 'True', '']),
           ] + [','.join(map(str, r + ['p', 'q', 'r', 's', 't', 'u', 'v', 'w']))
                for r in keyed(2, 'M%d', 'wxid_m%02d', contents[:4])]
    write_bytes(os.path.join(d, 'c_names.csv'), ('\n'.join(csv) + '\n').encode())
    return 'header_types', ['--val-size', '0.3', '--seed', '3']


def csv_bytes(rows, sep='\n'):
    return (sep.join(','.join(map(str, r)) for r in rows) + sep).encode()


def case_csv_blank_lines():
    """Lines holding only spaces or tabs are blank lines to pandas (skipped);
    the id column stays numeric."""
    d = fresh_input('csv_blank_lines')
    # Numeric agent ids whose numeric order is not their text order (9 <
    # 10 < 100 but '10' < '100' < '9'): a whitespace line read as a row
    # would make the column text and reorder the dialogues.
    rows = keyed(2, '%d', '%d', ['你好', '在吗', '好的', '谢谢', '再见', '收到'])
    for r in rows:
        r[0] = [100, 9, 10][int(r[0])]
    lines = [','.join(HEADER)]
    for k, r in enumerate(rows):
        lines.append(','.join(map(str, r)))
        lines.append(['', ' ', '\t', '  \t ', ' ', ''][k])
    write_bytes(os.path.join(d, 'blank.csv'), ('\n'.join(lines) + '\n').encode())
    write_bytes(os.path.join(d, 'blank_crlf.csv'), ('\r\n'.join(lines) + '\r\n').encode())
    return 'csv_blank_lines', ['--val-size', '0.3', '--seed', '1']


def case_csv_forms():
    """What pandas' CSV parser makes of quoted newlines, a BOM, booleans,
    thousands separators, scientific notation, negative zero, huge and tiny
    floats, long mantissas, percentages, spaces around numbers."""
    d = fresh_input('csv_forms')
    q = lambda s: '"' + s.replace('"', '""') + '"'
    rows = [HEADER + ['备注']]
    for k, c in enumerate(['第一行\n第二行', '回车\r\n换行', '引号""里', '逗号,在里', '  前后空格  ', '\ufeff中间BOM']):
        rows.append(['Q%d' % (k // 2), 'wxid_q%d' % (k // 2), '是' if k % 2 else '否', q(c), '2023-05-01 10:00:00', k, q('a\nb')])
    write_bytes(os.path.join(d, 'a_quoted.csv'), csv_bytes(rows))
    write_bytes(os.path.join(d, 'b_bom.csv'), b'\xef\xbb\xbf' + csv_bytes(rows[:1] + [[c.replace('\n', ' ') if isinstance(c, str) else c for c in r] for r in rows[1:]]))
    # Content columns that pandas types as a whole: the corpus text is
    # to_text() of the typed value.
    typed = {
        'c_bool.csv': ['True', 'False', 'TRUE', 'true', 'FALSE', 'false'],
        'd_sci.csv': ['1e3', '1E-5', '-2.5e+2', '6.02e23', '1e16', '1.5E300'],
        'e_negzero.csv': ['-0.0', '0.0', '-0', '1.5', '-0.000', '2'],
        'f_huge_tiny.csv': ['1e308', '1e309', '4.9e-324', '1e-400', '-1e309', '2.2250738585072014e-308'],
        'g_mantissa.csv': ['0.1000000000000000055511151231257827', '9007199254740993', '123456789012345678901234567890.5',
                           '0.30000000000000004', '2.4703282292062328e-324', '1.7976931348623158e308'],
        'h_ints_spaces.csv': [' 12', '13 ', '+5', '007', '-3', ' 8 '],
        'i_floats_forms.csv': ['.5', '5.', '+1.25', '1.', '-.75', '3.0'],
        'j_text_numbers.csv': [q('1,234'), '50%', '1_000', '0x1A', 'Infinity', '1 234'],
        'k_inf_nan.csv': ['inf', '-inf', 'Infinity', '-Infinity', '1.5', 'INF'],
    }
    for name, values in typed.items():
        rows = [HEADER]
        for k, v in enumerate(values):
            rows.append(['N%d' % (k // 2), 'wxid_n%d' % (k // 2), '是' if k % 2 else '否', v, '2023-05-01 10:0%d:00' % k, k])
        write_bytes(os.path.join(d, name), csv_bytes(rows))
    # Other columns typed by the same rules (stage-1 values).
    rows = [HEADER + ['flag', 'sci', 'negzero', 'pct', 'big']]
    for k in range(4):
        rows.append(['O0', 'wxid_o%d' % (k // 2), '是' if k % 2 else '否', '消息%d' % k, '2023-05-01 11:0%d:00' % k, k,
                     ['True', 'false', 'TRUE', 'False'][k], ['1e3', '2E-3', '-1e-7', '5e0'][k],
                     ['-0.0', '-0', '0', '-0.0'][k], ['50%', '12.5%', '100%', '0%'][k],
                     ['1e309', '1.5', '-1e309', '2'][k]])
    write_bytes(os.path.join(d, 'l_columns.csv'), csv_bytes(rows))
    return 'csv_forms', ['--val-size', '0.2', '--seed', '4']


def case_csv_trailing_comma():
    """Rows with one field more than the header (a trailing comma): pandas
    takes the first column as the index and shifts the names one column to
    the right (plain pandas behaviour that corrupts data; see
    tests/cases/README.md).  A header with the trailing comma too gives an
    empty last column 'Unnamed: 6', which dropna() empties in stage 2."""
    d = fresh_input('csv_trailing_comma')
    rows = keyed(2, 'R%d', 'wxid_r%d', ['你好', '在吗', '好的', '谢谢'])
    write_bytes(os.path.join(d, 'a_rows_only.csv'),
                (','.join(HEADER) + '\n' + ''.join(','.join(map(str, r)) + ',\n' for r in rows)).encode())
    write_bytes(os.path.join(d, 'b_header_too.csv'),
                (','.join(HEADER) + ',\n' + ''.join(','.join(map(str, r)) + ',\n' for r in rows)).encode())
    write_bytes(os.path.join(d, 'c_ok.csv'), csv_bytes([HEADER] + keyed(2, 'S%d', 'wxid_s%d', ['嗯', '哦', '行'])))
    return 'csv_trailing_comma', ['--val-size', '0.3', '--seed', '1']


# Two-byte GB18030 codes that Python's codec maps differently from the
# WHATWG index (encoding_rs); found by decoding every 1-, 2- and 4-byte code
# with both (Python 3.11 gb18030 vs encoding_rs 0.8): Python's mapping first.
GB18030_DIFFS = [
    ('A3A0', '\ue5e5', '\u3000'),
    ('A6D9', '\ue78d', '\ufe10'), ('A6DA', '\ue78e', '\ufe12'), ('A6DB', '\ue78f', '\ufe11'),
    ('A6DC', '\ue790', '\ufe13'), ('A6DD', '\ue791', '\ufe14'), ('A6DE', '\ue792', '\ufe15'),
    ('A6DF', '\ue793', '\ufe16'), ('A6EC', '\ue794', '\ufe17'), ('A6ED', '\ue795', '\ufe18'),
    ('A6F3', '\ue796', '\ufe19'), ('A8BC', '\ue7c7', '\u1e3f'),
    ('FE59', '\ue81e', '\u9fb4'), ('FE61', '\ue826', '\u9fb5'), ('FE66', '\ue82b', '\u9fb6'),
    ('FE67', '\ue82c', '\u9fb7'), ('FE6D', '\ue832', '\u9fb8'), ('FE7E', '\ue843', '\u9fb9'),
    ('FE90', '\ue854', '\u9fba'), ('FEA0', '\ue864', '\u9fbb'),
    ('8135F437', '\u1e3f', '\ue7c7'),  # the one 4-byte code that differs
]


def check_gb18030_diffs():
    for code, py, _ in GB18030_DIFFS:
        assert bytes.fromhex(code).decode('gb18030') == py, code


def case_gb18030_map():
    """Every GB18030 code on which Python's codec and WHATWG differ, each in
    a message of its own, plus one that is the same in both."""
    check_gb18030_diffs()
    d = fresh_input('gb18030_map')
    head = ','.join(HEADER).encode('gb18030') + b'\n'
    lines = []
    for k, (code, _, _) in enumerate(GB18030_DIFFS + [('B0A1', '啊', '啊')]):
        pre = ('G%d,wxid_g%d,%s,码%s:' % (k // 3, k // 3, '是' if k % 2 else '否', code)).encode('gb18030')
        post = (',2023-05-01 10:%02d:00,%d\n' % (k, k)).encode('gb18030')
        lines.append(pre + bytes.fromhex(code) + post)
    write_bytes(os.path.join(d, 'codes.csv'), head + b''.join(lines))
    # A GB18030 BOM (84 31 95 33 = U+FEFF) is kept by Python's codec: it
    # becomes part of the first column's name (a non-required one here).
    head2 = ','.join(['编号'] + HEADER).encode('gb18030') + b'\n'
    body2 = ''.join('%d,B%d,wxid_b%d,否,带BOM的文件%d,2023-05-01 11:00:00,%d\n' % (k, k // 2, k // 2, k, k)
                    for k in range(4)).encode('gb18030')
    write_bytes(os.path.join(d, 'gb_bom.csv'), b'\x84\x31\x95\x33' + head2 + body2)
    return 'gb18030_map', ['--val-size', '0.3', '--seed', '1']


def case_gb18030_invalid():
    """Bytes Python's gb18030 codec cannot decode make the file a file error
    (the reference's `cannot read: UnicodeDecodeError`): the single byte 0x80
    (the euro sign in WHATWG), and a lead byte with a bad trail byte."""
    d = fresh_input('gb18030_invalid')
    head = ','.join(HEADER).encode('gb18030') + b'\n'
    ok = lambda k, text: ('I%d,wxid_i%d,否,%s,2023-05-01 10:%02d:00,%d\n' % (k // 2, k // 2, text, k, k)).encode('gb18030')
    write_bytes(os.path.join(d, 'a_byte80.csv'), head + ok(0, '欧元') + b'I0,wxid_i0,\xca\xc7,price \x80 5,2023-05-01 10:01:00,1\n')
    write_bytes(os.path.join(d, 'b_bad_trail.csv'), head + ok(0, '坏') + b'I0,wxid_i0,\xca\xc7,x\x81\x20y,2023-05-01 10:01:00,1\n')
    write_bytes(os.path.join(d, 'c_byte_ff.csv'), head + ok(0, '尾') + b'I0,wxid_i0,\xca\xc7,z\xff,2023-05-01 10:01:00,1\n')
    write_bytes(os.path.join(d, 'd_ok.csv'), head + b''.join(ok(k, t) for k, t in enumerate(['好', '行', '嗯', '哦'])))
    return 'gb18030_invalid', ['--val-size', '0.3', '--seed', '1']


def case_ids64():
    """Integer ids beyond 2^53 keep their exact values: int64, uint64 (above
    int64's max) and Python ints beyond uint64 (object column) in CSV;
    numeric cells written with all their digits in xlsx; ids that differ
    only in the last digit are two dialogues."""
    d = fresh_input('ids64')
    pairs = [
        (1234567890123456789, 9007199254740993), (1234567890123456788, 9007199254740993),
        (1234567890123456789, 9007199254740992), (9223372036854775807, 2 ** 53 + 1),
    ]
    rows = [HEADER]
    for k, (a, c) in enumerate(pairs * 2):
        rows.append([a, c, '是' if k % 2 else '否', '消息%d' % k, '2023-05-01 10:%02d:00' % k, 10 ** 18 + k])
    write_bytes(os.path.join(d, 'a_int64.csv'), csv_bytes(rows))
    u = [9223372036854775808, 18446744073709551615, 18446744073709551614, 9223372036854775809]
    rows = [HEADER]
    for k in range(8):
        rows.append([u[k % 4], 7, '是' if k % 2 else '否', '无符号%d' % k, '2023-05-01 11:%02d:00' % k, k])
    write_bytes(os.path.join(d, 'b_uint64.csv'), csv_bytes(rows))
    big = [18446744073709551616, 18446744073709551617, 123456789012345678901, -9223372036854775809]
    rows = [HEADER]
    for k in range(8):
        rows.append([big[k % 4], 'wxid_big', '是' if k % 2 else '否', '大数%d' % k, '2023-05-01 12:%02d:00' % k, k])
    write_bytes(os.path.join(d, 'c_beyond_uint64.csv'), csv_bytes(rows))
    # uint64 beside a negative number: pandas keeps the whole column as text.
    rows = [HEADER]
    for k in range(4):
        rows.append([[9223372036854775808, -1][k % 2], 'wxid_m', '是' if k % 2 else '否', '混合%d' % k, '2023-05-01 13:%02d:00' % k, k])
    write_bytes(os.path.join(d, 'd_uint64_and_negative.csv'), csv_bytes(rows))
    # Content column of big integers: the corpus holds str(int).
    rows = [HEADER]
    for k, v in enumerate([1234567890123456789, 1234567890123456788, 9223372036854775807, 12345678901234567]):
        rows.append(['E0', 'wxid_e', '是' if k % 2 else '否', v, '2023-05-01 14:%02d:00' % k, k])
    write_bytes(os.path.join(d, 'e_content.csv'), csv_bytes(rows))
    # xlsx numeric cells whose <v> holds all the digits (openpyxl reads
    # them with int(), exactly); text ids stay text.  One file per kind, so
    # a file error in one does not hide the others.
    xrows = []
    for k, (a, c) in enumerate(pairs):
        xrows.append([V(str(a)), V(str(c)), '是' if k % 2 else '否', '表%d' % k, '2023-05-02 10:%02d:00' % k,
                      V(str(10 ** 18 + k))])
    for k, (a, c) in enumerate(pairs):
        xrows.append([str(a), str(c), '否', '文本%d' % k, '2023-05-02 11:%02d:00' % k, k])
    xrows.append([F(1.2345678901234568e18, '0'), 'wxid_f', '否', V('1234567890123456789'), '2023-05-02 12:00:00', 1])
    write_xlsx_cells(os.path.join(d, 'f_numeric_int64.xlsx'), [('Sheet1', [HEADER] + xrows)])
    xrows = []
    for k, v in enumerate(['9223372036854775808', '18446744073709551615', '123456789012345678901', '-9223372036854775809']):
        xrows.append(['G%d' % (k // 2), 'wxid_g', '是' if k % 2 else '否', V(v), '2023-05-02 10:3%d:00' % k, k])
    write_xlsx_cells(os.path.join(d, 'g_numeric_beyond_int64.xlsx'), [('Sheet1', [HEADER] + xrows)])
    # Integral floats at or past 2^63: pandas' xlsx reader makes every
    # integral number a Python int, so the corpus holds all the digits.
    xrows = []
    for k, v in enumerate([1e20, 2.5e19, 9.223372036854776e18, -9.3e18, -0.0, 1e300]):
        xrows.append(['F1', 'wxid_f', '是' if k % 2 else '否', v, '2023-05-02 13:%02d:00' % k, 20 + k])
    write_xlsx_cells(os.path.join(d, 'h_integral_floats.xlsx'), [('Sheet1', [HEADER] + xrows)])
    return 'ids64', ['--val-size', '0.3', '--seed', '6']


def case_xls_types():
    """.xls inputs (xlrd): text, numbers, booleans, error cells, dates,
    times, a time format past one day, elapsed-time formats (xlrd has no
    duration type: they are dates), and a 1904 workbook."""
    d = fresh_input('xls_types')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make_xls.py')
    py = xlwt_python()
    if py is None:
        raise SystemExit('xls_types: no Python with xlwt (set XLWT_PYTHON)')
    subprocess.run([py, script, d], check=True)
    return 'xls_types', ['--val-size', '0.3', '--seed', '2']


_XLWT = []


def xlwt_python():
    """A Python that can import xlwt: $XLWT_PYTHON, or a throwaway venv."""
    if _XLWT:
        return _XLWT[0]
    py = os.environ.get('XLWT_PYTHON')
    if not py:
        import tempfile
        venv = os.path.join(tempfile.gettempdir(), 'sheetsift-xlwt-venv')
        py = os.path.join(venv, 'bin', 'python')
        if not os.path.exists(py):
            subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
        r = subprocess.run([py, '-m', 'pip', 'install', '-q', 'xlwt==1.3.0'], check=False)
        if r.returncode != 0:
            py = None
    _XLWT.append(py)
    return py


def odf_cell(kind, text=None, **attrs):
    """An ODF table cell: kind is the office:value-type (None: no type)."""
    from odf.table import TableCell
    from odf.text import P
    args = dict(attrs)
    if kind is not None:
        args['valuetype'] = kind
    c = TableCell(**args)
    if text is not None:
        if isinstance(text, str):
            c.addElement(P(text=text))
        else:
            for p in text:
                c.addElement(p)
    return c


def write_ods(path, sheets):
    """sheets: [(name, rows)], a row being a list of ODF cells (or a
    (cells, repeat) pair for table:number-rows-repeated)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow
    doc = OpenDocumentSpreadsheet()
    doc.meta.childNodes[:] = []  # no generator/creation date: reruns reproduce the bytes
    for name, rows in sheets:
        t = Table(name=name)
        for row in rows:
            cells, repeat = row if isinstance(row, tuple) else (row, None)
            tr = TableRow(numberrowsrepeated=repeat) if repeat else TableRow()
            for c in cells:
                tr.addElement(c)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc.save(path)
    normalize_zip(path)


def ods_text(s):
    return odf_cell('string', s)


def case_ods_types():
    """.ods inputs (pandas' odf reader): float, percentage, currency,
    boolean (typed from the cell's TEXT, 'TRUE' only), date, date-time,
    time (parsed from the cell's text), <text:tab/> (dropped by pandas),
    <text:s text:c="3"/>, line breaks, several paragraphs, spans,
    annotations, repeated columns and rows, covered cells, '#N/A' text."""
    from odf.office import Annotation
    from odf.table import CoveredTableCell
    from odf.text import P, S, Tab, LineBreak, Span
    d = fresh_input('ods_types')
    head = [ods_text(h) for h in HEADER + ['值']]

    def row(k, content, extra=None, agent=None):
        return [ods_text(agent or 'O%d' % (k // 3)), ods_text('wxid_o%d' % (k // 3)), ods_text('是' if k % 2 else '否'),
                content, ods_text('2023-05-01 10:%02d:00' % k), odf_cell('float', '%d' % (100 + k), value=100 + k)] + \
               ([extra] if extra is not None else [])

    def p(*parts):
        e = P()
        for x in parts:
            if isinstance(x, str):
                e.addText(x)
            else:
                e.addElement(x)
        return e

    contents = [
        odf_cell('float', '1.5', value='1.5'),
        odf_cell('float', '12', value='12'),
        odf_cell('percentage', '50%', value='0.5'),
        odf_cell('currency', '¥12.00', value='12', currency='CNY'),
        odf_cell('boolean', 'TRUE', booleanvalue='true'),
        odf_cell('boolean', 'FALSE', booleanvalue='false'),
        odf_cell('boolean', '真', booleanvalue='true'),          # text is not 'TRUE': pandas gives False
        odf_cell('date', '2023-05-01', datevalue='2023-05-01'),
        odf_cell('date', '2023-05-01 09:30', datevalue='2023-05-01T09:30:00'),
        odf_cell('time', '09:30:00', timevalue='PT09H30M00S'),
        odf_cell('time', '12:00:00 AM', timevalue='PT00H00M00S'),
        odf_cell('string', [p('前', Tab(), '后')]),
        odf_cell('string', [p('三', S(c=3), '空格')]),
        odf_cell('string', [p('一', S(), '个')]),
        odf_cell('string', [p('换', LineBreak(), '行')]),
        odf_cell('string', [p('第一段'), p('第二段')]),
        odf_cell('string', [p('粗', Span(text='体'), '字')]),
        odf_cell('string', [Annotation(), p('有批注')]),
        odf_cell('string', '#N/A'),
        odf_cell('float', '1E+20', value='1e20'),
        odf_cell('float', '-0', value='-0'),
        odf_cell(None, None),                                   # empty: content missing
        ods_text('好的'),
    ]
    rows = [head]
    for k, c in enumerate(contents):
        rows.append(row(k, c, odf_cell('float', '%d' % k, value=k)))
    # Repeated columns and rows, covered cells.
    rep = odf_cell('string', '重复', numbercolumnsrepeated=2)
    rows.append(([ods_text('P0'), ods_text('wxid_p0'), ods_text('否'), ods_text('重复行'),
                  ods_text('2023-05-01 11:00:00'), odf_cell('float', '7', value=7), ods_text('x')], 3))
    rows.append([ods_text('P1'), ods_text('wxid_p1'), ods_text('是'), ods_text('合并'),
                 ods_text('2023-05-01 11:01:00'), CoveredTableCell(), ods_text('y')])
    rows.append([ods_text('P1'), ods_text('wxid_p1'), ods_text('否'), ods_text('列重复'), rep])
    rows.append(([odf_cell(None, None)], 2))  # blank rows at the end
    write_ods(os.path.join(d, 'a_types.ods'), [('Sheet1', rows)])
    # A time cell whose text pandas cannot parse as a time of day
    # (LibreOffice shows a duration over 24 h as 26:00:00): read_excel
    # raises, the file is a file error.
    bad = [head, row(0, odf_cell('time', '26:00:00', timevalue='PT26H00M00S')), row(1, ods_text('好'))]
    write_ods(os.path.join(d, 'b_bad_time.ods'), [('Sheet1', bad)])
    return 'ods_types', ['--val-size', '0.3', '--seed', '2']


def case_chain_floats():
    """The reference's stage 2 on its own chunk files reads back what
    openpyxl wrote there: every number as '%.16g' (0.30000000000000004 ->
    0.3, a 19-digit id -> 1.234567890123457e+18, re-read as the integer
    1234567890123456954), so its two steps differ from its one-file
    dialogues; expected_chain holds the two steps."""
    d = fresh_input('chain_floats')
    rows = [[V('1234567890123456789'), 'wxid_a', '否', V('0.30000000000000004'), '2023-05-01 10:00:00', 1],
            [V('1234567890123456789'), 'wxid_a', '是', V('0.1234567890123456789'), '2023-05-01 10:01:00', 2],
            [V('1234567890123456788'), 'wxid_a', '否', V('2.220446049250313e-16'), '2023-05-01 10:02:00', 3],
            [7, 'wxid_b', '否', V('123456789.12345679'), '2023-05-01 10:03:00', 4],
            [7, 'wxid_b', '是', '好的', '2023-05-01 10:04:00', 5],
            [8, 'wxid_c', '否', V('1e-05'), '2023-05-01 10:05:00', 6]]
    write_xlsx_cells(os.path.join(d, 'a.xlsx'), [('Sheet1', [HEADER] + rows)])
    write_xlsx_cells(os.path.join(d, 'b.xlsx'), [('Sheet1', [HEADER] + keyed(2, 'C%d', 'wxid_c%d', ['嗯', '哦', '行']))])
    return 'chain_floats', ['--val-size', '0.3', '--seed', '1']


FIDELITY_CASES = [case_times, case_date1904, case_header_blank, case_header_types, case_csv_blank_lines,
                  case_csv_forms, case_csv_trailing_comma, case_gb18030_map, case_gb18030_invalid, case_ids64,
                  case_xls_types, case_ods_types, case_chain_floats]
CHAIN_CASES = {'times', 'date1904', 'chain_floats'}


def check_dumper():
    """dump_cells_ext must dump every value but times and durations exactly
    as the reference's dump_cells does."""
    import datetime as dt
    import pandas as pd
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, REF)
    import dump_cells
    import dump_cells_ext
    samples = [None, '', 'a', 'x\ny\r\t\\\x01', 0, 12, -7, 2 ** 63, 1.5, 1e-05, -0.0, float('inf'), float('nan'),
               True, False, np.bool_(True), np.int64(3), np.uint64(2 ** 64 - 1), np.float32(0.5), np.float64(2.25),
               dt.datetime(2023, 5, 1, 9, 30, 0, 250400), dt.date(2023, 5, 1), pd.Timestamp('2023-05-01 09:30'),
               pd.NaT, pd.NA, np.datetime64('2023-05-01T09:30'), np.datetime64('NaT'), 10 ** 30, [1], b'x']
    for v in samples:
        assert dump_cells.token(v) == dump_cells_ext.token(v), v
    assert dump_cells_ext.token(dt.time(9, 30)) == 't:09:30:00'
    assert dump_cells_ext.token(dt.time(12, 30, 0, 500000)) == 't:12:30:00.500000'
    assert dump_cells_ext.token(dt.timedelta(days=1, hours=2)) == 'D:1 day, 2:00:00'
    assert dump_cells_ext.token(pd.Timedelta('1 days 02:00:00')) == 'D:1 day, 2:00:00'
    assert dump_cells_ext.token(np.timedelta64(90, 's')) == 'D:0:01:30'
    assert dump_cells_ext.token(np.timedelta64('NaT')) == ''


# Inputs sheetsift reports as file errors where pandas reads them (the
# deliberate differences of README "Values, exactly" and tests/cases/README.md):
# the expected outputs are the reference's with that file a file error too —
# the reference run on a copy of the input where the file is empty (pandas:
# EmptyDataError, a file error), so every other file and the chunk names
# (by file position) are the reference's own.
DELIBERATE_FILE_ERRORS = {
    'csv_trailing_comma': ['a_rows_only.csv'],
}


# Reader behaviour sheetsift cannot have (calamine does not expose what
# pandas reads): the reference runs with refrun.py's patch for it (the
# deliberate differences of tests/cases/README.md).
READER_PATCHES = {
    'ods_types': {'REFRUN_ODS_BOOLEAN_VALUE': '1'},
}


def run_reference_ext(case, dargs):
    """The reference on a fidelity case: extract dumped with
    dump_cells_ext, dialogues, ARGS, and EXIT when the exit code is not 0
    ('N', or 'extract N' / 'dialogues N' lines when the two differ)."""
    d = os.path.join(CASES, case)
    src = 'input'
    if case in DELIBERATE_FILE_ERRORS:
        src = 'input_as_file_error'
        shutil.rmtree(os.path.join(d, src), ignore_errors=True)
        shutil.copytree(os.path.join(d, 'input'), os.path.join(d, src))
        for name in DELIBERATE_FILE_ERRORS[case]:
            open(os.path.join(d, src, name), 'wb').close()
    for sub in ('expected_extract', 'expected_dialogues', 'expected_chain'):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    for f in ('EXIT', 'ARGS'):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    refrun = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'refrun.py')
    env = dict(os.environ, **READER_PATCHES.get(case, {}))
    rx = subprocess.run([sys.executable, refrun, WORKFLOW, 'extract', '--out', 'expected_extract', '--dump-cells',
                         '--jobs', '2', src], cwd=d, env=env, check=False)
    for f in os.listdir(os.path.join(d, 'expected_extract')):
        if f.endswith('.xlsx'):
            os.remove(os.path.join(d, 'expected_extract', f))
    rd = subprocess.run([sys.executable, refrun, WORKFLOW, 'dialogues', '--out', 'expected_dialogues'] + dargs + [src],
                        cwd=d, env=env, check=False)
    if src != 'input':
        shutil.rmtree(os.path.join(d, src))
    with open(os.path.join(d, 'ARGS'), 'w') as f:
        f.write(' '.join(dargs) + '\n')
    if rx.returncode != rd.returncode:
        with open(os.path.join(d, 'EXIT'), 'w') as f:
            f.write('extract %d\ndialogues %d\n' % (rx.returncode, rd.returncode))
    elif rd.returncode != 0:
        with open(os.path.join(d, 'EXIT'), 'w') as f:
            f.write('%d\n' % rd.returncode)
    print(case, 'extract exit', rx.returncode, 'dialogues exit', rd.returncode)
    if case in CHAIN_CASES:
        run_chain(case, dargs)


def main():
    global REF, WORKFLOW
    import argparse
    ap = argparse.ArgumentParser(description='regenerate the oracle-made test data')
    ap.add_argument('reference', nargs='?', default=REF)
    ap.add_argument('--only', default=None, help='comma-separated case names (default: everything)')
    a = ap.parse_args()
    REF = os.path.abspath(a.reference)
    WORKFLOW = os.path.join(REF, 'workflow.py')
    if not os.path.exists(WORKFLOW):
        raise SystemExit('no reference workflow at %s (pass its directory)' % WORKFLOW)
    only = set(a.only.split(',')) if a.only else None
    check_dumper()
    if only is None:
        emoji_table()
        permutation_table()
        for make in (case_emoji_punct, case_ids_dups, case_bets, case_chain):
            case, dargs = make()
            run_reference(case, dargs)
            if case == 'chain':
                run_chain(case, dargs)
    for make in FIDELITY_CASES:
        name = make.__name__[len('case_'):]
        if only is not None and name not in only:
            continue
        case, dargs = make()
        run_reference_ext(case, dargs)


if __name__ == '__main__':
    main()
