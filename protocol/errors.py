"""Framing violations raised by the parsers. Command-level errors live in server/errors.py."""


class ProtocolError(Exception):
    """The peer broke the framing rules; the connection is answered (if `reply`) and closed.

    `text` is the message without its code, as Redis writes it after `-ERR `
    (for example "Protocol error: invalid bulk length").
    """

    def __init__(self, text: str, *, reply: bool = True) -> None:
        super().__init__(text)
        self.text = text
        self.reply = reply
