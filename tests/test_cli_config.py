"""The configuration files through the real commands: defaults that options and environment variables
override, `ragcli config show`, and a bad file as one line and exit 6."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import RAGCLI, invoke, run, without_root_powers
from conftest import write_files
from fakeopenai import Reply, completion, fake_server

from ragcli.errors import ExitCode


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A user file ($RAGCLI_CONFIG), a project folder as the current folder, a data folder."""
    paths = {"user": tmp_path / "config.toml", "project": tmp_path / "project", "data": tmp_path / "data"}
    paths["user"].write_text("")
    paths["project"].mkdir()
    monkeypatch.setenv("RAGCLI_CONFIG", str(paths["user"]))
    monkeypatch.setenv("RAGCLI_DATA_DIR", str(paths["data"]))
    monkeypatch.delenv("RAGCLI_INDEX", raising=False)
    monkeypatch.chdir(paths["project"])
    return paths


def answer(*args: str, env: dict[str, str] | None = None) -> dict:
    result = invoke("query", "what turns sunlight into electricity", *args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_files_set_defaults_that_options_override(home: dict[str, Path], small_index: Path) -> None:
    home["user"].write_text('generator = "extractive"\nk = 2\nretriever = "tfidf"\n')
    data = answer("-i", str(small_index))
    assert (data["generator"], data["retriever"], len(data["sources"])) == ("extractive", "tfidf", 2)
    (home["project"] / ".ragcli.toml").write_text("k = 1\n")  # the project's file over the user's
    assert len(answer("-i", str(small_index))["sources"]) == 1
    data = answer("-i", str(small_index), "-k", "3", "-r", "bm25")  # options over both
    assert (data["retriever"], len(data["sources"])) == ("bm25", 3)


def test_the_environment_overrides_the_files(home: dict[str, Path]) -> None:
    home["user"].write_text('model = "from-the-file"\nbase_url = "http://127.0.0.1:1/v1"\n')
    shown = json.loads(invoke("config", "show", "--json", env={"RAGCLI_MODEL": "from-env"}).stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in shown["values"]}
    assert values["model"] == ("from-env", "env RAGCLI_MODEL")
    assert values["base_url"] == ("http://127.0.0.1:1/v1", "user config")
    assert values["k"] == (5, "default") and values["generator"] == ("auto", "default")


def test_the_configured_collection_is_the_index(home: dict[str, Path], small_corpus: Path, small_index: Path) -> None:
    assert invoke("index", str(small_corpus), "--name", "energy", "-q").exit_code == 0
    (home["project"] / ".ragcli.toml").write_text('collection = "energy"\n')
    info = json.loads(invoke("info", "--json").stdout)
    assert info["path"] == str(home["data"] / "collections" / "energy")
    exported = json.loads(invoke("info", "--json", env={"RAGCLI_INDEX": str(small_index)}).stdout)
    assert exported["path"] == str(small_index)  # $RAGCLI_INDEX over the configuration's collection
    # --help shows the collection as -c's default, but -c is not given: --index is no conflict with it
    chosen = json.loads(invoke("info", "-i", str(small_index), "--json").stdout)
    assert chosen["path"] == str(small_index)
    assert invoke("index", "-q").exit_code == 0  # a re-index of the configured collection, its roots recorded
    shown = json.loads(invoke("config", "show", "--json").stdout)
    assert shown["index"] == {"path": info["path"], "source": "project config", "collection": "energy"}
    (home["project"] / ".ragcli.toml").write_text('collection = "gone"\n')
    missing = invoke("info")
    assert missing.exit_code == ExitCode.NO_INDEX
    assert missing.stderr.startswith("ragcli: error: .ragcli.toml: key 'collection': no collection named 'gone'")


def test_evaluate_on_a_beir_folder_does_not_use_the_configured_collection(
    home: dict[str, Path], small_corpus: Path, tmp_path: Path
) -> None:
    assert invoke("index", str(small_corpus), "--name", "energy", "-q").exit_code == 0
    home["user"].write_text('collection = "energy"\n')
    beir = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "waggle dance"}\n',
            "queries.jsonl": '{"_id": "1", "text": "waggle dance"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n",
        },
    )
    result = invoke("evaluate", str(beir), "--no-generate", "--json")
    assert result.exit_code == 0, result.output
    assert "energy" not in json.loads(result.stdout)["index"]  # a cached index of the BEIR corpus


