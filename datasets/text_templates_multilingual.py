"""Hand-written, HateCheck-style templates in Spanish, Italian, French, German,
Portuguese and Russian, for the multilingual text head
(``classifiers/models/toxicity-multilingual``).

The shared training sets have offensive-language corpora in German and
Portuguese only, and no hateful or threatening text at all in Spanish, Italian or
Russian. These templates add, per language and restrainedly: hateful statements
about groups (hatred, dehumanisation, exclusion, calls for harm), insults and
threats at a person, and their benign siblings (respect, neutral mentions,
counter-speech, negated hate, everyday profanity, friendly messages), so the
head learns the intent, not the group words. They were written here, not taken
from any evaluation set; Multilingual HateCheck is evaluation-only.

``template_cases()`` returns ``(text, labels, template_id, split)`` rows like
``datasets/text_templates.py``: ``labels`` maps category -> 0/1 (categories it
does not name are unknown, masked), every fifth template id (id % 5 == 4) is held
out for evaluation only. Template ids are ``1000 * language index + local id``.

Run ``python datasets/text_templates_multilingual.py`` to print the counts.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also run as a script
from classifiers.text_categories import labels as _all_zero  # noqa: E402

HELD_OUT_EVERY = 5
_SEED = 17


HATE = {"hate": 1, "sexual": 0, "sexual/minors": 0, "self-harm": 0, "illicit": 0}  # toxic / harassment unknown
HATE_THREAT = _all_zero(hate=1, hate__threatening=1, violence=1, harassment=1)
INSULT = {**_all_zero(harassment=1, toxic=1), "hate": 0}
THREAT = _all_zero(harassment=1, harassment__threatening=1, violence=1)
INSULT_THREAT = _all_zero(harassment=1, harassment__threatening=1, violence=1, toxic=1)
BENIGN = _all_zero()
PROFANE_BENIGN = {**_all_zero(), "toxic": 1}  # vulgar, harms nobody
# Abuse aimed at things, non-protected groups or one person: not hate (other categories unknown).
NOT_HATE = {"hate": 0, "hate/threatening": 0, "sexual": 0, "sexual/minors": 0, "self-harm": 0, "illicit": 0}
NOT_HATE_INSULT = {**NOT_HATE, "harassment": 1}

# Per language: groups as they are written in the templates' slots ({g}: with its
# article where the language needs one; Russian: {g} nominative, {ga} accusative),
# and (local id, template, labels). "{G}" is {g} with a capital first letter.
LANGUAGES: dict[str, dict] = {
    "es": {
        "groups": ["las mujeres", "los musulmanes", "los judíos", "los inmigrantes", "los gais", "las personas trans",
                   "las personas negras", "los refugiados", "las personas con discapacidad", "los gitanos"],
        "templates": [
            (0, "Yo odio profundamente a {g}.", HATE), (1, "{G} son una plaga para la sociedad.", HATE), (2, "{G} son escoria y nunca serán como nosotros.", HATE),
            (3, "{G} no merecen vivir entre personas decentes.", HATE), (4, "Me dan asco {g}, todos iguales.", HATE),
            (5, "{G} son parásitos que viven de nuestro dinero.", HATE), (6, "Hay que echar a {g} de este país ya.", HATE),
            (7, "Habría que exterminar a {g}.", HATE_THREAT), (8, "{G} deberían morir todos.", HATE_THREAT),
            (9, "Un día vamos a quemar las casas de {g}.", HATE_THREAT),
            (10, "Quiero a {g}, son parte de nuestra familia.", BENIGN), (11, "{G} merecen el mismo respeto que cualquiera.", BENIGN),
            (12, "{G} tienen los mismos derechos que todos.", BENIGN), (13, "Decir que {g} son escoria es vergonzoso.", BENIGN),
            (14, "No odio a {g}, al contrario.", BENIGN), (15, "Hoy he leído un artículo sobre {g} en Europa.", BENIGN),
            (16, "El racismo contra {g} tiene que acabar.", BENIGN),
            (20, "Eres un {i}.", INSULT), (21, "Cállate, {i}, nadie te aguanta.", INSULT),
            (22, "Eres un {i} y {t}.", INSULT_THREAT), (23, "Sé dónde vives, {t}.", THREAT),
            (24, "Escucha bien, {t}.", THREAT), (25, "{T}, ya lo verás.", THREAT),
            (30, "¡Joder, qué partido tan bueno!", PROFANE_BENIGN), (31, "Me voy a matar a estudiar este fin de semana.", BENIGN),
            (32, "Eres una amiga increíble, gracias por ayudarme.", BENIGN), (33, "Mañana vamos a la playa con los niños.", BENIGN),
            (34, "Ese chiste me ha matado de risa.", BENIGN),

            # Functional forms added in session 5 (written here; checked against Multilingual HateCheck
            # by tests/test_toxicity_multilingual.py: no normalised exact copy).
            (40, "Siento un asco enorme cada vez que veo a {g}.", HATE), (41, "{G} son una panda de ladrones y mentirosos.", HATE),
            (42, "{G} son unos animales sin cerebro.", HATE), (43, "{G} no son personas, son ratas.", HATE),
            (44, "Desde que {g} viven en el barrio, esto ya no es vida.", HATE), (45, "Voy a reventar a cualquiera de {g} que me cruce.", HATE_THREAT),
            (46, "Ojalá alguien acabe de una vez con {g}.", HATE_THREAT), (47, "¿Por qué {g} son siempre tan repugnantes?", HATE),
            (48, "Para mí está claro que {g} son inferiores.", HATE), (49, "No queremos a {g} en este barrio, nunca.", HATE),
            (50, "No soporto a {g} ni un minuto más.", HATE), (51, "Ayer estuve con {g} del barrio, y la verdad es que son basura.", HATE),
            (52, "Ayer hablé de {g} con mi tío. Son una lacra, lo tengo claro.", HATE),
            (53, "{G} son una puta vergüenza para este país.", HATE), (54, "{G} son escroia.", HATE), (55, "{G} son basra.", HATE),
            (56, "{G} son como p a r á s i t o s.", HATE), (57, "{G} son un4 pl4g4.", HATE), (58, "Odio a {g}, sonunaplaga.", HATE),
            (59, "{G} son gentuza, que se larguen.", HATE), (60, "{G} valen menos que un perro.", HATE),
            (61, "{G} no son escoria.", BENIGN), (62, "No creo que {g} sean inferiores a nadie.", BENIGN),
            (63, "Jamás diría que {g} son una plaga.", BENIGN), (64, "{G} celebran su fiesta este fin de semana en la plaza.", BENIGN),
            (65, "{G} llevan siglos viviendo en esta ciudad.", BENIGN), (66, "{G} son gente maravillosa y muy valiente.", BENIGN),
            (67, "Me encanta trabajar con {g}.", BENIGN), (68, "Si alguien escribe «{g} son basura», hay que contestarle.", BENIGN),
            (69, "Escribir que {g} son animales es puro racismo.", BENIGN),
            (70, "Es indignante leer que {g} deberían morir.", BENIGN), (71, "N0 odio a {g}, son mis vecinos.", BENIGN),
            (72, "¿Qué piensan {g} sobre las elecciones?", BENIGN), (73, "Tengo muchos amigos entre {g}, y estoy orgulloso de ellos.", BENIGN),
            (74, "Como parte de {g}, me siento orgulloso de quien soy.", BENIGN),
            (75, "Odio los lunes, son una mierda.", PROFANE_BENIGN), (76, "Las cucarachas son una plaga asquerosa.", NOT_HATE),
            (77, "Los políticos corruptos son una lacra.", NOT_HATE), (78, "Mi jefe es un imbécil, no lo soporto.", NOT_HATE_INSULT),
            (79, "Este móvil es una basura, no funciona nunca.", NOT_HATE), (80, "Joder, qué frío hace hoy.", PROFANE_BENIGN),
            (81, "Los aficionados del equipo rival son unos pesados.", NOT_HATE), (82, "Qué puta pasada de concierto.", PROFANE_BENIGN),
            (83, "Hay que encerrar a {g} en campos.", HATE_THREAT), (84, "Deberíamos colgar a {g} en la plaza.", HATE_THREAT),
        ],
        "insults": ["idiota", "imbécil", "cerdo asqueroso", "inútil de mierda", "gilipollas", "desgraciado"],
        "threats": ["te voy a matar", "te voy a partir la cara", "te voy a apuñalar", "te voy a pegar un tiro",
                    "vas a acabar en una zanja"],
    },
    "it": {
        "groups": ["le donne", "i musulmani", "gli ebrei", "gli immigrati", "i gay", "le persone trans",
                   "le persone nere", "i rifugiati", "i disabili", "i rom"],
        "templates": [
            (0, "Io odio profondamente {g}.", HATE), (1, "{G} sono una piaga per la società.", HATE), (2, "{G} sono feccia e non saranno mai come noi.", HATE),
            (3, "{G} non meritano di vivere tra persone perbene.", HATE), (4, "Mi fanno schifo {g}, sono tutti uguali.", HATE),
            (5, "{G} sono parassiti che vivono con i nostri soldi.", HATE), (6, "Bisogna cacciare {g} da questo paese.", HATE),
            (7, "Bisognerebbe sterminare {g}.", HATE_THREAT), (8, "{G} dovrebbero morire tutti.", HATE_THREAT),
            (9, "Un giorno bruceremo le case di {g}.", HATE_THREAT),
            (10, "Voglio bene a {g}, fanno parte della nostra comunità.", BENIGN), (11, "{G} meritano lo stesso rispetto di chiunque.", BENIGN),
            (12, "{G} hanno gli stessi diritti di tutti.", BENIGN), (13, "Dire che {g} sono feccia è vergognoso.", BENIGN),
            (14, "Non odio {g}, anzi.", BENIGN), (15, "Oggi ho letto un articolo su {g} in Europa.", BENIGN),
            (16, "Il razzismo contro {g} deve finire.", BENIGN),
            (20, "Sei un {i}.", INSULT), (21, "Stai zitto, {i}, nessuno ti sopporta.", INSULT),
            (22, "Sei un {i} e {t}.", INSULT_THREAT), (23, "So dove abiti, {t}.", THREAT),
            (24, "Ascoltami bene, {t}.", THREAT), (25, "{T}, vedrai.", THREAT),
            (30, "Cazzo, che bella partita!", PROFANE_BENIGN), (31, "Questo fine settimana mi ammazzo di studio.", BENIGN),
            (32, "Sei un'amica fantastica, grazie per l'aiuto.", BENIGN), (33, "Domani andiamo al mare con i bambini.", BENIGN),
            (34, "Quella battuta mi ha fatto morire dal ridere.", BENIGN),
        ],
        "insults": ["idiota", "imbecille", "porco schifoso", "buono a nulla", "coglione", "disgraziato"],
        "threats": ["ti ammazzo", "ti spacco la faccia", "ti accoltello", "ti sparo", "finirai in un fosso"],
    },
    "fr": {
        "groups": ["les femmes", "les musulmans", "les juifs", "les immigrés", "les homosexuels", "les personnes trans",
                   "les Noirs", "les réfugiés", "les handicapés", "les Roms"],
        "templates": [
            (0, "J'ai la haine contre {g}.", HATE), (1, "{G} sont une plaie.", HATE), (2, "{G} sont des déchets, jamais comme nous.", HATE),
            (3, "{G} ne méritent pas de vivre parmi les gens honnêtes.", HATE), (4, "{G} me dégoûtent, tous pareils.", HATE),
            (5, "{G} sont des parasites qui vivent de notre argent.", HATE), (6, "Il faut virer {g} de ce pays.", HATE),
            (7, "Il faudrait exterminer {g}.", HATE_THREAT), (8, "{G} devraient tous crever.", HATE_THREAT),
            (9, "Un jour on brûlera les maisons de tous {g}.", HATE_THREAT),
            (10, "J'adore {g}, ils font partie de notre pays.", BENIGN), (11, "{G} méritent le même respect que tout le monde.", BENIGN),
            (12, "{G} ont les mêmes droits que tous.", BENIGN), (13, "Dire que {g} sont des déchets est honteux.", BENIGN),
            (14, "Je n'ai rien contre {g}, bien au contraire.", BENIGN), (15, "J'ai lu un article sur {g} en Europe aujourd'hui.", BENIGN),
            (16, "Le racisme envers {g} doit cesser.", BENIGN),
            (20, "T'es qu'un {i}.", INSULT), (21, "Ta gueule, {i}, personne ne te supporte.", INSULT),
            (22, "Espèce de {i}, {t}.", INSULT_THREAT), (23, "Je sais où tu habites, {t}.", THREAT),
            (24, "Écoute-moi bien, {t}.", THREAT), (25, "{T}, tu vas voir.", THREAT),
            (30, "Putain, quel match génial !", PROFANE_BENIGN), (31, "Ce week-end je me tue à réviser.", BENIGN),
            (32, "Tu es une amie formidable, merci pour ton aide.", BENIGN), (33, "Demain on va à la plage avec les enfants.", BENIGN),
            (34, "Cette blague m'a fait mourir de rire.", BENIGN),
        ],
        "insults": ["idiot", "abruti", "sale porc", "bon à rien", "connard", "minable"],
        "threats": ["je vais te tuer", "je vais te casser la gueule", "je vais te poignarder", "je vais te flinguer",
                    "tu vas finir dans un fossé"],
    },
    "de": {
        "groups": ["Frauen", "Muslime", "Juden", "Ausländer", "Schwule", "trans Menschen", "Schwarze", "Flüchtlinge",
                   "Behinderte", "Roma"],
        "templates": [
            (0, "Ich kann {g} nicht ausstehen, ich hasse sie.", HATE), (1, "{G} sind eine Seuche für unser Land.", HATE),
            (2, "{G} sind Abschaum und werden nie wie wir sein.", HATE),
            (3, "{G} haben es nicht verdient, unter anständigen Leuten zu leben.", HATE), (4, "{G} ekeln mich an, alle gleich.", HATE),
            (5, "{G} sind Parasiten, die von unserem Geld leben.", HATE), (6, "{G} müssen raus aus diesem Land.", HATE),
            (7, "Man sollte {g} ausrotten.", HATE_THREAT), (8, "{G} sollten alle verrecken.", HATE_THREAT),
            (9, "Eines Tages zünden wir die Häuser der {g} an.", HATE_THREAT),
            (10, "Ich mag {g}, sie gehören zu unserem Land.", BENIGN), (11, "{G} verdienen denselben Respekt wie alle anderen.", BENIGN),
            (12, "{G} haben die gleichen Rechte wie alle.", BENIGN), (13, "Zu sagen, {g} seien Abschaum, ist widerlich.", BENIGN),
            (14, "Ich habe nichts gegen {g}, im Gegenteil.", BENIGN), (15, "Heute habe ich einen Artikel über {g} in Europa gelesen.", BENIGN),
            (16, "Der Hass auf {g} muss aufhören.", BENIGN),
            (20, "Du bist ein {i}.", INSULT), (21, "Halt's Maul, du {i}, keiner kann dich leiden.", INSULT),
            (22, "Du {i}, {t}.", INSULT_THREAT), (23, "Ich weiß, wo du wohnst, {t}.", THREAT),
            (24, "Hör mir gut zu, {t}.", THREAT), (25, "{T}, wirst schon sehen.", THREAT),
            (30, "Scheiße, was für ein geiles Spiel!", PROFANE_BENIGN), (31, "Dieses Wochenende lerne ich mich tot.", BENIGN),
            (32, "Du bist eine tolle Freundin, danke für deine Hilfe.", BENIGN), (33, "Morgen fahren wir mit den Kindern an den Strand.", BENIGN),
            (34, "Bei dem Witz habe ich mich totgelacht.", BENIGN),

            # Functional forms added in session 5 (written here; checked against Multilingual HateCheck
            # by tests/test_toxicity_multilingual.py: no normalised exact copy).
            (40, "Mir wird schlecht, wenn ich {g} nur sehe.", HATE), (41, "{G} sind alle Diebe und Lügner.", HATE),
            (42, "{G} sind hirnlose Tiere.", HATE), (43, "{G} sind keine Menschen, sondern Ratten.", HATE),
            (44, "Seit hier so viele {g} wohnen, ist das Viertel nicht mehr lebenswert.", HATE),
            (45, "Ich werde alle {g} fertigmachen, die mir begegnen.", HATE_THREAT),
            (46, "Hoffentlich macht endlich jemand Schluss mit {g}.", HATE_THREAT), (47, "Warum sind {g} immer so widerlich?", HATE),
            (48, "Für mich ist klar, dass {g} minderwertig sind.", HATE), (49, "{G} werden in diesem Viertel nie willkommen sein.", HATE),
            (50, "Ich ertrage {g} keine Minute länger.", HATE), (51, "Gestern habe ich ein paar {g} kennengelernt, und die sind echt Dreck.", HATE),
            (52, "Gestern ging es mit meinem Onkel um {g}. Die sind ein Geschwür, das steht fest.", HATE),
            (53, "{G} sind eine verdammte Schande für dieses Land.", HATE), (54, "{G} sind Abshcaum.", HATE), (55, "{G} sind Abschum.", HATE),
            (56, "{G} sind wie P a r a s i t e n.", HATE), (57, "{G} sind 3ine Pl4ge.", HATE), (58, "Ich hasse {g}, dassindParasiten.", HATE),
            (59, "{G} sind Gesindel, sollen sie doch verschwinden.", HATE), (60, "{G} sind weniger wert als ein Hund.", HATE),
            (61, "{G} sind kein Abschaum.", BENIGN), (62, "Ich glaube nicht, dass {g} weniger wert sind als andere.", BENIGN),
            (63, "Ich würde nie sagen, dass {g} eine Plage sind.", BENIGN), (64, "{G} feiern dieses Wochenende ein Fest auf dem Marktplatz.", BENIGN),
            (65, "{G} leben schon seit Jahrhunderten in dieser Stadt.", BENIGN), (66, "{G} sind wunderbare und mutige Leute.", BENIGN),
            (67, "Ich arbeite sehr gern mit {g} zusammen.", BENIGN), (68, "Wenn jemand schreibt „{g} sind Dreck“, muss man widersprechen.", BENIGN),
            (69, "Zu schreiben, {g} seien Tiere, ist blanker Rassismus.", BENIGN),
            (70, "Es ist empörend zu lesen, dass {g} sterben sollten.", BENIGN), (71, "Ich h4sse {g} nicht, das sind meine Nachbarn.", BENIGN),
            (72, "Was denken {g} über die Wahl?", BENIGN), (73, "Viele meiner Freunde sind {g}, und ich bin stolz auf sie.", BENIGN),
            (74, "Wir {g} sind stolz darauf, wer wir sind.", BENIGN),
            (75, "Ich hasse Montage, die sind einfach scheiße.", PROFANE_BENIGN), (76, "Kakerlaken sind eine ekelhafte Plage.", NOT_HATE),
            (77, "Korrupte Politiker sind ein Geschwür.", NOT_HATE), (78, "Mein Chef ist ein Idiot, ich ertrage ihn nicht.", NOT_HATE_INSULT),
            (79, "Dieses Handy ist Schrott, es funktioniert nie.", NOT_HATE), (80, "Verdammt, ist das heute kalt.", PROFANE_BENIGN),
            (81, "Die Fans der anderen Mannschaft nerven total.", NOT_HATE), (82, "Was für ein geiles Konzert, verdammt.", PROFANE_BENIGN),
            (83, "Man sollte {g} in Lager sperren.", HATE_THREAT), (84, "Wir sollten {g} auf dem Marktplatz aufhängen.", HATE_THREAT),
        ],
        "insults": ["Vollidiot", "Trottel", "dreckiges Schwein", "Nichtsnutz", "Arschloch", "Versager"],
        "threats": ["ich bring dich um", "ich schlag dir die Fresse ein", "ich stech dich ab", "ich knall dich ab",
                    "du landest im Straßengraben"],
    },
    "pt": {
        "groups": ["as mulheres", "os muçulmanos", "os judeus", "os imigrantes", "os gays", "as pessoas trans",
                   "as pessoas negras", "os refugiados", "as pessoas com deficiência", "os ciganos"],
        "templates": [
            (0, "Tenho ódio d{g}.", HATE), (1, "{G} são uma praga.", HATE), (2, "{G} são escória e nunca serão como nós.", HATE),
            (3, "{G} não merecem viver entre pessoas decentes.", HATE), (4, "{G} me dão nojo, são todos iguais.", HATE),
            (5, "{G} são parasitas que vivem do nosso dinheiro.", HATE), (6, "Temos que expulsar {g} deste país.", HATE),
            (7, "Era preciso exterminar {g}.", HATE_THREAT), (8, "{G} deviam morrer todos.", HATE_THREAT),
            (9, "Um dia vamos queimar as casas d{g}.", HATE_THREAT),
            (10, "Adoro {g}, fazem parte da nossa comunidade.", BENIGN), (11, "{G} merecem o mesmo respeito que qualquer pessoa.", BENIGN),
            (12, "{G} têm os mesmos direitos que todos.", BENIGN), (13, "Dizer que {g} são escória é vergonhoso.", BENIGN),
            (14, "Não tenho nada contra {g}, pelo contrário.", BENIGN), (15, "Hoje li uma reportagem sobre {g} na Europa.", BENIGN),
            (16, "O racismo contra {g} tem de acabar.", BENIGN),
            (20, "Você é um {i}.", INSULT), (21, "Cala a boca, {i}, ninguém te aguenta.", INSULT),
            (22, "Seu {i}, {t}.", INSULT_THREAT), (23, "Eu sei onde você mora, {t}.", THREAT),
            (24, "Escuta bem, {t}.", THREAT), (25, "{T}, você vai ver.", THREAT),
            (30, "Caralho, que jogo incrível!", PROFANE_BENIGN), (31, "Este fim de semana vou me matar de estudar.", BENIGN),
            (32, "Você é uma amiga incrível, obrigado pela ajuda.", BENIGN), (33, "Amanhã vamos à praia com as crianças.", BENIGN),
            (34, "Essa piada me matou de rir.", BENIGN),
        ],
        "insults": ["idiota", "imbecil", "porco nojento", "inútil", "filho da puta", "desgraçado"],
        "threats": ["eu vou te matar", "vou quebrar a tua cara", "vou te esfaquear", "vou te dar um tiro",
                    "você vai acabar numa vala"],
    },
    "ru": {
        # (nominative, accusative)
        "groups": [("женщины", "женщин"), ("мусульмане", "мусульман"), ("евреи", "евреев"), ("мигранты", "мигрантов"),
                   ("геи", "геев"), ("трансгендеры", "трансгендеров"), ("чернокожие", "чернокожих"),
                   ("беженцы", "беженцев"), ("инвалиды", "инвалидов"), ("цыгане", "цыган")],
        "templates": [
            (0, "Я ненавижу {ga}.", HATE), (1, "{G} — это чума.", HATE), (2, "{G} — отбросы и никогда не станут такими, как мы.", HATE),
            (3, "{G} не заслуживают жить среди нормальных людей.", HATE), (4, "{G} мне противны, все одинаковые.", HATE),
            (5, "{G} — паразиты, которые живут на наши деньги.", HATE), (6, "{Ga} надо выгнать из этой страны.", HATE),
            (7, "{Ga} надо уничтожить.", HATE_THREAT), (8, "Пусть {g} все сдохнут.", HATE_THREAT),
            (9, "Однажды мы сожжём дома, где живут {g}.", HATE_THREAT),
            (10, "Я люблю {ga}, они часть нашего общества.", BENIGN), (11, "{G} заслуживают такого же уважения, как все.", BENIGN),
            (12, "У {ga} такие же права, как у всех.", BENIGN), (13, "Говорить, что {g} — отбросы, отвратительно.", BENIGN),
            (14, "Я ничего не имею против {ga}, наоборот.", BENIGN), (15, "Сегодня я прочитал статью о том, как живут {g} в Европе.", BENIGN),
            (16, "Ненависть к таким людям, как {g}, должна закончиться.", BENIGN),
            (20, "Ты {i}.", INSULT), (21, "Заткнись, {i}, тебя никто не выносит.", INSULT),
            (22, "Ты {i}, {t}.", INSULT_THREAT), (23, "Я знаю, где ты живёшь, {t}.", THREAT),
            (24, "Слушай внимательно, {t}.", THREAT), (25, "{T}, вот увидишь.", THREAT),
            (30, "Блин, какой классный матч!", PROFANE_BENIGN), (31, "В эти выходные я убьюсь на учёбе.", BENIGN),
            (32, "Ты замечательная подруга, спасибо за помощь.", BENIGN), (33, "Завтра мы с детьми поедем на море.", BENIGN),
            (34, "Эта шутка меня просто убила, я смеялся весь вечер.", BENIGN),
        ],
        "insults": ["идиот", "дебил", "грязная свинья", "ничтожество", "мразь", "урод"],
        "threats": ["я тебя прикончу", "я тебе разобью лицо", "я тебя зарежу", "я тебя пристрелю", "тебя найдут в канаве"],
    },
}
ORDER = ("es", "it", "fr", "de", "pt", "ru")
_PER_TEMPLATE = 8  # distinct fillings per template


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(language: str, template: str, rng: random.Random) -> list[str]:
    spec = LANGUAGES[language]
    if "{g" in template.lower():
        groups = list(spec["groups"])
        rng.shuffle(groups)
        out = []
        for group in groups[:_PER_TEMPLATE]:
            nominative, accusative = group if isinstance(group, tuple) else (group, group)
            text = template.replace("{G}", _capital(nominative)).replace("{Ga}", _capital(accusative))
            text = text.replace("{g}", nominative).replace("{ga}", accusative)
            out.append(text)
        return out
    if "{i}" in template or "{t}" in template.lower():
        combos = [(i, t) for i in spec["insults"] for t in spec["threats"]]
        rng.shuffle(combos)
        out = []
        for insult, threat in combos:
            text = template.replace("{i}", insult).replace("{T}", _capital(threat)).replace("{t}", threat)
            if text not in out:
                out.append(text)
            if len(out) == _PER_TEMPLATE:
                break
        return out
    return [template]


def template_cases() -> list[tuple[str, dict[str, int], int, str]]:
    """Deterministic (text, labels, template_id, split) rows; split is 'train' or 'heldout'."""
    rng = random.Random(_SEED)
    rows = []
    for index, language in enumerate(ORDER):
        for local_id, template, labels in LANGUAGES[language]["templates"]:
            template_id = 1000 * (index + 1) + local_id
            split = "heldout" if template_id % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else "train"
            for text in _fill(language, template, rng):
                rows.append((text, dict(labels), template_id, split))
    return rows


def template_language(template_id: int) -> str:
    return ORDER[template_id // 1000 - 1]


if __name__ == "__main__":
    import collections

    cases = template_cases()
    print(len(cases), collections.Counter(split for *_, split in cases))
    print(collections.Counter(template_language(t) for _, _, t, _ in cases))
    print(dict(collections.Counter(c for _, labels, _, _ in cases for c, v in labels.items() if v)))
