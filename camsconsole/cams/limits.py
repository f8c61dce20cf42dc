"""Documented per-account QPS limits of the CAMS operations the console calls.

Where sources disagree (reference §3.1) the issue tracker settled on: SendChatappMessage 250,
CreateChatappTemplate 50, ListChatappTemplate 5. Accounts copy these as their editable defaults,
and the sandbox enforces them unless told otherwise.
"""

DOCUMENTED_QPS: dict[str, int] = {
    "SendChatappMessage": 250,
    "SendChatappMassMessage": 10,
    "CreateChatappTemplate": 50,
    "ModifyChatappTemplate": 50,
    "GetChatappTemplateDetail": 150,
    "ListChatappTemplate": 5,
    "DeleteChatappTemplate": 5,
    "QueryChatappPhoneNumbers": 10,
    "ListChatappMessage": 50,
}

# At most this many recipients in one SendChatappMassMessage SenderList.
MASS_SEND_MAX_RECIPIENTS = 1000
