#!/usr/bin/env python3
"""Regenerate sheetsift's GB18030/GBK decoding tables from CPython's codecs.

    .venv/bin/python tests/oracle/gen_gb18030.py        (from the repo root)

The reference workflow reads a CSV that is not UTF-8 with Python's `gb18030`
codec (and `gbk` when forced), and no Rust crate implements those codecs:
encoding_rs follows the WHATWG standard, which differs (see
src/read/gb18030.rs). So the tables come from the codec itself, run under the
reference's interpreter (CPython 3.11, `../shared/reference/requirements.txt`).

Writes:
  src/read/gb18030/two_byte.bin  every two-byte code (lead 81..FE, trail
                                 40..7E,80..FE: 126 x 190, all assigned),
                                 token-coded, decoded by a const fn at build
                                 time (format in src/read/gb18030.rs)
  src/read/gb18030/tables.rs     the four-byte BMP ranges, the two-byte codes
                                 Python's `gbk` rejects, and checksums of
                                 Python's outcome on every 1-, 2-, 3-byte and
                                 (b3, b4 sampled) 4-byte input, which the
                                 module's unit tests recompute with the Rust
                                 decoder.

Before writing, it asserts the structure the Rust decoder hard-codes (which
bytes start which kind of sequence, the four-byte arithmetic), so a codec
that changed shape fails here rather than in a test.
"""
import codecs
import os
import sys

if sys.version_info[:2] != (3, 11) and '--any-python' not in sys.argv:
    sys.exit('run this with the reference interpreter (CPython 3.11); '
             'pass --any-python to override')

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'src', 'read', 'gb18030')

TRAILS = list(range(0x40, 0x7F)) + list(range(0x80, 0xFF))  # 190
LEADS = list(range(0x81, 0xFF))  # 126
ILLEGAL, INCOMPLETE = 1, 2
REASONS = {'illegal multibyte sequence': ILLEGAL, 'incomplete multibyte sequence': INCOMPLETE}


def outcome(data, enc='gb18030'):
    """One u32 per input decoded alone and final: the code point when it
    decodes to exactly one character, else 0x80000000 | start<<16 | end<<8 |
    reason. The Rust tests compute the same word."""
    try:
        s = data.decode(enc)
    except UnicodeDecodeError as e:
        return 0x80000000 | e.start << 16 | e.end << 8 | REASONS[e.reason]
    assert len(s) == 1, (data, s)
    return ord(s)


