"""The Python example of misp-ffi/README.md runs as written."""

import os
import re

from conftest import ROOT


def test_readme_example_runs(capsys):
    readme = (ROOT / "misp-ffi" / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"^```python\n(.*?)^```$", readme, flags=re.S | re.M)
    cwd = os.getcwd()
    os.chdir(ROOT)  # the example's paths are relative to the repository root
    try:
        exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "MISP would refuse it:" in out
    assert "cidr 10.0.0.0/8" in out
    assert "misp-correlate 0.1.0" in out
