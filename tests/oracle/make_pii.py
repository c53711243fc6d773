#!/usr/bin/env python3
"""Regenerate tests/data/pii_labelled.tsv, the labelled set of the PII
scrubber (src/dialogue/scrub.rs), from the repo root:

    python3 tests/oracle/make_pii.py

Standard library only; deterministic (fixed seed), so a rerun reproduces the
file byte for byte. Each line is `text<TAB>expected`, the expected text being
`text` with every piece of personal data replaced by its placeholder
(`<PHONE>`, `<IDCARD>`, `<EMAIL>`, `<URL>`, `<WECHAT>`, `<BANKCARD>`, and
`<ORDER>` for the custom pattern the test configures:
`订单(?:号|编号)[:：]?\\s*(\\d{10,20})`). Lines starting with `#` are comments.

Positives are customer-service phrasings with the data at the start, in the
middle or at the end, run into Chinese text or spaced, one to three per line.
Values are realistic: mobile numbers from real prefixes, resident ID numbers
from real area codes with a computed MOD 11-2 check character, bank cards
from real issuer prefixes with a computed Luhn digit.

Hard negatives are what such logs are full of and a scrubber must leave
alone (phrased without a context that would make a human read them as a
mistyped phone, ID or card number, which the rules deliberately leave): prices, amounts, dates, times, order and tracking numbers (long digit
runs that fail the ID and Luhn checks, or start with a year), product codes,
quantities, 11-digit numbers starting 10/12, 17- and 19-digit runs, IP
addresses, version numbers, grouped numbers whose prefix alone would pass a
check, and WeChat words without an id. Random digit runs are drawn until they
fail every rule, with the checks below (the rules of the scrubber's doc).

The test (tests/scrub.rs) recovers the labelled spans by aligning `expected`
with `text` (each placeholder a lazy `(.+?)`); this script asserts that this
alignment gives back exactly the spans it generated.
"""
import os
import random
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
OUT = os.path.join(ROOT, 'data', 'pii_labelled.tsv')

rng = random.Random(20260517)


def digits(n, first='0123456789'):
    return rng.choice(first) + ''.join(rng.choice('0123456789') for _ in range(n - 1))


# ---- checks (the scrubber's rules) -------------------------------------------

def luhn_ok(d):
    total = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2:
            v *= 2
            v -= 9 if v > 9 else 0
        total += v
    return total % 10 == 0


def luhn_digit(body):
    return next(str(c) for c in range(10) if luhn_ok(body + str(c)))


ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
PROVINCES = set(range(11, 16)) | set(range(21, 24)) | set(range(31, 38)) | set(range(41, 47)) \
    | set(range(50, 55)) | set(range(61, 66)) | {71, 81, 82, 83}


def id_check(body17):
    return '10X98765432'[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS)) % 11]


def id_ok(s):
    s = s.upper()
    if len(s) != 18 or not s[:17].isdigit() or int(s[:2]) not in PROVINCES:
        return False
    y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    if not 1900 <= y <= 2029 or not 1 <= m <= 12:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return 1 <= d <= mdays and id_check(s[:17]) == s[17]


def card_ok(d):
    return d.isdigit() and 16 <= len(d) <= 19 and d[0] in '34569' and luhn_ok(d)


def mobile_ok(d):
    if not d.isdigit():
        return False
    if len(d) == 13 and d.startswith('86'):
        d = d[2:]
    elif len(d) == 15 and d.startswith('0086'):
        d = d[4:]
    return len(d) == 11 and d[0] == '1' and d[1] in '3456789'


def any_rule(d):
    """Would a contiguous digit run be personal data under some rule?"""
    return id_ok(d) or card_ok(d) or mobile_ok(d)


def plain_run(n, first='0123456789'):
    """A run of n digits that no rule accepts."""
    while True:
        d = digits(n, first)
        if not any_rule(d):
            return d


# ---- generators of personal data ---------------------------------------------

MOBILE_PREFIXES = ['130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '145', '147',
                   '150', '151', '152', '153', '155', '156', '157', '158', '159', '166', '170', '171',
                   '173', '175', '176', '177', '178', '180', '181', '182', '183', '184', '185', '186',
                   '187', '188', '189', '191', '198', '199']