class Fnv:
    """FNV-1a 64 over the little-endian bytes of u32 words."""

    def __init__(self):
        self.h, self.n = 0xCBF29CE484222325, 0

    def add(self, word):
        for i in range(4):
            self.h ^= (word >> (8 * i)) & 0xFF
            self.h = (self.h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        self.n += 1


# Sampled third and fourth bytes of the 4-byte checksum: every byte where a
# boundary lies, plus a few far outside. (A one-off sweep of all 2^16 pairs
# found every other pair illegal, as the structure checks below state.)
B3 = [0x00, 0x30, 0x39, 0x7F] + list(range(0x80, 0x100))
B4 = [0x00, 0x2F] + list(range(0x30, 0x3A)) + [0x3A, 0x7F, 0x80, 0xFF]


def sync4(e):
    # Batch decoding of 4-byte inputs: an error always starts a sequence and
    # covers its first byte; resume at the next sequence.
    assert e.start % 4 == 0 and e.end == e.start + 1, (e.start, e.end)
    assert e.reason == 'illegal multibyte sequence'
    return ('\x00', e.start + 4)  # NUL: no 4-byte sequence decodes to it


codecs.register_error('gen_gb18030_sync4', sync4)


def four_byte_outcomes(b1, b2):
    seqs = [bytes([b1, b2, b3, b4]) for b3 in B3 for b4 in B4]
    text = b''.join(seqs).decode('gb18030', 'gen_gb18030_sync4')
    assert len(text) == len(seqs)
    return [(s, 0x80000000 | 1 << 8 | ILLEGAL if c == '\x00' else ord(c)) for s, c in zip(seqs, text)]


def main():
    # --- single bytes, two-byte table -------------------------------------
    one, gbk_one = Fnv(), Fnv()
    for b in range(256):
        w = outcome(bytes([b]))
        assert w == b if b < 0x80 else w == 0x80000000 | 1 << 8 | INCOMPLETE
        assert outcome(bytes([b]), 'gbk') == w
        one.add(w)
        gbk_one.add(w)

    table = []
    for b1 in LEADS:
        for b2 in TRAILS:
            w = outcome(bytes([b1, b2]))
            assert w < 0x80000000 and 0x80 <= w <= 0xFFFF and not 0xD800 <= w <= 0xDFFF, (b1, b2)
            table.append(w)
    two, gbk_two = Fnv(), Fnv()
    gbk_holes = []  # indexes into `table` that Python's gbk codec rejects
    for b1 in range(0x80, 0x100):
        for b2 in range(256):
            w, g = outcome(bytes([b1, b2])), outcome(bytes([b1, b2]), 'gbk')
            two.add(w)
            gbk_two.add(g)
            if b1 in LEADS and b2 in TRAILS:
                i = LEADS.index(b1) * 190 + TRAILS.index(b2)
                assert w == table[i]
                if g >= 0x80000000:
                    assert g == 0x80000000 | 1 << 8 | ILLEGAL
                    gbk_holes.append(i)
                else:
                    assert g == w, (b1, b2)  # gbk never maps differently
            elif 0x30 <= b2 <= 0x39:
                assert w == 0x80000000 | 2 << 8 | INCOMPLETE, (b1, b2)
            else:
                assert w == 0x80000000 | 1 << 8 | ILLEGAL, (b1, b2)

    # --- three bytes: a 4-byte sequence cut short ------------------------
    three = Fnv()
    for b1 in range(0x80, 0x100):
        for b2 in range(0x30, 0x3A):
            for b3 in range(256):
                w = outcome(bytes([b1, b2, b3]))
                assert w == 0x80000000 | 3 << 8 | INCOMPLETE
                three.add(w)

    # --- four bytes --------------------------------------------------------
    four = Fnv()
    bmp = {}
    for b1 in range(0x80, 0x100):
        for b2 in range(0x30, 0x3A):
            for seq, w in four_byte_outcomes(b1, b2):
                four.add(w)
                c1, c2, c3, c4 = seq[0] - 0x81, seq[1] - 0x30, seq[2] - 0x81, seq[3] - 0x30
                lin = (c1 * 10 + c2) * 1260 + c3 * 10 + c4
                shape = 0x81 <= seq[0] <= 0xFE and 0x81 <= seq[2] <= 0xFE and 0 <= c4 <= 9
                if shape and seq[0] <= 0x84 and lin < 39420:
                    assert w < 0x80000000
                    bmp[lin] = w
                elif shape and 0x90 <= seq[0] and lin - 15 * 12600 <= 0xFFFFF:
                    assert w == 0x10000 + lin - 15 * 12600, seq
                else:
                    assert w == 0x80000000 | 1 << 8 | ILLEGAL, seq
    assert sorted(bmp) == list(range(39420))
    assert not any(0xD800 <= c <= 0xDFFF for c in bmp.values())
    ranges = []  # (first linear index, its code point) of each run of +1
    for lin in range(39420):
        if not ranges or bmp[lin] != bmp[lin - 1] + 1:
            ranges.append((lin, bmp[lin]))

    os.makedirs(OUT, exist_ok=True)
    blob = encode_two_byte(table)
    with open(os.path.join(OUT, 'two_byte.bin'), 'wb') as f:
        f.write(blob)
    with open(os.path.join(OUT, 'tables.rs'), 'w', encoding='utf-8') as f:
        f.write(render(ranges, holes_to_ranges(gbk_holes), one, two, three, four, gbk_one, gbk_two, table))
    print('two_byte.bin: %d bytes; %d BMP ranges; %d gbk holes in %d ranges'
          % (len(blob), len(ranges), len(gbk_holes), len(holes_to_ranges(gbk_holes))))


def encode_two_byte(table):
    """Tokens, each updating `prev` (starts at 0) and emitting entries:
    01..3F n      n entries prev+1, prev+2, ...
    40..7F        one entry prev + (t - 0x40 + 2)        (a jump of 2..65)
    80..FF x      one entry 0x4E00 + ((t & 0x7F) << 8 | x)  (0x4E00..0xCDFF)
    00 hi lo      one entry hi << 8 | lo"""
    out, prev, i = bytearray(), 0, 0
    while i < len(table):
        j = i
        while j < len(table) and j - i < 0x3F and table[j] == prev + 1 + (j - i):
            j += 1
        if j > i:
            out.append(j - i)
            prev, i = table[j - 1], j
            continue
        c = table[i]
        if 2 <= c - prev <= 65:
            out.append(0x40 + c - prev - 2)
        elif 0x4E00 <= c <= 0xCDFF:
            out += bytes([0x80 | (c - 0x4E00) >> 8, (c - 0x4E00) & 0xFF])
        else:
            out += bytes([0, c >> 8, c & 0xFF])
        prev, i = c, i + 1
    return bytes(out)


def holes_to_ranges(holes):
    ranges = []
    for i in holes:
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ranges


def render(ranges, gbk_ranges, one, two, three, four, gbk_one, gbk_two, table):
    rows = lambda items, per: '\n'.join(
        '    ' + ' '.join(items[k:k + per]) for k in range(0, len(items), per))
    fnv = lambda f: '(%d, 0x%016X)' % (f.n, f.h)
    total = Fnv()
    for w in table:
        total.add(w)
    return '''// @generated by tests/oracle/gen_gb18030.py from CPython %d.%d.%d's
// gb18030 and gbk codecs. Do not edit; rerun the script.

/// Four-byte sequences below U+10000: `(linear index, code point)` at the
/// start of each run where consecutive indexes map to consecutive code
/// points. The linear index of `b1 b2 b3 b4` is
/// `((b1 - 0x81) * 10 + (b2 - 0x30)) * 1260 + (b3 - 0x81) * 10 + (b4 - 0x30)`,
/// valid below %d.
pub(super) const FOUR_BYTE_BMP: [(u16, u16); %d] = [
%s
];

/// Inclusive ranges of two-byte table indexes (`(lead - 0x81) * 190 +
/// trail position`) that Python's `gbk` codec rejects: the GB18030-only
/// codes (gb18030ext), the rest of gbk maps exactly as gb18030 does.
pub(super) const GBK_HOLES: [(u16, u16); %d] = [
%s
];

/// `(count, FNV-1a 64)` of Python's outcome words (see the tests) over:
/// every byte alone; every `b1 b2` with b1 >= 0x80; every `b1 b2 b3` with
/// b1 >= 0x80, b2 in 30..39; every `b1 b2 b3 b4` with b1 >= 0x80, b2 in
/// 30..39, b3 in B3, b4 in B4 (the lists in the generator and the tests); the
/// same one- and two-byte inputs under `gbk`; and the two-byte table itself.
#[cfg(test)]
pub(super) mod checksums {
    pub const ONE: (u64, u64) = %s;
    pub const TWO: (u64, u64) = %s;
    pub const THREE: (u64, u64) = %s;
    pub const FOUR: (u64, u64) = %s;
    pub const GBK_ONE: (u64, u64) = %s;
    pub const GBK_TWO: (u64, u64) = %s;
    pub const TABLE: (u64, u64) = %s;
}
''' % (sys.version_info[0], sys.version_info[1], sys.version_info[2], 39420,
       len(ranges), rows(['(%d, 0x%04X),' % r for r in ranges], 1),
       len(gbk_ranges), rows(['(%d, %d),' % tuple(r) for r in gbk_ranges], 1),
       fnv(one), fnv(two), fnv(three), fnv(four), fnv(gbk_one), fnv(gbk_two), fnv(total))


if __name__ == '__main__':
    main()
