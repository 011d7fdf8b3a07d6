"""Fake personal data for leads and members: hashed phone numbers, masked numbers and masked names."""
from __future__ import annotations

import hashlib

import numpy as np

MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153,
                            155, 156, 157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184,
                            185, 186, 187, 188, 189, 191, 198, 199])  # mainland mobile number prefixes
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
NAMELESS_SHARE = 0.08  # leads and members who left no name


def fake_people(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Fake people: sha256 of a fake mobile number, the masked number (138****5678), masked name (张*)."""
    prefix = rng.integers(len(MOBILE_PREFIXES), size=n)
    middle = rng.integers(10_000, size=n)
    last4 = rng.integers(10_000, size=n)
    numbers = (MOBILE_PREFIXES[prefix] * 10**8 + middle * 10**4 + last4).astype(str).tolist()
    hashes = [hashlib.sha256(number.encode()).hexdigest() for number in numbers]
    prefix_text = np.array([f"{p}****" for p in MOBILE_PREFIXES], dtype=object)
    last4_text = np.array([f"{i:04d}" for i in range(10_000)], dtype=object)
    masked = prefix_text[prefix] + last4_text[last4]
    surname_weights = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surnames = np.array([f"{s}*" for s in SURNAMES], dtype=object)
    names = surnames[rng.choice(len(SURNAMES), size=n, p=surname_weights / surname_weights.sum())]
    names[rng.random(n) < NAMELESS_SHARE] = None
    return hashes, masked, names