def mobile():
    n = rng.choice(MOBILE_PREFIXES) + digits(8)
    style = rng.choice(['plain'] * 6 + ['space', 'space', 'dash', 'dash', '+86', '+86 sp', '+86-',
                                        '0086', '+86run', '(+86)', '434', '86-'])
    a, b, c = n[:3], n[3:7], n[7:]
    return {
        'plain': n,
        'space': f'{a} {b} {c}',
        'dash': f'{a}-{b}-{c}',
        '+86': f'+86{n}',
        '+86 sp': f'+86 {a} {b} {c}',
        '+86-': f'+86-{n}',
        '0086': f'0086{n}',
        '+86run': f'+86 {n}',
        '(+86)': f'(+86){n}',
        '434': f'{n[:4]} {n[4:7]} {n[7:]}',
        '86-': f'86-{n}',
    }[style]


AREA3 = ['010', '020', '021', '022', '023', '024', '025', '027', '028', '029']
AREA4 = ['0755', '0571', '0512', '0731', '0591', '0871', '0411', '0532', '0769', '0351', '0898']


def landline():
    if rng.random() < 0.5:
        area, local = rng.choice(AREA3), digits(8, '2345678')
    else:
        area, local = rng.choice(AREA4), digits(rng.choice([7, 8]), '2345678')
    style = rng.choice(['dash', 'dash', 'dash', 'paren', 'fwparen', 'paren sp', 'space', 'ext', 'split'])
    return {
        'dash': f'{area}-{local}',
        'paren': f'({area}){local}',
        'fwparen': f'（{area}）{local}',
        'paren sp': f'({area}) {local}',
        'space': f'{area} {local}',
        'ext': f'{area}-{local}-{digits(rng.choice([2, 3, 4]))}',
        'split': f'{area}-{local[:4]} {local[4:]}',
    }[style]


ID_AREAS = ['110101', '110105', '110108', '120101', '130102', '140105', '150102', '210102', '220102',
            '230103', '310101', '310104', '310115', '320102', '320106', '330102', '330106', '340104',
            '350203', '360102', '370102', '370202', '410105', '420106', '430104', '440104', '440305',
            '440306', '450103', '460105', '500103', '510104', '510107', '520102', '530102', '610113',
            '620102', '630102', '640104', '650102']


def idcard_value():
    while True:
        y = rng.randint(1950, 2008)
        m = rng.randint(1, 12)
        d = rng.randint(1, 28)
        body = f'{rng.choice(ID_AREAS)}{y:04d}{m:02d}{d:02d}{digits(3)}'
        s = body + id_check(body)
        assert id_ok(s)
        return s


def idcard():
    s = idcard_value()
    if s.endswith('X') and rng.random() < 0.3:
        s = s[:-1] + 'x'
    if rng.random() < 0.15:
        s = f'{s[:6]} {s[6:14]} {s[14:]}'
    return s


BINS = [('622202', 19), ('621226', 19), ('621700', 19), ('622848', 19), ('621483', 16), ('622588', 16),
        ('436742', 16), ('524047', 16), ('356833', 16), ('622262', 19), ('955880', 19), ('625965', 16),
        ('621661', 19), ('623668', 19)]


def bankcard():
    bin_, n = rng.choice(BINS)
    body = bin_ + digits(n - len(bin_) - 1)
    d = body + luhn_digit(body)
    assert card_ok(d) and not id_ok(d)
    if rng.random() < 0.35:
        return ' '.join(d[i:i + 4] for i in range(0, len(d), 4))
    return d


USERS = ['zhangsan', 'lisi_88', 'wang.fang', 'chen2020', 'liuyang1990', 'kefu', 'service', 'huang-lei',
         'xiaomei.li', 'tom_wu', 'jiayi666', 'a.b.c', 'sunny2019', 'zhou_jie']
DOMAINS = ['qq.com', '163.com', '126.com', 'gmail.com', 'foxmail.com', 'sina.com', 'outlook.com',
           'hotmail.com', 'yeah.net', 'company.com.cn', '139.com', 'shop-abc.cn']


def email():
    r = rng.random()
    if r < 0.25:
        user = digits(rng.randint(6, 10), '123456789')  # QQ number
    elif r < 0.32:
        user = rng.choice(MOBILE_PREFIXES) + digits(8)
    else:
        user = rng.choice(USERS)
    return f'{user}@{rng.choice(DOMAINS)}'


