import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from camsconsole import actions
from camsconsole.audit import SYSTEM
from camsconsole.forms import UserForm
from camsconsole.roles import Role


class Command(BaseCommand):
    help = "Create a console user with a role (admin, operator or viewer)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=[r.group_name for r in Role], required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the password from this environment variable instead of prompting",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"{options['password_env']} is empty or unset")
        else:
            password = getpass.getpass("Password: ")
        form = UserForm(
            {
                "username": options["username"],
                "email": options["email"],
                "role": options["role"],
                "password": password,
            },
            instance=get_user_model()(),
        )
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
            raise CommandError(problems)
        user = actions.save_user(SYSTEM, form, form.cleaned_data["role"], password)
        self.stdout.write(f"Created {user.username} ({options['role']}).")
