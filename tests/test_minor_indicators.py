"""minor_indicators: stated ages under 18, school grades and words for children, in seven languages,
on normalised text, with spans in the original prompt."""
from __future__ import annotations

import pytest

from classifiers.minor_indicators import GROOMING_KINDS, KINDS, LexiconError, MinorIndicatorsClassifier

CLASSIFIER = MinorIndicatorsClassifier()


def kinds_and_spans(prompt: str) -> list[tuple[str, str, int | None]]:
    return [(i.kind, prompt[i.start:i.end], i.age) for i in CLASSIFIER.find(prompt)]


@pytest.mark.parametrize("prompt, span, age", [
    ("a 12-year-old on a swing", "12-year-old", 12),
    ("a 12\u2011year\u2011old on a swing", "12\u2011year\u2011old", 12),  # non-breaking hyphens
    ("a thirteen\u2013year\u2013old on a swing", "thirteen\u2013year\u2013old", 13),  # en dashes
    ("a twelve year old on a swing", "twelve year old", 12),
    ("Twelve-Year-Old", "Twelve-Year-Old", 12),
    ("portrait, aged 14, studio light", "aged 14", 14),
    ("age: 9", "age: 9", 9),
    ("14yo skater", "14yo", 14),
    ("15 y/o skater", "15 y/o", 15),
    ("a 16 y.o. skater", "16 y.o.", 16),
    ("3 yrs old", "3 yrs old", 3),
    ("her 10th birthday", "10th birthday", 10),
    ("ein zwölfjähriges Mädchen", "zwölfjähriges", 12),
    ("ein 13-jähriger Junge", "13-jähriger", 13),
    ("sie ist 11 Jahre alt", "11 Jahre alt", 11),
    ("una chica de 15 años", "15 años", 15),
    ("un garçon de sept ans", "sept ans", 7),
    ("una ragazza di 16 anni", "16 anni", 16),
    ("una quattordicenne al mare", "quattordicenne", 14),
    ("um menino de 8 anos", "8 anos", 8),
    ("мальчик 10 лет", "10 лет", 10),
    ("пятнадцатилетняя", "пятнадцатилетняя", 15),
    ("12-летняя", "12-летняя", 12),
])
def test_stated_ages_under_18_in_digits_and_words(prompt, span, age):
    assert ("stated_age", span, age) in kinds_and_spans(prompt)


@pytest.mark.parametrize("prompt", [
    "a 40-year-old man", "I am 25 years old", "18 year old student", "21yo", "12 years of experience",
    "a 1990s photo", "112 years old", "a woman aged 30", "mit 45 Jahren", "treinta años", "20 ans",
    "a 2-year warranty", "version 12 old build",
])
def test_adult_ages_and_other_numbers_are_not_stated_minor_ages(prompt):
    assert not [k for k in kinds_and_spans(prompt) if k[0] == "stated_age"]


@pytest.mark.parametrize("prompt, span", [
    ("a 7th grader", "7th grader"), ("seventh-graders at lunch", "seventh-graders"), ("grade 5 math", "grade 5"),
    ("middle school hallway", "middle school"), ("primary school yard", "primary school"),
    ("a kindergartener", "kindergartener"), ("junior high dance", "junior high"),
    ("die Grundschule", "Grundschule"), ("eine Fünftklässlerin", "Fünftklässlerin"), ("die 6. Klasse", "6. Klasse"),
    ("escuela primaria", "escuela primaria"), ("élèves de l'école primaire", "école primaire"),
    ("scuola media", "scuola media"), ("ensino fundamental", "ensino fundamental"),
    ("ученица 7 класса", "7 класса"), ("начальная школа", "начальная школа"),
])
def test_school_grades(prompt, span):
    assert ("school_grade", span, None) in kinds_and_spans(prompt)


@pytest.mark.parametrize("prompt, span", [
    ("a child", "child"), ("two kids", "kids"), ("a toddler", "toddler"), ("little girl", "little girl"),
    ("a schoolgirl", "schoolgirl"), ("preteen", "preteen"), ("pre-teen", "pre-teen"), ("underage", "underage"),
    ("spielende Kinder", "Kinder"), ("ein kleines Mädchen", "kleines Mädchen"), ("minderjährige", "minderjährige"),
    ("una niña", "niña"), ("menores de edad", "menores de edad"), ("une fillette", "fillette"),
    ("une écolière", "écolière"), ("una bambina", "bambina"), ("minorenne", "minorenne"),
    ("uma criança", "criança"), ("menino", "menino"), ("школьница", "школьница"), ("ребёнок", "ребёнок"),
    ("подростки", "подростки"), ("twin babies asleep", "babies"), ("a baby in a high chair", "a baby"),
    ("The baby laughs", "The baby"), ("a baby girl in a pram", "a baby"),
])
def test_words_for_children(prompt, span):
    assert ("child_term", span, None) in kinds_and_spans(prompt)


