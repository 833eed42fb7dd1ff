"""Follow-up questions in `ragcli chat`: searched and asked with the questions they refer back to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import run

from ragcli.conversation import TOPIC_QUESTIONS, Conversation, is_follow_up
from ragcli.retrieval.index import load_index


@pytest.mark.parametrize(
    "question, language, expected",
    [
        ("How do beekeepers control them?", "en", True),
        ("When did he get the Nobel prize?", "en", True),
        ("What is its diameter?", "en", True),
        ("What is the hive that Langstroth patented?", "en", False),  # "that" joins a clause here
        ("Is there a queen in every hive?", "en", False),
        ("Wann wurde sie gebaut?", "de", True),
        ("Gibt es Bienen in Island?", "de", False),
        ("Quand a-t-elle été construite ?", "fr", True),
        ("Combien d'abeilles y a-t-il dans une ruche ?", "fr", False),
        ("¿Quién la construyó y cuál es su altura?", "es", True),
        ("它有多高？", "en", True),  # Chinese and Japanese words count in any index
        ("それはいつ建てられましたか？", "en", True),
        ("Hvem byggede det?", "da", False),  # no list for Danish: never a follow-up
    ],
)
def test_a_follow_up_refers_back(question: str, language: str, expected: bool) -> None:
    assert is_follow_up(question, language) is expected


def test_a_topic_keeps_its_opening_question_and_the_latest_follow_ups(sample_index: Path) -> None:
    index = load_index(sample_index)
    talk = Conversation("en", index.analyzer)
    assert talk.search_text("What is the varroa mite?") == "What is the varroa mite?"  # nothing before it
    talk.add("What is the varroa mite?")
    follow = "How do beekeepers control them?"
    assert talk.search_text(follow) == f"What is the varroa mite? {follow}"
    assert talk.asked(follow) == f"{follow} (varroa mite)"  # the topic's words the question lacks
    for n in range(5):
        talk.add(f"Is it dangerous {n}?")
    assert TOPIC_QUESTIONS == 3
    assert list(talk.topic) == ["What is the varroa mite?", "Is it dangerous 3?", "Is it dangerous 4?"]
    talk.add("What does the waggle dance encode?")  # refers to nothing: a new topic
    assert list(talk.topic) == ["What does the waggle dance encode?"]
    assert talk.asked("What do drones eat?") == "What do drones eat?"


QUESTIONS = "What is the varroa mite?\nHow do beekeepers control them?\n"


def test_chat_searches_a_follow_up_with_its_topic(sample_index: Path) -> None:
    """Searched alone, "How do beekeepers control them?" finds a passage on how a colony controls its
    temperature; as a follow-up of the varroa question, only passages of the varroa page."""
    args = ["chat", "--index", str(sample_index), "-k", "2", "--json"]
    alone = [json.loads(line) for line in run(*args, "--no-follow-ups", input=QUESTIONS).stdout.splitlines()]
    assert "searched" not in alone[1] and "asked" not in alone[1]
    assert any("varroa" not in s["text"].lower() for s in alone[1]["sources"])
    lines = [json.loads(line) for line in run(*args, input=QUESTIONS).stdout.splitlines()]
    first, second = lines
    assert "searched" not in first and second["query"] == "How do beekeepers control them?"
    assert second["searched"] == "What is the varroa mite? How do beekeepers control them?"
    assert second["asked"] == "How do beekeepers control them? (varroa mite)"
    assert second["sources"] and all(s["path"] == "beekeeping/varroa.md" for s in second["sources"])
    table = run("chat", "--index", str(sample_index), input=QUESTIONS)
    assert table.returncode == 0, table.stderr
    assert "follow-up: searched with the earlier 'What is the varroa mite?'" in table.stderr
