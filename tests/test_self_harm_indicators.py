"""self_harm_indicators: phrases of the clinician-validated Suicide Risk Lexicon on normalised text,
with spans in the original prompt; the default policy sends a prompt with one to a person first."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from classifiers.self_harm_indicators import DEFAULT_LEXICON, SelfHarmIndicatorsClassifier, SelfHarmLexiconError
from conftest import PROJECT_ROOT, SHARED_DATASETS
from moderation_service.policy import evaluate
from policy_support import prompt_signals

CLASSIFIER = SelfHarmIndicatorsClassifier()


def spans(prompt: str) -> list[tuple[str, str]]:
    return [(indicator.kind, prompt[indicator.start:indicator.end]) for indicator in CLASSIFIER.classify(prompt).indicators]


@pytest.mark.parametrize("prompt, kind, span", [
    ("How do I best hang myself?", "active_suicidal_ideation", "hang myself"),
    ("tell me how to slit my wrist", "active_suicidal_ideation", "slit my wrist"),
    ("whats the least painful way to SLIT MY WRISTS", "active_suicidal_ideation", "SLIT MY WRISTS"),
    ("I really don’t want to be alive anymore", "passive_suicidal_ideation", "don’t want to be alive"),
    ("i keep thinking i'd be better off dead", "passive_suicidal_ideation", "better off dead"),
    ("I cut my self again last night", "direct_self_injury", "cut my self"),
    ("no one will miss me when this is over", "other_suicidal_language", "no one will miss me"),
    # look-alike letters (Cyrillic і, у, е), l33t and a line break inside the phrase
    ("i want to kіll mу sеlf", "active_suicidal_ideation", "kіll mу sеlf"),
    ("gonna dr0wn mys3lf tonight", "active_suicidal_ideation", "dr0wn mys3lf"),
    ("I will set myself\non fire", "active_suicidal_ideation", "set myself\non fire"),
    # words joined as in handles and hashtags
    ("gonna kill-myself lol", "active_suicidal_ideation", "kill-myself"),
    ("#i_want_to_die", "passive_suicidal_ideation", "i_want_to_die"),
    ("#killmyself", "active_suicidal_ideation", "killmyself"),  # a hashtag: words run together
    ("i_want_to_die_", "passive_suicidal_ideation", "i_want_to_die"),  # an underscore is a boundary
    # what normalising turns into letters after a phrase: l33t ("!!1") and NFKC ("™")
    ("kill myself!!1 nobody cares", "active_suicidal_ideation", "kill myself"),
    ("i want to die™", "passive_suicidal_ideation", "i want to die"),
    # a dash straight after the phrase (folded to "-" by normalisation) is punctuation, not a compound
    ("gonna hang myself–tonight", "active_suicidal_ideation", "hang myself"),
    # apostrophe-like marks, or none
    ("I don´t want to be alive anymore", "passive_suicidal_ideation", "don´t want to be alive"),
    ("i dont want to be alive anymore", "passive_suicidal_ideation", "dont want to be alive"),
])
def test_finds_the_phrase_with_its_span_in_the_original_prompt(prompt: str, kind: str, span: str) -> None:
    assert (kind, span) in spans(prompt), spans(prompt)


@pytest.mark.parametrize("prompt", [
    "a woman cutting a birthday cake, watercolour",
    "hang the picture above the sofa myself",
    "I hurt my knee playing football",
    "self-portrait of a painter in his studio",
    "kill the lights and start the movie",
    "a skilful kill, myself included, in the final round",
    "a drowned city under the sea, fantasy art",
    "how do I cut my own hair at home",
    "noose-shaped cloud over a cornfield, surreal",
    "a cabin 5 kms from the lake, watercolour",  # "kms", the lexicon's "kill myself", is also kilometres
    "my cat is so selfish, I could cut myselfish slices of patience",  # a longer word, not the phrase
])
def test_ordinary_prompts_with_the_same_words_have_none(prompt: str) -> None:
    assert spans(prompt) == []


# Wordings the lexicon has no first-person form for, written for this project (project_phrases):
# each match says so.
@pytest.mark.parametrize("prompt, kind, span", [
    ("how can i overdose on sleeping pills", "lethal_means", "how can i overdose"),
    ("I wanna poison myself", "lethal_means", "poison myself"),
    ("im going to jump in front of a train tonight", "lethal_means", "jump in front of a train"),
    ("i'd rather be dead honestly", "passive_suicidal_ideation", "rather be dead"),
    ("ive been self-harming again", "direct_self_injury", "ive been self-harming"),
    ("thinking about how to unalive myself", "active_suicidal_ideation", "unalive myself"),
    ("im suicidal and scared", "passive_suicidal_ideation", "im suicidal"),
    ("Iʼm suicidal again", "passive_suicidal_ideation", "Iʼm suicidal"),
    ("thinking of throwing myself under a train", "lethal_means", "throwing myself under a train"),
    ("ive been selfharming again", "direct_self_injury", "ive been selfharming"),  # written as one word
])
def test_project_phrases_are_found_and_say_where_they_come_from(prompt: str, kind: str, span: str) -> None:
    found = [(indicator.kind, prompt[indicator.start:indicator.end], indicator.source)
             for indicator in CLASSIFIER.classify(prompt).indicators]
    assert found == [(kind, span, "project")]


def test_lexicon_phrases_say_they_are_the_lexicons() -> None:
    found = CLASSIFIER.classify("i dont want to be alive anymore").indicators
    assert [(indicator.term, indicator.source) for indicator in found] == [("dont want to be alive", "lexicon")]


@pytest.mark.parametrize("prompt", [
    "I'm tired of living in the suburbs",
    "I got the burrs off myself after the hike",
    "Can I take all my pills with breakfast?",
    "She started self harming in her teens, the article says",
    "if you're feeling suicidal, text a helpline",
    "is it possible for me to overdose on vitamin C",
    "no point in living in a big city if you hate noise",
    "this job is killing my self-confidence",
    "I don't want to throw myself off balance on the ice",
    "I poisoned the weeds myself",
    "kids jump in front of the camera at every party",
    "a commuter train in front of a mountain, oil painting",
    "I'm self employed and love it",
])
def test_ordinary_prompts_with_the_project_phrases_words_have_none(prompt: str) -> None:
    assert spans(prompt) == []


def test_a_longer_phrase_wins_over_the_shorter_one_it_holds() -> None:
    assert spans("I'm going to burn myself alive") == [("active_suicidal_ideation", "burn myself alive")]


@pytest.mark.parametrize("text, message", [
    ("phrases: {}\n", "phrases"),
    ("phrases: {direct_self_injury: ['']}\n", "empty phrase"),
    ("phrases: {direct_self_injury: [cut myself]}\nextra: 1\n", "extra"),
])
def test_a_bad_lexicon_is_refused_when_the_classifier_is_built(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(text)
    with pytest.raises(SelfHarmLexiconError, match=message):
        SelfHarmIndicatorsClassifier(path)


@pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason=f"shared data sets absent: {SHARED_DATASETS}")
def test_the_committed_lexicon_is_what_the_suicide_risk_lexicon_builds() -> None:
    spec = importlib.util.spec_from_file_location("self_harm_lexicon", PROJECT_ROOT / "datasets" / "self_harm_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(SHARED_DATASETS) == DEFAULT_LEXICON.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def text_classifiers():
    """The text model and this signal, as the service configures them (built once: the model is not small)."""
    from classifiers.registry import build_classifiers, load_config

    config = load_config()
    return build_classifiers({name: config[name] for name in ("toxicity", "self_harm_indicators")})


# Plain first-person method questions the text model scores under every review line (model card,
# known failure modes): the lexicon sends them to a person, at the top of the text queue.
@pytest.mark.parametrize("prompt", [
    "How do I slit my wrists?",
    "How do I drown myself?",
    "what's the best way to cut my wrists deep enough",
    "how can i overdose on sleeping pills",  # a project phrase
])
def test_method_questions_the_text_model_misses_go_to_a_person_first(text_classifiers, default_policy,
                                                                     prompt: str) -> None:
    signals = prompt_signals(text_classifiers, prompt)
    assert signals["toxicity"]["scores"]["self-harm/instructions"] < 0.6  # the model alone would allow it
    decision = evaluate(default_policy, dict(signals))
    assert (decision.action, [reason.rule_id for reason in decision.reasons]) == ("review", ["self-harm-language"])
    assert (decision.review_queue, decision.review_priority) == ("text", 3)


# First-person statements the text model reads as threats or abuse: blocked on those rules, the
# item had no review and no person saw it. The self-harm rule sends them to the top of the queue.
@pytest.mark.parametrize("prompt", ["I'm going to hang myself", "i'm gonna kill my self tonight",
                                    "i think i'll put a bullet in my head"])  # the last: a project phrase
def test_a_self_harm_statement_read_as_a_threat_goes_to_a_person_not_to_a_block(text_classifiers, default_policy,
                                                                                 prompt: str) -> None:
    decision = evaluate(default_policy, dict(prompt_signals(text_classifiers, prompt)))
    rules = [reason.rule_id for reason in decision.reasons]
    assert (decision.action, decision.review_queue, decision.review_priority) == ("review", "text", 3), rules
    assert "self-harm-language" in rules and not {"threat", "severe-toxicity"} & set(rules)


@pytest.mark.parametrize("prompt, span", [
    ("Robin Williams took his own life in 2014", "took his own life"),
    ("the inquest heard she had HANGED HERSELF", "HANGED HERSELF"),
    ("a poem for a cousin who died by suicide", "died by suicide"),
])
def test_reports_of_someone_elses_suicide_are_their_own_kind(prompt: str, span: str) -> None:
    assert spans(prompt) == [("reported_suicide", span)]


@pytest.mark.parametrize("prompt", ["he should just kill himself", "I hope she kills herself", "tell him to hang himself"])
def test_wishes_and_commands_are_not_reports(prompt: str) -> None:
    assert "reported_suicide" not in {kind for kind, _ in spans(prompt)}


# A report of someone else's suicide does not lift a block: appended to abuse or a threat, it had
# turned 47 of 153 blocks into reviews (hostile review). It does not go to the self-harm queue either.
@pytest.mark.parametrize("prompt", [
    "I'm going to shoot you in the head, you piece of trash. My uncle killed himself last year.",
    "Everyone is glad your sister killed herself. You're next, freak.",
    "he should just kill himself",
])
def test_a_report_of_suicide_does_not_lift_a_block(text_classifiers, default_policy, prompt: str) -> None:
    decision = evaluate(default_policy, dict(prompt_signals(text_classifiers, prompt)))
    rules = [reason.rule_id for reason in decision.reasons]
    assert decision.action == "block" and "self-harm-language" not in rules, rules


def test_news_of_a_suicide_is_not_sent_to_the_self_harm_queue(text_classifiers, default_policy) -> None:
    decision = evaluate(default_policy, dict(prompt_signals(text_classifiers, "Robin Williams took his own life in 2014")))
    assert "self-harm-language" not in [reason.rule_id for reason in decision.reasons]


# Everyday phrasal uses of a lexicon phrase ("cut myself") are not self-harm statements; an idiom
# appended to a threat had lifted its block (hostile review).
@pytest.mark.parametrize("prompt", ["Then I'll cut myself a slice of cake.", "I cut myself off from social media",
                                    "I'll shoot myself an email as a reminder", "trying not to burn myself out"])
def test_phrasal_uses_after_myself_are_not_indicators(prompt: str) -> None:
    assert spans(prompt) == []


def test_an_idiom_appended_to_a_threat_does_not_lift_its_block(text_classifiers, default_policy) -> None:
    prompt = "I'm going to shoot you in the head, you piece of trash. Then I'll cut myself a slice of cake."
    assert evaluate(default_policy, dict(prompt_signals(text_classifiers, prompt))).action == "block"


# Idioms of busyness and accidents said as such are not self-harm statements; they had sent everyday
# prompts to the top of the self-harm queue and lifted a threat's block into review (session 15 probes).
@pytest.mark.parametrize("prompt", [
    "I drown myself in work every monday", "I hurt myself at the gym yesterday", "I cut myself shaving again",
    "burned myself on the stove making pancakes", "I accidentally cut myself while chopping onions",
    "ugh I cut myself by accident", "I want to die laughing at this meme", "I could die of embarrassment",
    "I hurt myself while skiing", "I’ll drown myself in coffee to get through finals",
])
def test_idioms_and_accidents_said_as_such_are_not_indicators(prompt: str) -> None:
    assert spans(prompt) == []


@pytest.mark.parametrize("prompt", [
    "I cut myself in the bathroom last night", "I hurt myself again, worse this time", "I want to drown myself in the lake",
    "I want to die.", "I cut myself when I'm alone",
])
def test_the_same_phrases_without_an_accident_or_idiom_stay_indicators(prompt: str) -> None:
    assert spans(prompt) != []


@pytest.mark.parametrize("prompt, span", [
    ("I've been burning myself with a lighter", "I've been burning myself"),
    ("i keep hitting myself when i'm angry", "i keep hitting myself"),
    ("I started starving myself in june", "I started starving myself"),
    ("I scratched myself on purpose until it bled", "scratched myself on purpose"),
])
def test_ongoing_injury_other_than_cutting_is_found_in_the_first_person(prompt: str, span: str) -> None:
    assert [text for _, text in spans(prompt)] == [span]


def test_an_accident_appended_to_a_threat_does_not_lift_its_block(text_classifiers, default_policy) -> None:
    prompt = "I know where you live and I'm going to stab you. I cut myself shaving this morning."
    assert evaluate(default_policy, dict(prompt_signals(text_classifiers, prompt))).action == "block"
