#!/usr/bin/env python3
"""Regenerate the oracle-made test data under tests/ (run from the repo root).

    python3 -m venv .venv && .venv/bin/pip install -r ../shared/reference/requirements.txt
    .venv/bin/python tests/oracle/make_cases.py ../shared/reference

Writes, with the reference environment (pandas, openpyxl, numpy, emoji):
  tests/cases/<case>/input/...            inputs (built with openpyxl)
  tests/cases/<case>/expected_*/...        outputs of ../shared/reference/workflow.py
  tests/cases/<case>/ARGS                  the dialogues arguments used
  tests/data/emoji_cases.tsv               input <TAB> emoji.replace_emoji(input, '')
  tests/data/permutations.txt              numpy RandomState(seed).permutation(n) samples
Everything is deterministic (fixed seeds), so a rerun reproduces the files.
"""
import json
import os
import random
import shutil
import string
import subprocess
import sys

import emoji
import numpy as np
import openpyxl

REF = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '../shared/reference')
WORKFLOW = os.path.join(REF, 'workflow.py')
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
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
    subprocess.run([sys.executable, WORKFLOW, 'extract', '--out', tmp, '--chunk-size', '2', '--jobs', '2', 'input'],
                   cwd=d, check=False)
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


def main():
    emoji_table()
    permutation_table()
    for make in (case_emoji_punct, case_ids_dups, case_bets, case_chain):
        case, dargs = make()
        run_reference(case, dargs)
        if case == 'chain':
            run_chain(case, dargs)


if __name__ == '__main__':
    main()
