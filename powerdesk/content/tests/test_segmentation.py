"""The tokenizer: one per process, built once under a lock; stop-words and synonyms."""

from __future__ import annotations

import threading

from powerdesk.content import segmentation


def test_the_tokenizer_is_built_once_even_when_threads_race(monkeypatch):
    monkeypatch.setattr(segmentation, "_tokenizer", None)
    built = []
    real_build = segmentation._build_tokenizer

    def counting_build():
        built.append(1)
        return real_build()

    monkeypatch.setattr(segmentation, "_build_tokenizer", counting_build)
    start = threading.Barrier(8)
    seen = []

    def grab():
        start.wait()
        seen.append(segmentation.tokenizer())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert len({id(t) for t in seen}) == 1


def test_power_terms_are_words_with_the_dictionary():
    assert segmentation.segment_for_index("峰谷电价说明").split() == ["峰谷", "电价", "峰谷电价", "说明"]
    assert "报装" in segmentation.segment_for_index("办理用电报装").split()
    assert "户号" in segmentation.segment_for_index("您的户号").split()


def test_stop_words_and_punctuation_are_dropped():
    assert segmentation.segment_query("请问，我的电费怎么算？") == ["电费", "算"]


def test_synonyms_add_the_indexed_term():
    assert segmentation.segment_query("交电费")[-1] == "缴费"
    assert "停电" in segmentation.segment_query("家里没电了")


def test_every_dictionary_line_has_a_frequency_and_a_tag():
    for line in segmentation.POWER_TERMS.read_text(encoding="utf-8").splitlines():
        _word, frequency, tag = line.split()
        assert int(frequency) > 0 and tag.isalpha(), line