def alnum(n):
    return ''.join(rng.choice('abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789') for _ in range(n))


def url():
    return rng.choice([
        lambda: f'https://item.taobao.com/item.htm?id={digits(12, "6")}',
        lambda: f'https://detail.tmall.com/item.htm?id={digits(12, "6")}&skuId={digits(13, "4")}',
        lambda: f'https://item.jd.com/{digits(rng.choice([11, 12]), "1")}.html',
        lambda: 'http://www.example.com/help',
        lambda: 'www.jd.com',
        lambda: f'www.taobao.com/market/{rng.choice(["nvzhuang", "shouji", "meizhuang"])}',
        lambda: f'https://m.tb.cn/h.{alnum(7)}',
        lambda: f'http://t.cn/A6{alnum(6)}',
        lambda: f'https://mobile.yangkeduo.com/goods.html?goods_id={digits(11, "3")}',
        lambda: f'https://v.douyin.com/{alnum(7)}/',
        lambda: f'https://www.xiaohongshu.com/explore/{"".join(rng.choice("0123456789abcdef") for _ in range(24))}',
        lambda: f'https://pan.baidu.com/s/1{alnum(22)}',
        lambda: f'HTTPS://WWW.EXAMPLE.CN/ORDER?NO={digits(10)}',
    ])()


def wechat_id(letters_only=False):
    if letters_only:
        return rng.choice(['Jennifer', 'xiaomeili', 'sunnyday', 'happyshop', 'TomWang'])
    return rng.choice([
        lambda: rng.choice(['zhangsan_', 'lily', 'Tom_', 'wx_shop', 'kefu_xm', 'jenny', 'abc-', 'Lucky'])
        + digits(rng.randint(2, 6)),
        lambda: 'a' + rng.choice(MOBILE_PREFIXES) + digits(8),
        lambda: rng.choice('abcdefghjkmnpqrstwxyz') + alnum(rng.randint(5, 11)) + digits(1),
    ])()


def wxid():
    return 'wxid_' + ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(14))


def order_no():
    return f'{rng.choice(["2023", "2024"])}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}' + digits(rng.randint(8, 11))


# ---- lines ---------------------------------------------------------------------
# A line is a list of pieces: plain strings, or (kind, value) for labelled data.

KINDS = {'P': 'PHONE', 'I': 'IDCARD', 'E': 'EMAIL', 'U': 'URL', 'W': 'WECHAT', 'B': 'BANKCARD',
         'O': 'ORDER'}
GEN = {'P': mobile, 'L': landline, 'I': idcard, 'E': email, 'U': url, 'B': bankcard, 'O': order_no}


def fill(template, **fixed):
    """`电话{P}谢谢` -> pieces. {L} is a landline (kind PHONE), {W} a WeChat id."""
    pieces = []
    for part in re.split(r'(\{[A-Z]\})', template):
        m = re.fullmatch(r'\{([A-Z])\}', part)
        if not m:
            if part:
                pieces.append(part)
            continue
        k = m.group(1)
        if k in fixed:
            value = fixed[k]
        elif k == 'W':
            value = wechat_id()
        else:
            value = GEN[k]()
        pieces.append(('PHONE' if k == 'L' else KINDS[k], value))
    return pieces


