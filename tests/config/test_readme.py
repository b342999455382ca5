"""The README's partner files and admin commands work as written: its service, source and
directory examples form a valid registry, and its commands run against the demo federation."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from idp.cli import main
from idp.dictionary import load_dictionary
from idp.keys import write_key_pair
from idp.partners import load_registry
from idp.schema_errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DICTIONARY = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")


def section(heading: str) -> str:
    """The README's text from ``heading`` to the next heading of the same or a higher level
    (a ``#`` line inside a code block is not a heading)."""
    level = len(heading.split(" ")[0])
    lines = README.splitlines()
    start = lines.index(heading)
    fenced = False
    for end in range(start + 1, len(lines)):
        fenced ^= lines[end].startswith("```")
        hashes = len(lines[end]) - len(lines[end].lstrip("#"))
        if not fenced and 0 < hashes <= level and lines[end][hashes:hashes + 1] == " ":
            break
    else:
        end = len(lines)
    return "\n".join(lines[start:end]) + "\n"


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def example(heading: str) -> dict:
    [text] = blocks(section(heading), "yaml")
    return yaml.safe_load(text)


@pytest.fixture
def readme_registry(tmp_path) -> Path:
    service = example("### A service (relying party), complete")
    assert service["oidc"]["client_secret_sha256"].endswith("…")  # abbreviated in the README
    service["oidc"]["client_secret_sha256"] = "5e8848" + "0" * 58
    source = example("### An identity source, complete")
    directory = example("### An administration directory, complete")
    for name, data in (("cafat.yaml", service), ("compte-nc.yaml", source),
                       ("cafat-assures.yaml", directory)):
        (tmp_path / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "logos").mkdir()
    for logo in ("cafat.svg", "compte-nc.svg"):
        (tmp_path / "logos" / logo).write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    for ca in ("comptes", "cafat"):
        write_key_pair(tmp_path / "ca" / f"{ca}.key", tmp_path / "ca" / f"{ca}.pem", ca)
    return tmp_path


def test_the_readme_service_source_and_directory_form_a_valid_registry(readme_registry):
    reg = load_registry(readme_registry, DICTIONARY)
    assert set(reg.services) == {"cafat-prestations"}
    assert set(reg.sources) == {"compte-nc"} and set(reg.directories) == {"cafat-assures"}


def test_the_readme_example_of_an_undeliverable_attribute_is_the_registrys_message(
        readme_registry):
    path = readme_registry / "cafat.yaml"
    service = yaml.safe_load(path.read_text(encoding="utf-8"))
    service["attributes"]["phone_number"] = {"justification": "Vous joindre au sujet du dossier."}
    path.write_text(yaml.safe_dump(service, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_registry(readme_registry, DICTIONARY)
    [shown] = [line for line in blocks(section("## Partner registry and attribute dictionary"),
                                       "")[0].splitlines() if "attributes.phone_number" in line]
    assert str(err.value) == shown.replace("error: partenaires/", f"{readme_registry}/")


def commands(text: str) -> list[list[str]]:
    """The ``.venv/bin/ncconnect`` command lines of a shell block, as argument lists."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        if not re.match(r"(\.venv/bin/ncconnect|[A-Z_]+=)", line):
            continue
        words = shlex.split(line, comments=True)
        while words and "=" in words[0]:  # NAME=value before the command
            words.pop(0)
        if words and words[0] == ".venv/bin/ncconnect":
            out.append(words[1:])
    return out


ADMIN = section("### Administering the registry")


def test_the_readme_admin_commands_use_the_demo_registry_and_run_as_written(tmp_path):
    first, *_ = blocks(ADMIN, "sh")
    assert "export NCCONNECT_CONFIG=config/demo.yaml" in first
    runner = CliRunner(env={"NCCONNECT_CONFIG": str(ROOT / "config" / "demo.yaml")})
    with runner.isolated_filesystem(temp_dir=tmp_path):
        ran = []
        for args in commands(first):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (args, result.output)
            ran.append(args[:2])
        assert Path("diffusion.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert ran == [["partenaires", "validate"], ["partenaires", "list"],
                   ["partenaires", "show"], ["partenaires", "diffusion"]]


def test_the_readme_registration_example_adds_then_disables_a_service(tmp_path):
    _, second, *_ = blocks(ADMIN, "sh")
    request = re.search(r"<<'EOF'\n(.*?)\nEOF\n", second, flags=re.S).group(1)
    folder = tmp_path / "partenaires"
    shutil.copytree(ROOT / "partenaires" / "demo", folder)
    settings = tmp_path / "demo.yaml"
    settings.write_text(yaml.safe_dump({
        "base_url": "http://127.0.0.1:8440", "data_dir": "data", "partners_dir": "partenaires",
        "dictionary": str(ROOT / "attributs" / "dictionnaire.yaml"),
        "allow_loopback_http": True}), encoding="utf-8")
    runner = CliRunner(env={"NCCONNECT_CONFIG": str(settings)})
    with runner.isolated_filesystem(temp_dir=tmp_path):
        Path("demande-dumbea.yaml").write_text(request + "\n", encoding="utf-8")
        add, disable = commands(second)
        result = runner.invoke(main, add)
        assert result.exit_code == 0, result.output
        written = re.search(r"-> partenaires/demo/(\S+\.yaml)", second).group(1)
        assert result.stdout.startswith(f"wrote {folder / written} (active)\n")
        result = runner.invoke(main, disable)
        assert result.exit_code == 0, result.output
        assert f"rm partenaires/demo/{written} demande-dumbea.yaml" in second
