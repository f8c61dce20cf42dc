"""The error codes a campaign recipient can end with, what they mean, and which are worth a retry.

Three sources: CAMS's own codes (camsconsole.cams.errors words them), the console's `Console.*`
codes for refusals made before any call, and the channel's delivery codes that come in Failed
receipts (reference §5.3). The latter are Meta's WhatsApp codes, not CAMS's; their wording here
paraphrases Meta's public error-code list.

"Retry failed" sends again only recipients whose code says the failure was about the moment, not
the recipient or the message: throttling that outlasted our retries, CAMS unreachable, a sender
that was disabled, and Meta's rate-limit and temporary-unavailability codes.
"""

from camsconsole.cams import errors

SUPPRESSED = "Console.Suppressed"
DISABLED = "Console.SenderDisabled"
GAVE_UP = "Console.GaveUp"
CANCELLED = "Console.Cancelled"
SKIPPED = "Console.Skipped"
WORKER_LOST = "Console.WorkerLost"
NOT_IN_HISTORY = "Console.NotInHistory"

MEANINGS: dict[str, str] = {
    SUPPRESSED: "The recipient is on the suppression list of this number; nothing was sent.",
    DISABLED: "The sender, its channel or its account was disabled; nothing was sent.",
    GAVE_UP: "CAMS kept refusing for now (throttling or unreachable) until we stopped trying.",
    CANCELLED: "The campaign was cancelled before this recipient's turn; nothing was sent.",
    SKIPPED: "The outcome was unknown and an operator chose not to send again.",
    WORKER_LOST: "The worker stopped during the call to CAMS; the outcome is unknown.",
    NOT_IN_HISTORY: (
        "CAMS's message history does not show this message; it probably never went out."
    ),
    "130429": "WhatsApp's throughput limit for the number was reached.",
    "131000": "WhatsApp reported an unexpected error.",
    "131016": "A WhatsApp service was temporarily unavailable.",
    "131021": "The recipient is the sender's own number.",
    "131026": "The recipient cannot receive this message (no WhatsApp, old app, or terms).",
    "131031": "The business account is locked.",
    "131042": "The business account has a payment problem.",
    "131047": "More than 24 hours passed since the user last wrote; only templates may be sent.",
    "131049": "WhatsApp did not deliver it to keep engagement healthy; try later.",
    "131050": "The user stopped marketing messages from this business.",
    "131051": "WhatsApp does not support this message type.",
    "131056": "Too many messages from this number to this user in a short time.",
    "132000": "The number of template variables does not match the template.",
    "132001": "The template does not exist in this language, or is not approved.",
    "132005": "The message is too long once the variables are filled in.",
    "132007": "The template's content breaks WhatsApp's format or policy.",
    "132012": "A variable's value has the wrong format for the template.",
    "132015": "The template is paused for low quality.",
    "132016": "The template is disabled for low quality.",
    "133004": "The WhatsApp server was temporarily unavailable.",
    "133010": "The sender's phone number is not registered on WhatsApp.",
    "368": "The business account is temporarily blocked for policy violations.",
}

RETRYABLE = frozenset(
    {
        GAVE_UP,
        DISABLED,
        errors.UNREACHABLE,
        "System.LimitControl",
        "130429",
        "131000",
        "131016",
        "131049",
        "131056",
        "133004",
    }
)


def bare(code: str) -> str:
    """A receipt's code as we keep it: Meta's descriptions look like '131026:Receiver ...'."""
    return code.split(":", 1)[0].strip()


def meaning(code: str) -> str:
    return MEANINGS.get(bare(code), "")


def retryable(code: str) -> bool:
    return bare(code) in RETRYABLE or errors.is_throttling(code)