POSITIVE = {
    'mobile': (70, [
        '我的手机号是{P}，麻烦尽快联系我', '电话{P}谢谢', '{P}', '{P} 这是我电话', '联系电话：{P}',
        '收货人张三 {P} 北京市朝阳区建国路88号', '你打我电话吧{P}', '亲，留个电话吧？好的{P}',
        '号码换了，新的是{P}。', '快递员打{P}找不到人', '手机：{P}（工作日9:00-18:00）', '电话是 {P} 姓王',
        '麻烦改一下收件电话{P}谢谢亲', '微信同号{P}', '有事打我手机{P}，短信也行', '我老公的电话{P}你们联系他',
        '收件人：李四，电话：{P}，地址：杭州市西湖区文三路100号3单元', '{P}是我的号码，之前那个不用了',
    ]),
    'landline': (25, [
        '公司座机{L}', '座机：{L}，工作日有人接', '打我们客服热线{L}', '{L}', '单位电话是{L}转人工',
        '办公室电话 {L} 找刘经理', '请拨打{L}。',
    ]),
    'idcard': (40, [
        '身份证号{I}', '身份证：{I}，姓名王五', '亲，请提供一下身份证号码：{I}，用于实名认证',
        '{I} 这是我的身份证', '报关需要身份证号 {I}', '我身份证号是{I}谢谢', '证件号码：{I}。',
        '实名信息 张伟 {I} 请核对',
    ]),
    'bankcard': (35, [
        '退款到卡号{B}就行', '开户行：工商银行 卡号：{B} 户名：李四', '银行卡{B}', '{B}',
        '打到这张卡上 {B} 谢谢', '我的银行卡号是{B}，建行的', '卡号{B}。户名赵六',
    ]),
    'email': (35, [
        '邮箱{E}，发票发这里', '发我邮箱 {E} 就行', '{E}', '电子发票请发送至：{E}。', '我的邮箱是{E}谢谢',
        '联系邮箱：{E}（请备注订单）', '把合同发到{E}吧',
    ]),
    'url': (35, [
        '链接在这 {U} 你看下', '{U}', '你看这个{U}', '这个宝贝 {U} 还有货吗？', '活动页面：{U}。',
        '复制打开{U}，领优惠券', '官网 {U} 上有说明',
    ]),
    'wechat': (40, [
        '我微信号：{W}', '加我微信{W}', '加我微信 {W} 备注买家', 'vx：{W}', 'VX {W}', 'wx: {W}',
        'V信 {W}', 'v信：{W}', '我的微信是{W}', '微信号是 {W}，加的时候备注订单号', '薇信 {W}',
        'wechat: {W}', '有问题加我wx {W}哦',
    ]),
    'wechat-letters': (6, ['微信号：{X}', '我的微信号是{X}', 'vx号：{X}']),
    'wxid': (8, ['有问题加{X}', '我的wxid是{X}', '{X}', '客户{X}说没收到']),
    'order': (20, [
        '订单号：{O}', '订单号{O}还没发货', '订单编号 {O}，麻烦查一下', '查下订单号:{O}', '订单编号：{O}',
    ]),
    'several': (45, [
        '电话{P}，邮箱{E}', '{P} 或者 {P} 都可以', '身份证{I}，手机{P}', '卡号{B}，预留手机号{P}',
        '加我微信{W}或者打电话{P}', '订单号：{O}，收货电话{P}，已经三天了', '{U} 这个链接，有问题发邮件到{E}',
        '座机{L}，手机{P}，邮箱{E}', '姓名张三 身份证{I} 银行卡{B}', '订单2023050112345678的收货电话改成{P}',
        '价格¥1380.00，电话{P}', '2023-05-01 09:30:00 用户留言：电话{P}', '我在{U}下的单，订单号{O}',
        '微信号：{W}，手机{P}，周末也在', '{P}/{P}',
    ]),
}


def positive_lines():
    out = []
    for name, (count, templates) in POSITIVE.items():
        for i in range(count):
            t = templates[i % len(templates)]
            if name == 'wechat-letters':
                pieces = fill(t.replace('{X}', '{W}'), W=wechat_id(True))
            elif name == 'wxid':
                pieces = fill(t.replace('{X}', '{W}'), W=wxid())
            else:
                pieces = fill(t)
            out.append(pieces)
    return out


# ---- hard negatives --------------------------------------------------------------

def price():
    return rng.choice([f'¥{rng.randint(1, 20000)}.{rng.randint(0, 99):02d}', f'{rng.randint(9, 99999)}元',
                       f'￥{rng.randint(100, 9999)}', f'{rng.randint(1, 999)}.{rng.randint(0, 9)}元'])


def date():
    y, m, d = rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f'{y}-{m:02d}-{d:02d}', f'{y}年{m}月{d}日', f'{y}/{m}/{d}', f'{y}{m:02d}{d:02d}',
                       f'{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}',
                       f'{y}/{m}/{d} {rng.randint(0, 23)}:{rng.randint(0, 59):02d}'])