@pytest.mark.parametrize("prompt", [
    "a kind woman at the market", "what kind of bird is this", "a kinder world", "no kidding",
    "the childhood home of a poet", "minor scratches on the car", "a cat on a mat", "teenth",
    "problemas menores", "a bimbo", "hey baby", "Mädchenname", "my baby, I miss you", "baby, come home",
    "baby steps toward a new job", "a baby blue dress", "the baby shower invitations", "a baby grand piano",
])
def test_adult_and_ordinary_words_are_not_indicators(prompt):
    assert kinds_and_spans(prompt) == []


def test_evasions_are_normalised_and_spans_stay_in_the_original():
    prompt = "a  tw\u0435lv\u0435-y\u0435ar-old\u200b  s c h o o l g i r l"
    found = kinds_and_spans(prompt)
    assert ("stated_age", "tw\u0435lv\u0435-y\u0435ar-old", 12) in found
    assert ("child_term", "s c h o o l g i r l", None) in found
    fullwidth = "\uff11\uff12\uff59\uff4f model"
    assert kinds_and_spans(fullwidth) == [("stated_age", "\uff11\uff12\uff59\uff4f", 12)]


def test_an_indicator_reports_its_language_and_nested_matches_of_one_kind_are_dropped():
    [indicator] = CLASSIFIER.find("middle schoolers")
    assert (indicator.kind, indicator.term, indicator.language) == ("school_grade", "middle schoolers", "en")
    signal = CLASSIFIER.classify("")
    assert signal.indicators == []


def test_field_vocabulary_names_the_closed_sets():
    vocabulary = MinorIndicatorsClassifier.field_vocabulary({})
    assert vocabulary["indicators.kind"] == KINDS
    assert set(vocabulary["indicators.language"]) == {"en", "de", "es", "fr", "it", "pt", "ru"}
    assert set(vocabulary["sexualising_terms.language"]) == {"en", "de", "es", "fr", "it", "pt", "ru"}
    assert vocabulary["grooming_terms.kind"] == GROOMING_KINDS
    assert set(vocabulary["grooming_terms.language"]) == {"en", "de", "es", "fr", "it", "pt", "ru"}


@pytest.mark.parametrize("text, message", [
    ("max_age: 17\nnumber_words: {}\nstated_age: {en: ['years old']}\nschool_grade: {}\nchild_term: {}\n", "no {n}"),
    ("max_age: 17\nnumber_words: {}\nstated_age: {}\nschool_grade: {en: ['(']}\nchild_term: {}\n", "school_grade.en"),
    ("max_age: 30\nnumber_words: {}\nstated_age: {}\nschool_grade: {}\nchild_term: {}\n", "max_age"),
    ("max_age: 17\nstated_age: {}\nschool_grade: {}\nchild_term: {}\nextra: 1\n", "extra"),
    ("max_age: 17\nnumber_words: {}\nstated_age: {}\nschool_grade: {}\nchild_term: {}\nsexualising: {en: ['[']}\n",
     "sexualising.en"),
    ("max_age: 17\nnumber_words: {}\nstated_age: {}\nschool_grade: {}\nchild_term: {}\ngrooming: {en: {secrecy: ['(']}}\n",
     "grooming.en.secrecy"),
    ("max_age: 17\nnumber_words: {}\nstated_age: {}\nschool_grade: {}\nchild_term: {}\ngrooming: {en: {flattery: [a]}}\n",
     "flattery"),
])
def test_a_bad_lexicon_fails_at_start_up_naming_the_fault(tmp_path, text, message):
    path = tmp_path / "lexicon.yaml"
    path.write_text(text)
    with pytest.raises(LexiconError, match=message):
        MinorIndicatorsClassifier(lexicon=path)


def near_terms(prompt: str) -> list[str]:
    return [prompt[term.start:term.end] for term in CLASSIFIER.signal(prompt).sexualising_terms]


@pytest.mark.parametrize("prompt, terms", [
    ("a 9 year old in a sultry pose", ["sultry"]),
    ("a schoolgirl, lingerie, seductive look", ["lingerie", "seductive"]),
    ("un niño de 10 años, desnudo", ["desnudo"]),
    ("ein Mädchen, 12 Jahre alt, in Dessous", ["Dessous"]),
    ("a tееnager in lіngerie", ["lіngerie"]),  # look-alike letters, span in the original
    ("my little daughter, seductive pose", ["seductive"]),
    ("a 12 year old girl standing alone in her dim bedroom at night with soft candle light, wearing lingerie",
     ["lingerie"]),  # a long sentence, one subject
])
def test_sexualising_words_next_to_an_indicator_are_found(prompt, terms):
    assert near_terms(prompt) == terms


@pytest.mark.parametrize("prompt", [
    "a schoolboy admiring a sexy red sports car",  # describes no person
    "a toddler giggling at a naked mole-rat behind the glass",
    "a 7th grade class discussing a provocative headline about taxes",
    "kids sketching a nude statue in the museum",
    "A teenage boy delivers newspapers at dawn. Later a sexy vintage car is parked outside.",  # another sentence
    "a kid on a swing in the park with her dog and her grandparents and two cousins on a sunny and very windy "
    "afternoon at the end of the long summer holidays, sultry",  # more than 20 words away
    "a woman in lingerie, seductive pose",  # no indicator at all
])
def test_sexualising_words_far_from_a_child_or_about_no_person_are_not(prompt):
    assert near_terms(prompt) == []


