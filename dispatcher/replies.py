"""Reading a caregiver's SMS reply: a keyword, in English or Chinese, optionally with the order code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from dispatcher.codes import ALPHABET


class Intent(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    ARRIVED = "arrived"
    DONE = "done"
    STOP = "stop"
    START = "start"
    HELP = "help"
    CONFIRM = "confirm"


KEYWORDS: dict[str, Intent] = {
    "Y": Intent.ACCEPT,
    "YES": Intent.ACCEPT,
    "1": Intent.ACCEPT,
    "接": Intent.ACCEPT,
    "接单": Intent.ACCEPT,
    "N": Intent.DECLINE,
    "NO": Intent.DECLINE,
    "2": Intent.DECLINE,
    "拒": Intent.DECLINE,
    "拒绝": Intent.DECLINE,
    "ARRIVED": Intent.ARRIVED,
    "ARRIVE": Intent.ARRIVED,
    "到达": Intent.ARRIVED,
    "到了": Intent.ARRIVED,
    "DONE": Intent.DONE,
    "完成": Intent.DONE,
    # Twilio's own opt-out and opt-in words (it acts on them too; we keep our records in step)
    "STOP": Intent.STOP,
    "STOPALL": Intent.STOP,
    "UNSUBSCRIBE": Intent.STOP,
    "CANCEL": Intent.STOP,
    "END": Intent.STOP,
    "QUIT": Intent.STOP,
    "退订": Intent.STOP,
    "START": Intent.START,
    "UNSTOP": Intent.START,
    # a caregiver confirming their planned day (Y also does, when no offer waits for an answer)
    "确认": Intent.CONFIRM,
    "CONFIRM": Intent.CONFIRM,
    "HELP": Intent.HELP,
    "INFO": Intent.HELP,
    "帮助": Intent.HELP,
}
# longest first, so that "ARRIVED" is not read as "ARRIVE" + "D"
_WORDS = "|".join(re.escape(k) for k in sorted(KEYWORDS, key=len, reverse=True))
# ARRIVED and DONE may end with the six digits of the card at the elder's home
_REPLY = re.compile(rf"^(?P<word>{_WORDS})(?P<code>[{ALPHABET}]{{6}}(?:[{ALPHABET}]{{2}})?)?(?P<card>[0-9]{{6}})?$")
_NOISE = re.compile(r"[\s!！?？.。,，;；:：#'\"“”‘’()（）\[\]【】-]+")


@dataclass(frozen=True, slots=True)
class Reply:
    intent: Intent
    code: str | None = None
    card: str | None = None


def parse(body: str) -> Reply | None:
    """The intent and order code of a reply, or None when it is not one we understand.

    Full-width letters and digits are folded (NFKC), case is ignored, and punctuation around the words
    does not matter: "y k7m3qp", "Ｙ K7M3QP", "接K7M3QP", "ARRIVED: K7M3QP!" all read; "ARRIVED K7M3QP 482915" and
    "到达 482915" carry the card code. Six digits alone may be an order code or a card code; ``inbound`` decides.
    """
    text = _NOISE.sub("", unicodedata.normalize("NFKC", body).upper())
    match = _REPLY.match(text)
    if match is None:
        return None
    intent = KEYWORDS[match["word"]]
    code, card = match["code"], match["card"]
    if card is not None and intent not in (Intent.ARRIVED, Intent.DONE):
        return None
    return Reply(intent, code, card)