def time_():
    return rng.choice([f'{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}', f'{rng.randint(1, 12)}点{rng.randint(1, 59)}分',
                       f'{rng.randint(8, 11)}:00-{rng.randint(17, 22)}:00'])


def long_order():
    """16–20 digits failing every check; half start with a date."""
    n = rng.randint(16, 20)
    if rng.random() < 0.5:
        head = f'{rng.choice(["2023", "2024"])}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}'
        while True:
            d = head + digits(n - 8)
            if not any_rule(d):
                return d
    return plain_run(n)


def luhn_year_order():
    """Luhn-valid, but starting with a year: an order number, not a card."""
    body = f'2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}' + digits(rng.choice([7, 10]))
    d = body + luhn_digit(body)
    assert not any_rule(d)
    return d


def bad_id():
    """An ID number with one thing wrong (drawn again if it passes a rule)."""
    while True:
        s = _bad_id()
        if not any_rule(s.upper()):
            return s


def _bad_id():
    s = idcard_value()
    kind = rng.choice(['check', 'date', 'province', 'short'])
    if kind == 'check':
        wrong = rng.choice([c for c in '0123456789X' if c != s[17]])
        s = s[:17] + wrong
    elif kind == 'date':
        s17 = s[:10] + rng.choice(['13', '00', '02']) + rng.choice(['30', '31', '32', '00']) + s[14:17]
        s = s17 + id_check(s17)
    elif kind == 'province':
        s17 = rng.choice(['19', '29', '40', '66', '90', '99']) + s[2:17]
        s = s17 + id_check(s17)
    else:
        s = s[:17]
    return s


def bad_card():
    while True:
        bin_, n = rng.choice(BINS)
        d = bin_ + digits(n - len(bin_))
        if not any_rule(d):
            return ' '.join(d[i:i + 4] for i in range(0, len(d), 4)) if rng.random() < 0.4 else d


def grouped_prefix_card():
    """A 19-digit grouped number failing Luhn whose first 16 digits pass it."""
    while True:
        bin_ = rng.choice(['622202', '621700', '622848'])
        body = bin_ + digits(9)
        d16 = body + luhn_digit(body)
        d = d16 + digits(3)
        if not any_rule(d) and card_ok(d16):
            return ' '.join(d[i:i + 4] for i in range(0, len(d), 4))


def tracking():
    return rng.choice([
        lambda: 'SF' + digits(13, '123456789'),
        lambda: 'YT' + digits(13, '123456789'),
        lambda: 'JD' + digits(13),
        lambda: plain_run(14, '7'),
        lambda: plain_run(13, '4'),
        lambda: '11' + digits(11),
        lambda: 'JT' + digits(13, '5'),
    ])()


def product_code():
    return rng.choice([
        lambda: f'XK-{rng.randint(2019, 2025)}-{rng.randint(1, 9999):04d}',
        lambda: f'A{rng.choice(MOBILE_PREFIXES)}{digits(8)}',
        lambda: f'SKU{digits(12)}',
        lambda: f'B0{rng.randint(100, 999)}-{rng.randint(1000, 9999)}',
        lambda: f'{rng.randint(100, 999)}-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}',
        lambda: f'iPhone{rng.randint(11, 16)} Pro',
        lambda: f'M{rng.randint(10, 99)}x{rng.randint(10, 99)}',
        lambda: f'P{rng.choice(MOBILE_PREFIXES)}{digits(8)}X',
    ])()


def eleven_not_mobile():
    return rng.choice(['10', '12', '11']) + digits(9)


def odd_length_run():
    return plain_run(rng.choice([17, 19, 12, 10, 15]))


def ip():
    return rng.choice([f'192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}', f'10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}',
                       f'{rng.randint(100, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}'])


def version():
    return rng.choice([f'v{rng.randint(1, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}', f'{rng.randint(1, 9)}.{rng.randint(0, 9)}.{digits(8)}',
                       f'iOS {rng.randint(14, 18)}.{rng.randint(0, 7)}.{rng.randint(0, 3)}', f'版本{rng.randint(1, 9)}.{rng.choice(MOBILE_PREFIXES)}{digits(8)}'])


