"""Post texts from the project's own templates and vocabularies.

Every text is assembled here from the sentences below (written for this
project; no third-party post text is used), so each carries its truth label:
``disclosure`` (a first-person account; ``first_time`` ones say so),
``support``, ``news`` (informational), ``opposition`` (backlash) and
``other``; background chatter uses the ``chatter`` sentences. Hashtags are
appended or prepended; :func:`compose` returns the text together with each
hashtag's character offsets so the writers can make exact entities/facets.
"""

from __future__ import annotations

import random

_SLOTS = {
    "en": {
        "who": ["a manager", "my coach", "a director", "a professor", "a coworker", "my landlord",
                "a producer", "an editor", "a doctor", "a client"],
        "where": ["at work", "at a party", "on set", "in an office", "on a bus", "at school",
                  "at a festival", "in a hotel lobby"],
        "when": ["years ago", "when I was 19", "last spring", "in my first job", "in college",
                 "twice", "a long time ago"],
        "outlet": ["The Daily Ledger", "Metro Wire", "City Courier", "The Evening Post", "Global Desk"],
    },
    "fr": {
        "who": ["un chef", "mon entraîneur", "un collègue", "un professeur", "un producteur"],
        "where": ["au travail", "à une soirée", "dans le métro", "au bureau", "à la fac"],
        "when": ["il y a des années", "à 19 ans", "l'an dernier", "à mon premier emploi"],
        "outlet": ["Le Quotidien", "Info Métropole", "La Gazette"],
    },
    "es": {
        "who": ["un jefe", "mi entrenador", "un compañero", "un profesor", "un productor"],
        "where": ["en el trabajo", "en una fiesta", "en el metro", "en la oficina", "en la universidad"],
        "when": ["hace años", "a los 19", "el año pasado", "en mi primer empleo"],
        "outlet": ["El Diario Central", "Noticias Metro", "La Crónica"],
    },
    "de": {
        "who": ["ein Chef", "mein Trainer", "ein Kollege", "ein Professor", "ein Produzent"],
        "where": ["bei der Arbeit", "auf einer Party", "in der U-Bahn", "im Büro", "an der Uni"],
        "when": ["vor Jahren", "mit 19", "letztes Jahr", "in meinem ersten Job"],
        "outlet": ["Der Tagesbote", "Stadtkurier", "Die Abendzeitung"],
    },
}

