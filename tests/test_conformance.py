"""The official Jupyter kernel conformance suite (jupyter-kernel-test) for Kiln."""

import unittest

import jupyter_kernel_test as jkt


class KilnKernelTests(jkt.KernelTests):
    kernel_name = "kiln"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "'abc'.up", "matches": {"upper"}},
        {"text": "import ope", "matches": {"operator"}},
    ]

    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2\n", "for i in range(3):"]
    invalid_code_samples = ["import = 7q", "x = )"]

    code_page_something = "print?"

    code_generate_error = "raise ValueError('boom')"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
        {"code": "class H:\n    def _repr_html_(self): return '<b>h</b>'\nH()", "mime": "text/html"},
    ]

    code_display_data = [
        {"code": "display({'text/html': '<b>x</b>'}, raw=True)", "mime": "text/html"},
        {
            "code": "class S:\n    def _repr_svg_(self): return '<svg></svg>'\ndisplay(S())",
            "mime": "image/svg+xml",
        },
        {"code": "display(42)", "mime": "text/plain"},
    ]

    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "zip"

    code_clear_output = "from _kiln import clear_output; clear_output()"


class KilnIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "kiln"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
