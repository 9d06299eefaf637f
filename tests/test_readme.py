"""The README's compatibility table names, for each row, the test that keeps
it true; every named test must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_test_the_compatibility_table_names_exists():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Compatibility", 1)[1].split("\n## ", 1)[0]
    cited = re.findall(r"`([\w/.]+)::(\w+)`", table)
    assert len(cited) >= 10, cited
    for path, name in cited:
        source = (ROOT / path).read_text()
        definition = rf"^\s*def {name}\(" if path.endswith(".py") else rf"^fn {name}\("
        assert re.search(definition, source, re.MULTILINE), f"{path}::{name} is not defined"