def test_config_show(home: dict[str, Path]) -> None:
    home["user"].write_text('k = 4\ndevice = "cpu"\n')
    (home["project"] / ".ragcli.toml").write_text('device = "auto"\n')
    data = json.loads(invoke("config", "show", "--json", "-c", "docs").stdout)
    assert data["files"] == {
        "user": {"path": str(home["user"]), "exists": True},
        "project": {"path": str(home["project"] / ".ragcli.toml"), "exists": True},
    }
    values = {v["key"]: (v["value"], v["source"]) for v in data["values"]}
    assert values["k"] == (4, "user config") and values["device"] == ("auto", "project config")
    assert data["index"]["source"] == "option -c" and data["collections_dir"] == str(home["data"] / "collections")
    table = invoke("config", "show", env={"COLUMNS": "80"}).stdout
    assert "user config" in table and "project config" in table and "…" not in table  # paths fold, never cut
    assert max(len(line) for line in table.splitlines()) <= 80


def test_config_show_in_a_deleted_folder_shows_the_files(home: dict[str, Path]) -> None:
    """In a current folder that was deleted, `config show` was an internal error (exit 1): the path of the
    project's file was made absolute from a folder that is gone. It shows it as it is, not there."""
    home["user"].write_text("k = 3\n")
    gone = home["project"] / "gone"
    gone.mkdir()
    shell = 'cd "$1" && rmdir "$1" && exec "$0" config show --json'
    result = subprocess.run(["sh", "-c", shell, RAGCLI, str(gone)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    files = json.loads(result.stdout)["files"]
    assert files["project"] == {"path": ".ragcli.toml", "exists": False}
    assert files["user"] == {"path": str(home["user"]), "exists": True}


def test_config_show_and_help_never_print_the_servers_password_or_key(home: dict[str, Path]) -> None:
    """The README promises passwords and keys are never printed: `config show` printed the server's URL
    whole, its password and a key in its query string with it, and --help showed the file's URL as
    the option's default."""
    secret_url = "http://user:s3cretpw@127.0.0.1:18740/v1?api_key=QUERYSECRET"
    shown = json.loads(invoke("config", "show", "--json", env={"RAGCLI_BASE_URL": secret_url}).stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in shown["values"]}
    assert values["base_url"] == ("http://127.0.0.1:18740/v1", "env RAGCLI_BASE_URL")
    table = invoke("config", "show", env={"RAGCLI_BASE_URL": secret_url, "COLUMNS": "200"}).stdout
    assert "http://127.0.0.1:18740/v1" in table
    home["user"].write_text(f'base_url = "{secret_url}"\n')
    from_the_file = invoke("config", "show", "--json").stdout
    helped = invoke("query", "--help", env={"COLUMNS": "200"}).stdout
    assert "http://127.0.0.1:18740/v1" in from_the_file and "http://127.0.0.1:18740/v1" in helped
    for printed in (json.dumps(shown), table, from_the_file, helped):
        assert "s3cretpw" not in printed and "QUERYSECRET" not in printed


@pytest.mark.parametrize("command", [["info"], ["plugins"], ["query", "x"], ["config", "show"]])
def test_a_bad_file_is_one_line_and_exit_6(home: dict[str, Path], command: list[str]) -> None:
    (home["project"] / ".ragcli.toml").write_text('k = 3\nretreiver = "bm25"\n')
    result = run(*command, cwd=home["project"], env={"RAGCLI_CONFIG": str(home["user"])})
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.splitlines() == [
        "ragcli: error: .ragcli.toml: unknown key 'retreiver' (the keys are collection, retriever, k, generator, "
        "model, base_url, api_key_env, device, answer_style; `ragcli config show` lists them)"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["query"], ["chat"], ["config", "show"], ["train", "generator"]])
def test_help_still_shows_with_a_bad_file(home: dict[str, Path], command: list[str]) -> None:
    """The help is what a person reads to mend the file: it is shown (without the file's values), and
    the file's error is a warning on stderr; running the command is still exit 6."""
    (home["project"] / ".ragcli.toml").write_text("k = 3\nfoo = 1\n")
    result = run(*command, "--help", cwd=home["project"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: ragcli {' '.join(command)} ")
    assert result.stderr.splitlines() == [
        "ragcli: warning: the configuration is not used: .ragcli.toml: unknown key 'foo' (the keys are "
        "collection, retriever, k, generator, model, base_url, api_key_env, device, answer_style; "
        "`ragcli config show` lists them)"
    ]


@pytest.mark.parametrize("command", [["query", "bees", "-c", "x"], ["collections"], ["query", "--help"]])
def test_a_file_in_a_folder_that_cannot_be_searched_is_one_line_and_exit_6(
    home: dict[str, Path], tmp_path: Path, command: list[str]
) -> None:
    """`~/.config/ragcli` left root's after a `sudo ragcli …`: asking whether the file exists raised, a
    traceback for every command, --help too. The command is one line and exit 6; --help a warning."""
    locked = tmp_path / "home" / ".config" / "ragcli"
    locked.mkdir(parents=True)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}
    del env["RAGCLI_CONFIG"]
    locked.chmod(0o000)
    try:
        result = subprocess.run(
            [*without_root_powers(), RAGCLI, *command], capture_output=True, text=True, env=env, timeout=120
        )
    finally:
        locked.chmod(0o755)
    line = f"{locked / 'config.toml'}: cannot be reached (Permission denied) (check the permissions of the folders above it)"
    if "--help" in command:
        assert result.returncode == 0 and result.stderr == f"ragcli: warning: the configuration is not used: {line}\n"
    else:
        assert (result.returncode, result.stderr) == (ExitCode.BAD_INPUT, f"ragcli: error: {line}\n")


def test_a_symbolic_link_loop_as_the_named_file_is_exit_4(home: dict[str, Path], tmp_path: Path) -> None:
    """$RAGCLI_CONFIG naming a link loop was exit 6, a dangling link 4: README's table gives 4 to both."""
    (tmp_path / "l1").symlink_to(tmp_path / "l2")
    (tmp_path / "l2").symlink_to(tmp_path / "l1")
    result = run("config", "show", env={"RAGCLI_CONFIG": str(tmp_path / "l1")})
    assert (result.returncode, result.stderr) == (
        ExitCode.PATH_NOT_FOUND,
        f"ragcli: error: {tmp_path / 'l1'}: symbolic link loop (check the path)\n",
    )
    (home["project"] / ".ragcli.toml").symlink_to(home["project"] / ".ragcli.toml")  # found, not named: 6
    assert run("config", "show").returncode == ExitCode.BAD_INPUT


def test_a_file_name_too_long_is_one_line_and_exit_6(home: dict[str, Path], tmp_path: Path) -> None:
    named = tmp_path / ("a" * 300)
    result = run("collections", env={"RAGCLI_CONFIG": str(named)})
    assert (result.returncode, result.stderr) == (
        ExitCode.BAD_INPUT,
        f"ragcli: error: {named}: cannot be reached (File name too long)\n",
    )


def test_dev_null_as_the_user_file_is_no_configuration(home: dict[str, Path], small_index: Path) -> None:
    shown = json.loads(run("config", "show", "--json", env={"RAGCLI_CONFIG": os.devnull}).stdout)
    assert shown["files"]["user"] == {"path": os.devnull, "exists": True}
    assert {v["source"] for v in shown["values"]} == {"default"}
    result = run("query", "sunlight", "-i", str(small_index), "--no-generate", env={"RAGCLI_CONFIG": os.devnull})
    assert result.returncode == 0 and result.stderr == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('retriever = "bm25,tfidf"', "key 'retriever': unknown retriever 'bm25,tfidf'; did you mean 'tfidf'?"),
        ('generator = "extractiv"', "key 'generator': unknown generator 'extractiv'; did you mean 'extractive'?"),
        ('device = "tpu"', "key 'device': unknown device 'tpu'"),
        ('answer_style = "terse"', "key 'answer_style': unknown answer style 'terse'"),
        ('base_url = "ftp://127.0.0.1/v1"', "key 'base_url': --base-url: 'ftp://127.0.0.1/v1' is not an http(s) URL"),
        ('model = "./no-such-model"', "key 'model': model folder ./no-such-model does not exist"),
        ('api_key_env = "A B"', "key 'api_key_env': --api-key-env takes the name of an environment variable"),
        ('api_key_env = "UNSET_KEY"', "key 'api_key_env': --api-key-env: the variable UNSET_KEY is not set"),
    ],
)
def test_a_bad_value_from_a_file_names_the_file_and_the_key(
    home: dict[str, Path], small_index: Path, line: str, message: str
) -> None:
    """The person never typed the value: the line says where it is, as for a key of the wrong type."""
    home["user"].write_text(line + "\n")
    generator = ("-g", "transformers") if line.startswith("model") else ()  # a missing model is no fallback
    result = invoke("query", "sunlight", "-i", str(small_index), *generator)
    assert result.exit_code in (ExitCode.USAGE, ExitCode.MODEL_UNAVAILABLE), result.output
    assert f"ragcli: error: {home['user']}: {message}" in result.stderr, result.stderr


