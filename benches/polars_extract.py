#!/usr/bin/env python3
"""The extract step written with polars + fastexcel, a fair modern peer.

    python3 -m venv .venv-polars && .venv-polars/bin/pip install polars fastexcel xlsxwriter pyarrow
    .venv-polars/bin/python benches/polars_extract.py OUT INPUT.xlsx...

Reads every input with pl.read_excel (fastexcel = calamine), drops rows whose
content is missing or contains a system phrase, concatenates, and writes one
xlsx with write_excel: what `sheetsift extract` does for one chunk.
"""
import sys
import polars as pl

SYS = ['我通过了好友请求,现在你俩可以开始聊天了', '我通过了你的朋友验证请求,现在我们可以开始聊天了',
       '已通过你的朋友验证请求,现在可以开始聊天了', '不支持此消息,请在手机上查看', '微信红包']
NA = ['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>',
      'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    frames = []
    for p in paths:
        df = pl.read_excel(p, engine='calamine')
        c = pl.col('消息内容')
        keep = c.is_not_null() & ~c.cast(pl.Utf8).is_in(NA)
        for s in SYS:
            keep = keep & ~c.cast(pl.Utf8).str.contains(s, literal=True)
        frames.append(df.filter(keep))
    pl.concat(frames, how='diagonal_relaxed').write_excel(out)


if __name__ == '__main__':
    main()
