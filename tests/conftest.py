"""Shared fixtures: a Kiln kernel started from the installed kernelspec."""

import time
import uuid
from contextlib import contextmanager

import pytest
from jupyter_client.manager import start_new_kernel

KERNEL_NAME = "kiln"


@contextmanager
def started_kernel(name=KERNEL_NAME, **kwargs):
    """A new kernel of the installed kernelspec `name` and a blocking client,
    shut down on leaving; kwargs go to `start_new_kernel` (env, startup_timeout, preexec_fn)."""
    km, kc = start_new_kernel(kernel_name=name, **kwargs)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    """A fresh kernel and a blocking client, shut down after the test."""
    with started_kernel() as started:
        yield started


def run_cell(kc, code, timeout=30, **kwargs):
    """Executes code; returns (reply content, [(msg_type, content), ...])."""
    outputs = []

    def hook(msg):
        if msg["msg_type"] not in ("status", "execute_input"):
            outputs.append((msg["msg_type"], msg["content"]))

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout, **kwargs)
    return reply["content"], outputs


def run_notebook_cell(kc, code, timeout=30):
    """Like run_cell, sent as JupyterLab and VS Code send a cell: with the
    cell's id in the request's metadata."""
    content = {"code": code, "silent": False, "store_history": True,
               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
    msg = kc.session.msg("execute_request", content, metadata={"cellId": str(uuid.uuid4())})
    kc.shell_channel.send(msg)
    msg_id = msg["header"]["msg_id"]
    deadline = time.monotonic() + timeout
    outputs = []
    while True:
        m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
        if m["msg_type"] not in ("status", "execute_input"):
            outputs.append((m["msg_type"], m["content"]))
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"], outputs


def stdout_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def stderr_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")
