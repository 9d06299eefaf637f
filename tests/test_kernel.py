"""End-to-end behaviour of the Kiln kernel through jupyter_client."""

import os
import signal
import tempfile
import time

from jupyter_client.session import Session

from conftest import run_cell, started_kernel, stderr_of, stdout_of


def wait_busy(kc, timeout=10):
    """Waits until the running cell has started (its execute_input arrived)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "execute_input":
            return
    raise AssertionError("cell never started")


def interrupt_takes(km, kc, code):
    """Starts a long cell, interrupts it; returns (seconds to stop, reply)."""
    msg_id = kc.execute(code)
    wait_busy(kc)
    time.sleep(0.3)
    start = time.time()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    return time.time() - start, reply["content"]


def test_state_survives_across_cells_and_errors(kernel):
    _, kc = kernel
    run_cell(kc, "x = 41")
    reply, _ = run_cell(kc, "undefined_name")
    assert reply["status"] == "error"
    assert reply["ename"] == "NameError"
    reply, outputs = run_cell(kc, "x + 1")
    assert reply["status"] == "ok"
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["42"]


def test_traceback_shows_the_cell_line(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "def f():\n    return 1 / 0\n\nf()")
    assert reply["ename"] == "ZeroDivisionError"
    error = [c for t, c in outputs if t == "error"][0]
    text = "\n".join(error["traceback"])
    assert "Cell In[" in text
    assert "return 1 / 0" in text
    assert "\x1b[" in text  # coloured
    assert text.rstrip().endswith("division by zero")


def test_syntax_error_points_at_the_cell(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "x = (1,\ny = 2)")
    assert reply["ename"] == "SyntaxError"
    text = "\n".join([c for t, c in outputs if t == "error"][0]["traceback"])
    assert "Cell In[" in text
    assert "ast.py" not in text


def test_interrupt_a_busy_loop(kernel):
    km, kc = kernel
    took, reply = interrupt_takes(km, kc, "while True:\n    pass")
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    assert took < 0.5
    reply, outputs = run_cell(kc, "print('alive')")
    assert stdout_of(outputs) == "alive\n"


def test_interrupt_time_sleep(kernel):
    km, kc = kernel
    took, reply = interrupt_takes(km, kc, "import time\ntime.sleep(100)")
    assert reply["ename"] == "KeyboardInterrupt"
    assert took < 0.5


def test_interrupt_a_shell_command(kernel):
    km, kc = kernel
    took, reply = interrupt_takes(km, kc, "!sleep 100")
    assert reply["ename"] == "KeyboardInterrupt"
    assert took < 0.5
    reply, outputs = run_cell(kc, "!echo still here")
    assert stdout_of(outputs) == "still here\n"


def test_interrupt_works_when_the_kernel_inherits_sigint_ignored():
    # A server started as a shell's background job (`jupyter lab &` in a
    # script) starts its kernels with SIGINT ignored.
    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with started_kernel(preexec_fn=ignore_sigint) as (km, kc):
        took, reply = interrupt_takes(km, kc, "import time\ntime.sleep(100)")
        assert reply["ename"] == "KeyboardInterrupt"
        assert took < 0.5


def test_restart_keeps_the_kernel_usable(kernel):
    km, kc = kernel
    run_cell(kc, "x = 1")
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    reply, _ = run_cell(kc, "x")
    assert reply["ename"] == "NameError"
    reply, outputs = run_cell(kc, "print('fresh')")
    assert stdout_of(outputs) == "fresh\n"


def test_forged_signature_is_ignored(kernel):
    _, kc = kernel
    marker = os.path.join(tempfile.mkdtemp(), "forged")
    forger = Session(key=b"not-the-kernel-key", session=kc.session.session)
    forger.send(
        kc.shell_channel.socket,
        "execute_request",
        content={
            "code": f"open({marker!r}, 'w').write('pwned')",
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    )
    unsigned = Session(key=b"", session=kc.session.session)
    unsigned.send(
        kc.shell_channel.socket,
        "execute_request",
        content={"code": f"open({marker!r}, 'w').write('pwned')", "silent": False},
    )
    time.sleep(1.0)
    reply, outputs = run_cell(kc, "print('ok')")
    assert stdout_of(outputs) == "ok\n"
    assert not os.path.exists(marker)


def test_input_over_stdin(kernel):
    _, kc = kernel
    msg_id = kc.execute("name = input('Who? ')\nprint('hi', name)", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["msg_type"] == "input_request"
    assert request["content"]["prompt"] == "Who? "
    assert request["content"]["password"] is False
    kc.input("Ada")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "ok"
    reply, outputs = run_cell(kc, "name")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["'Ada'"]


def test_getpass_asks_for_a_password(kernel):
    _, kc = kernel
    kc.execute("import getpass\nsecret = getpass.getpass()", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["content"]["password"] is True
    kc.input("s3cret")
    assert kc.get_shell_msg(timeout=10)["content"]["status"] == "ok"


def test_input_without_stdin_is_a_clear_error(kernel):
    _, kc = kernel
    reply, _ = run_cell(kc, "input()", allow_stdin=False)
    assert reply["ename"] == "StdinNotImplementedError"


def test_output_from_a_background_thread(kernel):
    _, kc = kernel
    reply, outputs = run_cell(
        kc,
        "import threading\n"
        "t = threading.Thread(target=lambda: print('from thread'))\n"
        "t.start(); t.join()",
    )
    assert reply["status"] == "ok"
    assert "from thread" in stdout_of(outputs)


def test_prints_stream_while_the_cell_runs(kernel):
    _, kc = kernel
    kc.execute("import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second')")
    first_at = None
    start = time.time()
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["msg_type"] == "stream" and "first" in msg["content"]["text"]:
            first_at = time.time() - start
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert first_at is not None and first_at < 1.0


def test_display_protocol_objects(kernel):
    _, kc = kernel
    code = (
        "class Rich:\n"
        "    def _repr_html_(self): return '<i>rich</i>'\n"
        "    def _repr_markdown_(self): return '**rich**'\n"
        "    def _repr_png_(self): return b'\\x89PNG'\n"
        "    def _repr_json_(self): return {'a': 1}\n"
        "    def __repr__(self): return 'Rich()'\n"
        "class Bundle:\n"
        "    def _repr_mimebundle_(self, include=None, exclude=None):\n"
        "        return {'text/plain': 'B', 'application/vnd.kiln+json': {'x': 1}}\n"
        "display(Bundle())\n"
        "Rich()"
    )
    reply, outputs = run_cell(kc, code)
    assert reply["status"] == "ok"
    shown = [c for t, c in outputs if t == "display_data"][0]["data"]
    assert shown == {"text/plain": "B", "application/vnd.kiln+json": {"x": 1}}
    result = [c for t, c in outputs if t == "execute_result"][0]["data"]
    assert result["text/html"] == "<i>rich</i>"
    assert result["text/markdown"] == "**rich**"
    assert result["image/png"] == "iVBORw=="
    assert result["application/json"] == {"a": 1}
    assert result["text/plain"] == "Rich()"


def test_ipython_display_functions_publish_through_kiln(kernel):
    _, kc = kernel
    reply, outputs = run_cell(
        kc,
        "from IPython.display import display, HTML, Markdown, clear_output\n"
        "display(HTML('<b>hi</b>'), Markdown('*md*'))\n"
        "clear_output(wait=True)",
    )
    assert reply["status"] == "ok"
    shown = [c["data"] for t, c in outputs if t == "display_data"]
    assert shown[0]["text/html"] == "<b>hi</b>"
    assert shown[1]["text/markdown"] == "*md*"
    assert [c for t, c in outputs if t == "clear_output"] == [{"wait": True}]


def test_update_display_data(kernel):
    _, kc = kernel
    reply, outputs = run_cell(
        kc, "h = display('one', display_id='progress')\nh.update('two')\nh.display_id"
    )
    assert reply["status"] == "ok"
    shown = [c for t, c in outputs if t == "display_data"][0]
    updated = [c for t, c in outputs if t == "update_display_data"][0]
    assert shown["transient"]["display_id"] == "progress"
    assert updated["transient"]["display_id"] == "progress"
    assert updated["data"]["text/plain"] == "'two'"


def test_a_rust_panic_does_not_kill_the_kernel(kernel):
    _, kc = kernel
    run_cell(kc, "kept = 'still here'")
    reply, outputs = run_cell(kc, "import _kiln\n_kiln._test_panic('provoked by the test')")
    assert reply["status"] == "error"
    assert reply["ename"] == "KilnInternalError"
    assert "provoked by the test" in reply["evalue"]
    reply, outputs = run_cell(kc, "print(kept)")
    assert stdout_of(outputs) == "still here\n"


def test_shell_commands_and_captures(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "name = 'kiln'\n!echo hello {name} $name")
    assert stdout_of(outputs) == "hello kiln kiln\n"
    reply, outputs = run_cell(kc, "!exit 3")
    assert "status 3" in stderr_of(outputs)
    reply, outputs = run_cell(kc, "lines = !printf 'a\\nb\\n'\nlines")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["['a', 'b']"]


def test_cell_magics_and_timing(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "%%bash\nfor i in 1 2; do echo line $i; done")
    assert stdout_of(outputs) == "line 1\nline 2\n"
    reply, outputs = run_cell(kc, "%time y = sum(range(1000))")
    assert "CPU times: user" in stdout_of(outputs) and "Wall time:" in stdout_of(outputs)
    reply, outputs = run_cell(kc, "%timeit -n 10 -r 2 sum(range(10))")
    assert "per loop (mean ± std. dev. of 2 runs, 10 loops each)" in stdout_of(outputs)
    reply, outputs = run_cell(kc, "%%time\nz = 2\nz * 21")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["42"]


def test_pwd_cd_env_who(kernel):
    _, kc = kernel
    tmp = tempfile.mkdtemp()
    reply, outputs = run_cell(kc, f"%cd {tmp}")
    assert stdout_of(outputs).strip() == os.path.realpath(tmp)
    reply, outputs = run_cell(kc, "%pwd")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == [
        repr(os.path.realpath(tmp))
    ]
    reply, outputs = run_cell(kc, "%env KILN_E2E=yes")
    assert stdout_of(outputs) == "env: KILN_E2E=yes\n"
    reply, outputs = run_cell(kc, "import os\nos.environ['KILN_E2E']")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["'yes'"]
    reply, outputs = run_cell(kc, "alpha = 1\nbeta = 2\n%who")
    assert "alpha\tbeta" in stdout_of(outputs)


def test_unknown_magic_lists_the_known_ones(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "%nosuchmagic")
    assert reply["ename"] == "UsageError"
    assert "%nosuchmagic" in reply["evalue"] and "%timeit" in reply["evalue"]


def test_help_syntax_pages_the_docstring(kernel):
    _, kc = kernel
    reply, _ = run_cell(kc, "len?")
    page = reply["payload"][0]
    assert page["source"] == "page"
    assert "Return the number of items" in page["data"]["text/plain"]


def test_semicolon_suppresses_the_result_and_underscore_keeps_it(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "7 * 6;")
    assert not [t for t, _ in outputs if t == "execute_result"]
    run_cell(kc, "7 * 6")
    reply, outputs = run_cell(kc, "_ + 0")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["42"]


def test_top_level_await(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, "import asyncio\nawait asyncio.sleep(0)\n'awaited'")
    assert [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"] == ["'awaited'"]


def test_completion_of_attributes_keywords_and_paths(kernel):
    _, kc = kernel
    run_cell(kc, "def report(year, month): pass")
    kc.complete("report(ye", 9)
    matches = kc.get_shell_msg(timeout=10)["content"]["matches"]
    assert any(m.startswith("year") for m in matches)
    kc.complete("%ti", 3)
    assert set(kc.get_shell_msg(timeout=10)["content"]["matches"]) >= {"%time", "%timeit"}


def test_run_all_stops_at_the_first_error(kernel):
    _, kc = kernel
    first = kc.execute("import time\ntime.sleep(0.3)\nraise RuntimeError('stop here')")
    second = kc.execute("print('should not run')")
    replies = {}
    while len(replies) < 2:
        msg = kc.get_shell_msg(timeout=10)
        replies[msg["parent_header"]["msg_id"]] = msg["content"]["status"]
    assert replies[first] == "error"
    assert replies[second] == "aborted"