@pytest.mark.parametrize("retriever", ["dense", "hybrid"])
def test_a_retriever_from_a_file_the_index_cannot_serve_names_the_file(
    home: dict[str, Path], small_index: Path, retriever: str
) -> None:
    """An index without dense vectors refused the file's `retriever = "dense"` as if it had been typed."""
    home["user"].write_text(f'retriever = "{retriever}"\n')
    result = invoke("query", "sunlight", "-i", str(small_index), "-g", "extractive")
    assert result.exit_code == ExitCode.USAGE, result.output
    expected = f"ragcli: error: {home['user']}: key 'retriever': {small_index} has no dense vectors"
    assert result.stderr.startswith(expected), result.stderr
    typed = invoke("query", "sunlight", "-i", str(small_index), "-g", "extractive", "-r", retriever)
    assert typed.stderr.startswith(f"ragcli: error: {small_index} has no dense vectors"), typed.stderr


def test_the_same_value_given_as_an_option_is_not_the_files(home: dict[str, Path], small_index: Path) -> None:
    home["user"].write_text('retriever = "bm25,tfidf"\n')
    result = invoke("query", "sunlight", "-i", str(small_index), "-r", "bm25,tfidf")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("ragcli: error: unknown retriever 'bm25,tfidf'"), result.stderr


