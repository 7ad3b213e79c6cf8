"""`python -m bench.sync_then_and_now` refuses what it cannot run with a sentence, before starting anything."""

from __future__ import annotations

import pytest

from bench import sync_then_and_now


def test_a_commit_outside_the_history_is_refused_with_a_sentence():
    with pytest.raises(SystemExit, match="is not in this clone's history"):
        sync_then_and_now.sync_before("0123456789abcdef0123456789abcdef01234567", days=1, latency=0.1)


def test_the_order_must_name_both_runs_once(capsys):
    with pytest.raises(SystemExit) as e:
        sync_then_and_now.main(["--order", "now,now"])
    assert e.value.code == 2
    assert "--order must name before and now once each" in capsys.readouterr().err


def test_the_default_before_commit_is_in_this_history():
    """The committed comparison names a commit this repository holds, so a full clone can run it again."""
    import subprocess

    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=sync_then_and_now.ROOT, capture_output=True, text=True
    )
    if shallow.returncode != 0 or shallow.stdout.strip() != "false":
        pytest.skip("not a full git clone: the history the comparison needs is not here")
    commit = sync_then_and_now.BEFORE_STREAMING
    assert subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=sync_then_and_now.ROOT).returncode == 0
