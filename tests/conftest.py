"""Shared fixtures: a Kiln kernel started from the installed kernelspec."""

import pytest
from jupyter_client.manager import start_new_kernel

KERNEL_NAME = "kiln"


@pytest.fixture
def kernel():
    """A fresh kernel and a blocking client, shut down after the test."""
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc, code, timeout=30, **kwargs):
    """Executes code; returns (reply content, [(msg_type, content), ...])."""
    outputs = []

    def hook(msg):
        if msg["msg_type"] not in ("status", "execute_input"):
            outputs.append((msg["msg_type"], msg["content"]))

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout, **kwargs)
    return reply["content"], outputs


def stdout_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def stderr_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")