def test_chat_takes_the_keys_query_takes(home: dict[str, Path], small_index: Path) -> None:
    """A `k` or `model` set once applied to query and evaluate, but chat took only the collection."""
    pytest.importorskip("openai")
    questions = "what turns sunlight into electricity\nwind turbines\n"
    with fake_server(Reply(completion("solar panels [1]"))) as server:
        home["user"].write_text(
            f'generator = "openai"\nbase_url = "{server.url}"\nmodel = "fake"\nk = 2\nretriever = "tfidf"\n'
        )
        result = invoke("chat", "-i", str(small_index), "--json", input=questions)
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in result.stdout.splitlines()]
        answered = [(r["generator"], r["model"], r["retriever"], len(r["sources"])) for r in records]
        assert answered == [("openai", "fake", "tfidf", 2)] * 2
        chosen = invoke("chat", "-i", str(small_index), "--json", "-k", "1", "-r", "bm25", input=questions)
    assert chosen.exit_code == 0, chosen.output
    records = [json.loads(line) for line in chosen.stdout.splitlines()]
    assert [(r["retriever"], len(r["sources"])) for r in records] == [("bm25", 1)] * 2  # options over the file


def test_a_project_file_cannot_choose_the_server_or_the_key(home: dict[str, Path], small_index: Path) -> None:
    """A cloned repository's .ragcli.toml sent the passages, and any variable it named (a GitHub
    token), to its own server: those keys come from the user's file only; the rest of it still applies."""
    pytest.importorskip("openai")
    secrets = {"OPENAI_API_KEY": "sk-the-users", "GITHUB_TOKEN": "ghp-not-for-servers"}
    with fake_server(Reply(completion("solar panels [1]"))) as chosen, fake_server(Reply(b"{}")) as planted:
        home["user"].write_text(f'generator = "openai"\nbase_url = "{chosen.url}"\nmodel = "fake"\n')
        (home["project"] / ".ragcli.toml").write_text(
            f'base_url = "{planted.url}"\napi_key_env = "GITHUB_TOKEN"\nk = 1\n'
        )
        result = invoke("query", "what turns sunlight into electricity", "-i", str(small_index), "--json", env=secrets)
        assert result.exit_code == 0, result.output
        assert planted.authorizations == [] and chosen.authorizations == ["Bearer sk-the-users"]
    assert len(json.loads(result.stdout)["sources"]) == 1  # the project's k
    assert result.stderr.splitlines() == [
        f"ragcli: warning: .ragcli.toml: key {key!r} ignored: a project's file does not choose {what} "
        f"(set it in {home['user']} or pass {option})"
        for key, what, option in [
            ("base_url", "where questions, passages and the API key are sent", "--base-url"),
            ("api_key_env", "which secret is read and sent to the server", "--api-key-env"),
        ]
    ]
    shown = json.loads(invoke("config", "show", "--json").stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in shown["values"]}
    assert values["base_url"] == (chosen.url, "user config") and values["k"] == (1, "project config")


