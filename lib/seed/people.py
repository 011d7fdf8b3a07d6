"""Fake personal data for leads and members, stored as the app stores real people: keyed hashes of the phone number and
the name (lib.privacy), the masked number (138****5678) and the masked name (张*)."""
from __future__ import annotations

import numpy as np

from lib import privacy

MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153,
                            155, 156, 157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184,
                            185, 186, 187, 188, 189, 191, 198, 199])  # mainland mobile number prefixes
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌宇浩然子涵欣怡雨轩梓晨"  # given-name characters
NAMELESS_SHARE = 0.08  # leads and members who left no name


def fake_people(rng: np.random.Generator, n: int, key: str) -> dict[str, np.ndarray | list]:
    """Fake people as stored: phone_hash, phone_masked, name_hash and name_masked (names None for those who left none)."""
    prefix = rng.integers(len(MOBILE_PREFIXES), size=n)
    middle = rng.integers(10_000, size=n)
    last4 = rng.integers(10_000, size=n)
    numbers = (MOBILE_PREFIXES[prefix] * 10**8 + middle * 10**4 + last4).astype(str).tolist()
    prefix_text = np.array([f"{p}{privacy.PHONE_MASK}" for p in MOBILE_PREFIXES], dtype=object)
    last4_text = np.array([f"{i:04d}" for i in range(10_000)], dtype=object)
    surname_weights = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surnames = rng.choice(len(SURNAMES), size=n, p=surname_weights / surname_weights.sum())
    nameless = rng.random(n) < NAMELESS_SHARE
    given = np.array(list(GIVEN_NAMES), dtype=object)  # picked from the number's digits: no draws of its own
    names = np.array(list(SURNAMES), dtype=object)[surnames] + given[middle % len(given)] + np.where(
        last4 % 3 == 0, "", given[last4 % len(given)])
    phone_hash, name_hash = privacy.keyed_hasher("phone", key), privacy.keyed_hasher("name", key)
    return {"phone_hash": [phone_hash(number) for number in numbers],
            "phone_masked": prefix_text[prefix] + last4_text[last4],
            "name_hash": [None if skip else name_hash(name) for name, skip in zip(names, nameless)],
            "name_masked": [None if skip else privacy.mask_name(name) for name, skip in zip(names, nameless)]}
