#!/usr/bin/env python3
"""Write the .xls inputs of tests/cases/xls_types (run by make_cases.py with
a Python that has xlwt 1.3.0; xlwt is not one of the reference's packages).

    python make_xls.py OUT_DIR

xlwt writes BIFF8 with raw serials and number formats, so every cell type
xlrd distinguishes is made on purpose: text, numbers (RK and NUMBER
records), booleans and error codes (BOOLERR), and numbers whose format makes
xlrd call them dates (times, a time format past one day, elapsed-time
formats, which xlrd has no separate type for).
"""
import os
import sys

import xlwt

HEADER = ['坐席id', '客户微信id', '是否客服', '消息内容', '发送时间', '消息id']
STYLES = {}


def style(fmt):
    if fmt not in STYLES:
        STYLES[fmt] = xlwt.easyxf(num_format_str=fmt)
    return STYLES[fmt]


class F:
    def __init__(self, value, fmt):
        self.value, self.fmt = value, fmt


class Err:
    """An error cell: xlwt's name for it, or the BIFF code (0x2A is #N/A, which
    xlwt 1.3.0 has no name for)."""

    def __init__(self, code):
        self.code = code


def put(ws, r, c, v):
    if v is None:
        return
    if isinstance(v, F):
        ws.write(r, c, v.value, style(v.fmt))
    elif isinstance(v, Err):
        ws.row(r).set_cell_error(c, v.code)
    else:
        ws.write(r, c, v)


def sheet(wb, name, rows):
    ws = wb.add_sheet(name)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            put(ws, r, c, v)


def rows_of(contents, agent, extra):
    rows = [HEADER + ['其他']]
    for k, content in enumerate(contents):
        rows.append([agent % (k // 3), 'wxid_x%d' % (k // 3), '是' if k % 2 else '否', content,
                     F(45047 + k / 24, 'yyyy-mm-dd hh:mm:ss'), 100 + k, extra[k % len(extra)]])
    return rows


CONTENTS = [
    '文本', 12, 1.5, -3, 2 ** 31, 2 ** 53 + 2, 1e20, -0.0, True, False,
    Err(0x2A), Err('#DIV/0!'), Err('#REF!'),
    F(45047.5, 'yyyy-mm-dd'), F(45047.395833333336, 'yyyy-mm-dd hh:mm'),
    F(0.395833333333333, 'h:mm'), F(0.0, 'h:mm'), F(0.5, 'hh:mm:ss'), F(1.5, 'h:mm'),
    F(1.0833333333333333, '[h]:mm:ss'), F(0.01, '[mm]:ss'), F(59, 'yyyy-mm-dd'), F(61, 'yyyy-mm-dd'),
    F(0.5208391203703704, 'hh:mm:ss.000'), F(0.25, '0.00%'), F(1234.5, '#,##0.00'),
    '', ' ', '好的',
]
EXTRA = [F(0.75, 'h:mm'), F(1.25, '[h]:mm'), True, Err(0x2A), 7, 'x']


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    wb = xlwt.Workbook(encoding='utf-8')
    sheet(wb, 'Sheet1', rows_of(CONTENTS, 'X%d', EXTRA))
    sheet(wb, '说明', [['说明'], ['没有数据列']])
    wb.save(os.path.join(out, 'a_types.xls'))
    wb = xlwt.Workbook(encoding='utf-8')
    wb.dates_1904 = True
    sheet(wb, 'Sheet1', rows_of([F(0.5, 'h:mm'), F(0, 'yyyy-mm-dd'), F(1, 'yyyy-mm-dd'), F(43584.5, 'yyyy-mm-dd hh:mm'),
                                 F(1.0833333333333333, '[h]:mm:ss'), '文本'], 'Y%d', EXTRA))
    wb.save(os.path.join(out, 'b_1904.xls'))


if __name__ == '__main__':
    main()