def test_a_project_file_cannot_send_the_passages_to_a_server(home: dict[str, Path], small_index: Path) -> None:
    """With no server of the user's, a cloned repository's `generator = "openai"` sent the user's passages
    to OpenAI's API with the user's key: the project's file may choose any other generator."""
    home["user"].write_text("")
    (home["project"] / ".ragcli.toml").write_text('generator = "OpenAI"\n')
    result = invoke("query", "what turns sunlight into electricity", "-i", str(small_index), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["generator"] != "openai"
    assert result.stderr.splitlines()[0] == (  # then `auto`'s note that it answers offline
        f"ragcli: warning: .ragcli.toml: key 'generator' ignored: a project's file does not choose whether "
        f"questions and passages are sent to a server (generator 'openai') (set it in {home['user']} or pass --generator)"
    )
    (home["project"] / ".ragcli.toml").write_text('generator = "extractive"\n')
    kept = invoke("query", "what turns sunlight into electricity", "-i", str(small_index), "--json")
    assert kept.exit_code == 0 and kept.stderr == "" and json.loads(kept.stdout)["generator"] == "extractive"


def test_openai_base_url_is_shown_where_it_is_the_server(home: dict[str, Path], small_index: Path) -> None:
    """`$OPENAI_BASE_URL` (below the files' base_url) was shown as "– default" by `config show`, and the
    error for a server that cannot be reached pointed at --base-url / RAGCLI_BASE_URL only."""
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "x", "RAGCLI_BASE_URL": ""}
    shown = json.loads(invoke("config", "show", "--json", env=env).stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in shown["values"]}
    assert values["base_url"] == ("http://127.0.0.1:9/v1", "env OPENAI_BASE_URL")
    result = run("query", "bees", "-i", str(small_index), "-g", "openai", "--retries", "0", env=env)
    assert result.returncode == ExitCode.MODEL_UNAVAILABLE
    assert result.stderr.endswith("(start it, or check $OPENAI_BASE_URL)\n"), result.stderr
    home["user"].write_text('base_url = "http://127.0.0.1:9/v1"\n')  # the file's, over the variable
    values = {v["key"]: v["source"] for v in json.loads(invoke("config", "show", "--json", env=env).stdout)["values"]}
    assert values["base_url"] == "user config"