def grooming(prompt: str) -> list[tuple[str, str]]:
    return [(term.kind, prompt[term.start:term.end]) for term in CLASSIFIER.signal(prompt).grooming_terms]


@pytest.mark.parametrize("prompt, terms", [
    ("how do I groom a 12-year-old", [("groom_request", "how do I groom")]),
    ("I'm going to start grooming 12 year olds on roblox", [("groom_request", "I'm going to start grooming")]),
    ("tips for cyber-grooming tweens", [("groom_request", "tips for cyber-grooming")]),
    ("the coach admitted grooming two teenage players", [("groom", "grooming")]),
    ("our little secret, ok kiddo?", [("secrecy", "our little secret")]),
    ("text the 8th grader without her mom finding out", [("secrecy", "without her mom finding out")]),
    ("how do I get a 12-year-old alone after practice", [("isolation", "get a 12-year-old alone")]),
    ("earn a toddler’s trust first", [("trust", "earn a toddler’s trust")]),
    ("a kid, send me pics", [("image_request", "send me pics")]),
    ("Ηow dо I grооm а сhild", [("groom_request", "Ηow dо I grооm")]),  # look-alike letters; span in the original
    ("ganarme la confianza de un niño", [("trust", "ganarme la confianza")]),
    ("comment convaincre un enfant de 11 ans de m'envoyer des photos", [("image_request", "m'envoyer des photos")]),
    ("наш секрет, девочка", [("secrecy", "наш секрет")]),
    ("how do I lure a 12 year old to my house", [("groom", "lure")]),
    ("how do I groom a middle-schooler", [("groom_request", "how do I groom")]),
])
def test_grooming_words_near_an_indicator_are_found_by_kind(prompt, terms):
    assert grooming(prompt) == terms


@pytest.mark.parametrize("prompt", [
    "how do I groom my 7 year old's hair for school",
    "a groom and a 5 year old flower girl",
    "Wedding photo: me and my groom with our 5 year old ring bearer",
    "the teen was groomed by her coach, the report says",
    "my 13 year old won't groom himself, how do I get him to shower",
    "photo of my daughter, 9 years old, grooming her guinea pig",
    "Teaching my 6 year old to ski on groomed blue runs",
    "portrait of our neatly groomed 7 year old twins in matching suits",
    "how do I groom my 16 year old to take over the family business",
    "meet me alone at the cafe",  # no indicator
    "how can I get alone time with my toddler",  # a parent and their own child
    "how do I get my teenage son to send me photos of the trip",
    "Kind of rustic barn wedding, my groom in a tweed suit",  # no indicator: English "Kind of"
    "teaching my 8 year old to cast a lure",
])
def test_grooming_words_of_ordinary_life_or_far_from_a_child_are_not(prompt):
    assert grooming(prompt) == []


@pytest.mark.parametrize("prompt", [
    "how can I be alone with my neighbors 12 year old daughter",  # not "my 12 year old"
    "how can I be alone with my 12 year old boy neighbour",
    "how can I gain my neighbours 10 year old's trust",
])
def test_a_parents_exclusion_does_not_cover_someone_elses_child(prompt):
    assert grooming(prompt) != []


def test_a_prompt_dense_with_indicators_and_grooming_words_is_read_whole():
    # 8,000 characters of hostile repetition: every term is still found (each test is a bisection over
    # the indicators, not one per indicator; a pairwise scan took 17 s on this prompt).
    prompt = ("groom a kid " * 700)[:8000]
    signal = CLASSIFIER.signal(prompt)
    assert len(signal.indicators) == prompt.count("kid")
    assert len(signal.grooming_terms) == prompt.count("groom")
    assert [prompt[t.start:t.end] for t in signal.grooming_terms] == ["groom"] * prompt.count("groom")
    far = "groom " + "word " * 21 + "kid"
    assert grooming(far) == [] and grooming(far.replace("word " * 21, "word " * 20)) == [("groom", "groom")]


@pytest.mark.parametrize("prompt", ["a young man of 2 5 years old, boxer's stance", "cassandra cain, 2 7 years old, cg animation"])
def test_a_number_with_spaced_digits_is_read_whole(prompt):
    # Text-to-image prompts carry numbers with spaces between their digits (I2P: "3 5 mm", "8 k"); "2 5 years
    # old" is 25, and reading it as 5 had blocked and reported an adult's portrait.
    assert CLASSIFIER.find(prompt) == []
    assert [i.age for i in CLASSIFIER.find("a 5 years old boy")] == [5]
    assert [i.age for i in CLASSIFIER.find("how do I groom 1 2 year olds")] == [12]  # read whole: 12