_T: dict[str, dict[str, list[str]]] = {
    "en": {
        "disclosure": [
            "It happened to me too, {when}. {who} {where}.",
            "Me too. {who}, {where}, {when}. I stayed quiet.",
            "I was harassed {where} {when} and nobody believed me.",
            "Yes, me too. {when}, by {who}.",
            "{who} cornered me {where}. I was made to feel it was my fault.",
            "I still think about what {who} did {where}.",
        ],
        "first_time": [
            "I have never told anyone this. {who}, {where}, {when}. Me too.",
            "First time saying it out loud: me too, {when}.",
            "I kept this to myself for years. {who} {where}. Me too.",
            "Never said this before. It was {who}, {when}.",
        ],
        "support": [
            "I believe you. Every single one of you.",
            "Reading these stories with a heavy heart. You are not alone.",
            "So much courage in this thread. Thank you for speaking up.",
            "If you shared your story today, I am standing with you.",
            "Listen to the people speaking up. Then do something.",
            "Proud of everyone who found their voice today.",
        ],
        "news": [
            "{outlet}: thousands share stories of harassment online.",
            "{outlet} reports the movement has spread to {num} countries.",
            "Explainer from {outlet}: where the campaign came from and what it asks.",
            "{outlet}: companies review workplace policies as stories pour in.",
            "Live updates from {outlet} on the growing campaign.",
        ],
        "opposition": [
            "This has gone too far. Accusations are not evidence.",
            "A hashtag is not a court of law.",
            "Not buying this trend. People will get hurt by false claims.",
            "Another internet mob. Wait for the facts.",
            "This campaign is just attention seeking.",
        ],
        "other": [
            "Seeing this tag everywhere today.",
            "Why is everyone posting this?",
            "Lots going on in my timeline tonight.",
            "Taking a break from the news for an hour.",
        ],
        "call": [
            "If everyone who has been harassed or assaulted wrote two words as a reply, "
            "we might show people the size of the problem.",
        ],
        "chatter": [
            "Great game last night, what a finish.",
            "New episode is out and it is wild.",
            "Coffee first, then everything else.",
            "Anyone else watching the launch later?",
            "Weekend plans: absolutely nothing.",
            "This playlist is carrying my whole day.",
            "Hot take: the sequel was better.",
            "Traffic downtown is terrible again.",
            "Just finished the book, no spoilers please.",
            "The new update broke my settings again.",
        ],
    },
    "fr": {
        "disclosure": ["Moi aussi, {when}. {who}, {where}.", "Ça m'est arrivé {where}, {when}."],
        "first_time": ["Je ne l'ai jamais dit à personne. {who}, {when}. Moi aussi."],
        "support": ["Je vous crois. Vous n'êtes pas seules.", "Merci pour votre courage aujourd'hui."],
        "news": ["{outlet} : des milliers de témoignages en ligne.", "{outlet} : le mouvement gagne {num} pays."],
        "opposition": ["Une accusation n'est pas une preuve.", "Ce mouvement va trop loin."],
        "other": ["Ce mot-clé est partout aujourd'hui.", "Que se passe-t-il ce soir ?"],
        "call": ["Si toutes celles qui ont été harcelées répondaient par deux mots, on verrait l'ampleur du problème."],
        "chatter": ["Quel match hier soir.", "Le café d'abord.", "Nouvel épisode ce soir.",
                    "Rien de prévu ce week-end."],
    },
    "es": {
        "disclosure": ["Yo también, {when}. {who}, {where}.", "Me pasó {where}, {when}."],
        "first_time": ["Nunca se lo conté a nadie. {who}, {when}. Yo también."],
        "support": ["Les creo. No están solas.", "Gracias por su valentía hoy."],
        "news": ["{outlet}: miles de testimonios en redes.", "{outlet}: el movimiento llega a {num} países."],
        "opposition": ["Una acusación no es una prueba.", "Esta campaña ya se pasó de la raya."],
        "other": ["Esta etiqueta está en todas partes hoy.", "¿Qué está pasando esta noche?"],
        "call": ["Si todas las personas acosadas respondieran con dos palabras, veríamos el tamaño del problema."],
        "chatter": ["Qué partido anoche.", "Primero el café.", "Nuevo episodio esta noche.",
                    "Nada de planes este finde."],
    },
    "de": {
        "disclosure": ["Ich auch, {when}. {who}, {where}.", "Mir ist es {where} passiert, {when}."],
        "first_time": ["Ich habe es nie jemandem erzählt. {who}, {when}. Ich auch."],
        "support": ["Ich glaube euch. Ihr seid nicht allein.", "Danke für euren Mut heute."],
        "news": ["{outlet}: Tausende teilen ihre Erfahrungen.", "{outlet}: Die Bewegung erreicht {num} Länder."],
        "opposition": ["Eine Anschuldigung ist kein Beweis.", "Diese Kampagne geht zu weit."],
        "other": ["Dieser Hashtag ist heute überall.", "Was ist heute Abend los?"],
        "call": ["Wenn alle Betroffenen mit zwei Worten antworten würden, sähe man das Ausmaß."],
        "chatter": ["Was für ein Spiel gestern.", "Erst mal Kaffee.", "Neue Folge heute Abend.",
                    "Keine Pläne am Wochenende."],
    },
}

# background hashtags per community (made up for this project)
CHATTER_TAGS = {
    "entertainment": ["NewMusicFriday", "ShowNight", "FilmFest"],
    "news_media": ["Breaking", "MorningBrief"],
    "politics": ["Budget2017", "TownHall", "VoteLocal"],
    "sports": ["GameDay", "MatchDay", "Playoffs"],
    "tech": ["LaunchDay", "DevLife", "OpenSource"],
    "academia": ["AcademicLife", "PhDLife"],
    "francophone": ["CeSoir", "Actu"],
    "hispanophone": ["BuenosDias", "Noticias"],
    "germanophone": ["Feierabend", "Nachrichten"],
}


def compose(
    rnd: random.Random,
    lang: str,
    kind: str,
    tags: list[str],
    tags_first: bool = False,
) -> tuple[str, list[tuple[str, int, int]]]:
    """A text of template ``kind`` in ``lang`` with ``tags`` placed in it.

    Returns the text and ``(tag as written, start, end)`` character offsets of
    each hashtag (start at the '#', end exclusive), like Twitter v2 entities.
    """
    table = _T.get(lang, _T["en"])
    slots = _SLOTS.get(lang, _SLOTS["en"])
    body = rnd.choice(table[kind])
    if "{" in body:
        body = body.format(
            who=rnd.choice(slots["who"]),
            where=rnd.choice(slots["where"]),
            when=rnd.choice(slots["when"]),
            outlet=rnd.choice(slots["outlet"]),
            num=rnd.randint(3, 80),
        )
        body = body[0].upper() + body[1:]
    spans: list[tuple[str, int, int]] = []
    if not tags:
        return body, spans
    if tags_first:
        parts = []
        pos = 0
        for t in tags:
            spans.append((t, pos, pos + 1 + len(t)))
            parts.append("#" + t)
            pos += len(t) + 2
        return " ".join(parts) + " " + body, spans
    text = body
    for t in tags:
        text += " "
        spans.append((t, len(text), len(text) + 1 + len(t)))
        text += "#" + t
    return text, spans