def test_config_show_gives_the_collection_in_effect(home: dict[str, Path], tmp_path: Path) -> None:
    """The `collection` row said "notes, user config" where $RAGCLI_INDEX or --index chose another index,
    and "– default" under `-c other`: it shows the collection the commands use and what chose it."""
    home["user"].write_text('collection = "notes"\n')

    def collection(*args: str, env: dict[str, str] | None = None) -> tuple[str | None, str]:
        shown = json.loads(invoke("config", "show", "--json", *args, env=env).stdout)
        return next((v["value"], v["source"]) for v in shown["values"] if v["key"] == "collection")

    assert collection() == ("notes", "user config")
    assert collection(env={"RAGCLI_INDEX": str(tmp_path / "other")}) == (None, "env RAGCLI_INDEX")
    assert collection("-c", "other") == ("other", "option -c")
    assert collection("-i", str(tmp_path / "other")) == (None, "option --index")
    home["user"].write_text("")
    assert collection() == (None, "default")


def test_a_bad_configured_collection_names_the_file_not_the_option(home: dict[str, Path]) -> None:
    """A bad `collection` in a file was blamed on `-c/--collection`, which nobody typed, and `config show`,
    the tool for finding it, showed nothing: it names the file and the key, and `config show` warns."""
    home["user"].write_text('collection = "../x"\nk = 3\n')
    expected = f"{home['user']}: key 'collection': '../x' is not a collection name"
    result = invoke("info")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"ragcli: error: {expected} (use up to 64"), result.stderr
    shown = invoke("config", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert shown.stderr.startswith(f"ragcli: warning: {expected}")
    data = json.loads(shown.stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in data["values"]}
    assert values["k"] == (3, "user config") and values["collection"] == ("../x", "user config")
    assert data["index"] is None
    assert invoke("config", "show", "-c", "../y").exit_code == ExitCode.USAGE  # typed: still an error


def test_config_show_warns_of_a_data_folder_that_is_a_file_and_shows_the_rest(home: dict[str, Path]) -> None:
    """With `collection` configured and $RAGCLI_DATA_DIR naming a file, `config show`, the tool for finding
    that, was exit 12 with no table: the problem is a warning, `index` null; other commands refuse it."""
    home["data"].write_text("")
    home["user"].write_text('collection = "notes"\nk = 3\n')
    expected = f"ragcli: warning: {home['data']} ($RAGCLI_DATA_DIR) is not a folder"
    for args in ((), ("--json",)):
        shown = invoke("config", "show", *args)
        assert shown.exit_code == 0 and shown.stderr.startswith(expected), shown.output
    data = json.loads(shown.stdout)
    assert data["index"] is None and {"key": "k", "value": 3, "source": "user config"} in data["values"]
    assert "collection" in invoke("config", "show").stdout
    assert invoke("info").exit_code == ExitCode.WRITE_FAILED
    assert invoke("config", "show", "-c", "other").exit_code == ExitCode.WRITE_FAILED  # typed: still an error


def test_ragcli_config_naming_the_projects_file_reads_it_once(home: dict[str, Path]) -> None:
    """RAGCLI_CONFIG=.ragcli.toml read the file as the user's and as the project's: a warning said its
    base_url was ignored while it was used. It is read once, as the user's file."""
    (home["project"] / ".ragcli.toml").write_text('base_url = "http://127.0.0.1:9/v1"\n')
    shown = invoke("config", "show", "--json", env={"RAGCLI_CONFIG": ".ragcli.toml"})
    assert shown.exit_code == 0 and shown.stderr == "", shown.output
    data = json.loads(shown.stdout)
    values = {v["key"]: (v["value"], v["source"]) for v in data["values"]}
    assert values["base_url"] == ("http://127.0.0.1:9/v1", "user config")
    assert data["files"]["project"]["path"] == data["files"]["user"]["path"]
