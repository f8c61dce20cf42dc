"""RQ jobs of the core app. Each takes ids and calls into a domain module or an action."""

from camsconsole import actions
from camsconsole.models import Account


def check_connection(account_id: int) -> None:
    actions.finish_connection_check(Account.objects.get(pk=account_id))