def near_mobile():
    n = rng.choice(MOBILE_PREFIXES) + digits(8)
    return rng.choice([n[:10], n + digits(1), '2' + n[1:], f'{n[:3]} {n[3:7]} {n[7:10]}', f'{n[:3]}-{n[3:7]}-{n[7:]}{digits(1)}',
                       f'{n}.{rng.randint(1, 99)}', '0' + n, f'{rng.choice(["12", "37", "99"])}{n}'])


def near_landline():
    return rng.choice([f'{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}{rng.randint(10, 28)}', f'0000-{digits(7, "2345678")}',
                       f'{rng.choice(AREA3)}-{digits(4)}', f'{rng.choice(AREA3)}-{digits(7, "2345678")}',
                       f'{rng.choice(AREA4)}-{digits(8, "01")}', f'({rng.randint(2019, 2025)}){digits(8, "2345678")}'])


def grouped_date_order():
    d = f'{rng.choice(["2023", "2024"])}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}' + digits(8)
    assert not any_rule(d)
    return ' '.join(d[i:i + 4] for i in range(0, 16, 4))


NEGATIVE = [
    ('prices and amounts', 30, ['这款现在活动价{v}', '总共{v}，已经付款了', '退款{v}什么时候到账', '{v}', '满99减{v}吗',
                                '优惠后{v}，原价{v}', '共计{v}（含运费）']),
    ('dates and times', 35, ['{v}发的货', '预计{v}送达', '{v}', '我{v}下的单', '营业时间{v}', '活动到{v}结束']),
    ('order numbers failing every check', 40, ['订单{v}还没发货', '这个单子{v}怎么还没到', '{v}', '单号{v}',
                                               '查一下{v}这单', '编号：{v}']),
    ('Luhn-valid order numbers starting with a year', 12, ['订单{v}', '{v}这单退款了吗', '单子{v}']),
    ('ID-like numbers failing the ID checks', 25, ['批次号{v}', '{v}', '条码：{v}', '运单{v}已签收']),
    ('card-like numbers failing Luhn', 18, ['交易流水{v}', '{v}', '商户单号：{v}']),
    ('grouped numbers whose prefix passes a check', 8, ['流水号 {v}', '{v}']),
    ('tracking numbers', 20, ['快递单号{v}', '{v}', '物流单号：{v}，麻烦查下', '顺丰{v}']),
    ('product codes', 20, ['型号{v}', '货号：{v}', '{v}有货吗', '买的是{v}']),
    ('quantities and counts', 12, ['库存{n}件', '买了{n}个', '已售{n}+', '第{n}名', '{n}人付款']),
    ('11-digit numbers starting 10/11/12', 12, ['工号{v}', '{v}', '会员编号{v}']),
    ('17/19/12/10/15-digit runs', 16, ['编码{v}', '{v}', '流水号{v}']),
    ('IP addresses', 8, ['服务器{v}连不上', '{v}']),
    ('version numbers', 10, ['升级到{v}就好了', '{v}']),
    ('almost mobile numbers', 20, ['编号{v}', '{v}', '批次{v}']),
    ('almost landlines', 12, ['{v}', '编号{v}']),
    ('grouped date-like orders', 6, ['订单 {v}', '{v}']),
    ('WeChat words without an id', 20, None),
    ('e-mail and URL look-alikes', 14, None),
    ('mixed', 20, None),
]
NEG_GEN = {
    'prices and amounts': price, 'dates and times': lambda: rng.choice([date, time_])(),
    'order numbers failing every check': long_order, 'Luhn-valid order numbers starting with a year': luhn_year_order,
    'ID-like numbers failing the ID checks': bad_id, 'card-like numbers failing Luhn': bad_card,
    'grouped numbers whose prefix passes a check': grouped_prefix_card, 'tracking numbers': tracking,
    'product codes': product_code, '11-digit numbers starting 10/11/12': eleven_not_mobile,
    '17/19/12/10/15-digit runs': odd_length_run, 'IP addresses': ip, 'version numbers': version,
    'almost mobile numbers': near_mobile, 'almost landlines': near_landline,
    'grouped date-like orders': grouped_date_order,
}
WECHAT_WORDS = ['微信支付', '微信转账1000元可以吗', '发个微信红包', '用微信扫码', '微信 iPhone版登不上', 'wx支付',
                '加微信好友', '微信同号', '微信名：小明', '我的微信头像', 'vx', '微信 ok', '微信号发你了',
                '微信聊吧', '我没有微信', '微信 Android', 'WeChat Pay', '加vx', '威信', '微信号码忘了']
