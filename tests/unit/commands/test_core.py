"""Dispatch rules and the first commands, in-process."""

from __future__ import annotations

import logging

from protocol.resp import OK, PONG, RespError
from tests.support import Runner


def test_unknown_command_lists_its_first_arguments(run: Runner) -> None:
    assert run("FOO", "a", "b") == RespError(
        "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
    )


def test_arity_error_names_the_command_in_lower_case(run: Runner) -> None:
    assert run("GET") == RespError("ERR wrong number of arguments for 'get' command")


def test_unknown_subcommand_suggests_help(run: Runner) -> None:
    assert run("CLIENT", "FOO") == RespError("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")


def test_command_names_are_case_insensitive(run: Runner) -> None:
    assert run("ping") is PONG
    assert run("sEt", "k", "v") is OK
    assert run("get", "k") == b"v"


def test_set_ex_propagates_as_pxat(run: Runner) -> None:
    now = run.clock.now_ms()
    assert run("SET", "k", "v", "EX", "10") is OK
    assert run.feed[-1] == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\n%d\r\n" % (now + 10_000)
    )


def test_set_nx_that_changes_nothing_is_not_propagated(run: Runner) -> None:
    run("SET", "k", "v")
    sent = len(run.feed)
    assert run("SET", "k", "w", "NX") is None
    assert len(run.feed) == sent


def test_lazy_expiry_propagates_del(run: Runner) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(101)
    assert run("GET", "k") is None
    assert run.feed[-1] == b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"


def test_key_with_deadline_now_is_still_alive(run: Runner) -> None:
    run("SET", "k", "v", "PX", "100")
    run.clock.advance(100)
    assert run("GET", "k") == b"v"


def test_handler_crash_answers_err_logs_the_traceback_and_keeps_data(
    run: Runner, monkeypatch, caplog
) -> None:
    from server import dispatch
    from server.commands.table import COMMANDS

    run("SET", "k", "v")

    def boom(ctx, argv):
        raise RuntimeError("boom")

    monkeypatch.setattr(COMMANDS[b"ECHO"], "handler", boom)
    with caplog.at_level(logging.ERROR):
        assert run("ECHO", "x") == RespError("ERR internal error")
    assert len(dispatch.internal_errors) == 1
    dispatch.internal_errors.clear()
    [record] = [r for r in caplog.records if r.exc_info]
    assert "internal error running 'echo'" in record.getMessage()
    assert "RuntimeError: boom" in caplog.text  # the traceback itself
    assert run("GET", "k") == b"v"


def test_noauth_before_auth(run: Runner) -> None:
    run.app.config.set("requirepass", ["secret"])
    ctx = run.client()
    assert run("GET", "k", ctx=ctx) == RespError("NOAUTH Authentication required.")
    assert run("AUTH", "wrong", ctx=ctx) == RespError(
        "WRONGPASS invalid username-password pair or user is disabled."
    )
    assert run("AUTH", "secret", ctx=ctx) is OK
    assert run("GET", "k", ctx=ctx) is None
