"""A step run on a server as root by pulumi-command: a script from render/scripts/, again
whenever the server is replaced (`triggers`)."""

from __future__ import annotations

import pulumi
import pulumi_command as command


def remote_step(
    name: str,
    *,
    connection: command.remote.ConnectionArgs,
    create: pulumi.Input[str],
    server_id: pulumi.Input[str],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
    stdin: pulumi.Input[str] | None = None,
    delete: str | None = None,
    timeout: str = "10m",
) -> command.remote.Command:
    """`create` (and `delete`): the scripts; `stdin`: what they read, typically secrets."""
    return command.remote.Command(
        name,
        connection=connection,
        create=create,
        delete=delete,
        stdin=stdin,
        # Output may carry what came in on stdin; keep it out of the logs, and secret in state.
        logging=command.remote.Logging.NONE if stdin is not None else None,
        # Else every rerun asks sshd to set PULUMI_COMMAND_STDOUT, which it refuses (AcceptEnv).
        add_previous_output_in_env=False,
        triggers=[server_id],
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=after,
            additional_secret_outputs=["stdout", "stderr"] if stdin is not None else None,
            custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
        ),
    )