LOOKALIKES = ['@所有人 今天发货', '@张三 你好', '邮箱格式不对 abc@', 'http协议', 'www', '访问www点淘宝点com',
              '价格@100元', 'https://', '用户@客服 在吗', 'email：无', '网址是什么', 'http 404了', 'www.', '发到邮箱了@售后']
MIXED = ['{date} {time} 订单{order}，金额{price}', '单号{track}，{date}发货', '库存{n}件，价格{price}',
         '型号{code}，版本{ver}', '{date} 付款{price}，订单{order}', '服务器{ip}，{date}']


def negative_lines():
    out = []
    for name, count, templates in NEGATIVE:
        out.append('# ' + name)
        for i in range(count):
            if name == 'WeChat words without an id':
                text = WECHAT_WORDS[i % len(WECHAT_WORDS)]
            elif name == 'e-mail and URL look-alikes':
                text = LOOKALIKES[i % len(LOOKALIKES)]
            elif name == 'mixed':
                text = MIXED[i % len(MIXED)].format(
                    date=date(), time=time_(), order=long_order(), price=price(), track=tracking(),
                    n=rng.randint(2, 99999), code=product_code(), ver=version(), ip=ip())
            elif name == 'quantities and counts':
                text = templates[i % len(templates)].replace('{n}', str(rng.randint(2, 99999)))
            else:
                t = templates[i % len(templates)]
                while '{v}' in t:
                    t = t.replace('{v}', NEG_GEN[name](), 1)
                text = t
            out.append([text])
    return out


# ---- output --------------------------------------------------------------------

def render(pieces):
    text = ''.join(p if isinstance(p, str) else p[1] for p in pieces)
    expected = ''.join(p if isinstance(p, str) else f'<{p[0]}>' for p in pieces)
    spans, at = [], 0
    for p in pieces:
        n = len(p) if isinstance(p, str) else len(p[1])
        if not isinstance(p, str):
            spans.append((p[0], at, at + n))
        at += n
    return text, expected, spans


def aligned_spans(text, expected):
    """What the Rust test does: placeholders as lazy groups, anchored."""
    parts = re.split(r'(<[A-Z_]+>)', expected)
    pattern = ''.join('(.+?)' if re.fullmatch(r'<[A-Z_]+>', p) else re.escape(p) for p in parts)
    m = re.fullmatch(pattern, text)
    assert m, (text, expected)
    kinds = [p[1:-1] for p in parts if re.fullmatch(r'<[A-Z_]+>', p)]
    return [(k, m.start(i + 1), m.end(i + 1)) for i, k in enumerate(kinds)]


def main():
    lines = ['# PII labelled set: text<TAB>expected, made by tests/oracle/make_pii.py (do not edit).',
             '# Scrubber: all kinds + custom ORDER = 订单(?:号|编号)[:：]?\\s*(\\d{10,20}).',
             '# positives']
    npos = nneg = 0
    for pieces in positive_lines():
        text, expected, spans = render(pieces)
        assert '\t' not in text and '\n' not in text
        assert aligned_spans(text, expected) == spans, (text, expected)
        lines.append(f'{text}\t{expected}')
        npos += 1
    lines.append('# hard negatives')
    for item in negative_lines():
        if isinstance(item, str):
            lines.append(item)
            continue
        text = item[0]
        assert '\t' not in text and '<' not in text
        for m in re.finditer(r'\d+', text):
            # A contiguous run no letter, `_` or decimal point touches
            # must fail every rule (grouped numbers are checked by design).
            before, after = text[max(0, m.start() - 2):m.start()], text[m.end():m.end() + 2]
            blocked = re.search(r'[A-Za-z_]$|\d\.$', before) or re.match(r'[A-Za-z_]|\.\d', after)
            assert blocked or not any_rule(m.group()), (text, m.group())
        lines.append(f'{text}\t{text}')
        nneg += 1
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8', newline='\n') as f:
        f.write('\n'.join(lines) + '\n')
    print(f'{OUT}: {npos} positive lines, {nneg} negative lines')


if __name__ == '__main__':
    main()
