"""SMS length and parts, counted as the network and the mainland gateways do (segments.py)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdesk.channels.sms import segments

HAN = "电"
EMOJI = "😀"  # U+1F600: outside the BMP, a surrogate pair in UTF-16
RARE_HAN = "𠀀"  # U+20000, CJK Extension B: also a surrogate pair


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (HAN * 70, 1),
        (HAN * 71, 2),
        (HAN * 134, 2),
        (HAN * 135, 3),
        (HAN * 201, 3),
        (HAN * 202, 4),
        ("a" * 69 + HAN, 1),  # one Chinese character makes the whole text UCS-2
        ("a" * 70 + HAN, 2),
    ],
)
def test_ucs2_boundaries(text, parts):
    assert segments.encoding_of(text) == segments.UCS2
    assert segments.part_count(text) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("€" * 80, 1), ("€" * 81, 2)],
)
def test_gsm7_boundaries_with_extension_characters_counting_two(text, parts):
    assert segments.encoding_of(text) == segments.GSM7
    assert segments.part_count(text) == parts


def test_astral_characters_count_two_units():
    assert segments.length(HAN * 68 + EMOJI) == 70
    assert segments.part_count(HAN * 68 + EMOJI) == 1
    assert segments.part_count(HAN * 69 + EMOJI) == 2  # 71 units
    assert segments.length(RARE_HAN) == 2
    # a family emoji is several code points joined by ZWJ: each counts
    assert segments.length("👨\u200d👩\u200d👧") == 2 + 1 + 2 + 1 + 2


def test_a_part_never_ends_inside_a_surrogate_pair():
    text = HAN * 66 + EMOJI + HAN * 10  # the emoji would straddle units 67 and 68
    split = segments.split(text)
    assert split.parts[0] == HAN * 66  # one unit short rather than half an emoji
    assert split.parts[1].startswith(EMOJI)
    assert "".join(split.parts) == text


def test_a_part_never_ends_between_an_escape_and_its_character():
    text = "a" * 152 + "€" + "a" * 10
    split = segments.split(text)
    assert split.parts[0] == "a" * 152 and split.parts[1].startswith("€")


def test_the_documented_examples():
    # Alibaba Cloud: 160 characters → 67 + 67 + 26; Tencent Cloud: 150 → 67 + 67 + 16.
    assert [len(part) for part in segments.split(HAN * 160).parts] == [67, 67, 26]
    assert [len(part) for part in segments.split(HAN * 150).parts] == [67, 67, 16]


def test_truncate_keeps_whole_characters():
    assert segments.truncate(HAN * 3 + EMOJI, 4) == HAN * 3
    assert segments.truncate(HAN * 3 + EMOJI, 5) == HAN * 3 + EMOJI


@settings(deadline=None)
@given(st.text(max_size=600))
def test_parts_join_back_and_respect_their_limits(text):
    split = segments.split(text)
    assert "".join(split.parts) == text
    if split.count == 1:
        assert split.units <= segments.SINGLE_LIMIT[split.encoding]
    else:
        assert all(0 < segments.length(part) <= segments.PART_LIMIT[split.encoding] for part in split.parts)
        # a part is short of the limit only by a character that did not fit whole
        assert all(
            segments.length(part) >= segments.PART_LIMIT[split.encoding] - 1 for part in split.parts[:-1]
        )


@settings(deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=600))
def test_bmp_chinese_is_billed_by_the_gateways_rule(text):
    n = len(text)
    assert segments.part_count(text) == (1 if n <= 70 else math.ceil(n / 67))
