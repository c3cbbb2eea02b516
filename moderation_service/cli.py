"""The `moderation` command line."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import typer
from pydantic import ValidationError

from moderation_service.settings import PROJECT_ROOT
from moderation_service.private_files import prepare_data_dir

# Nothing may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

app = typer.Typer(help="Moderation of AI-generated prompts and images.", no_args_is_help=True)
train_app = typer.Typer(help="Train the project's model heads reproducibly.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Measure a classifier on labelled data.", no_args_is_help=True)
convert_app = typer.Typer(help="Convert bundled weights between runtimes.", no_args_is_help=True)
policy_app = typer.Typer(help="Work with policy files.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for upstream clients and admins.", no_args_is_help=True)
from moderation_service.cli_models import models_app  # noqa: E402

for sub_app, name in ((models_app, "models"), (train_app, "train"), (evaluate_app, "evaluate"), (convert_app, "convert"),
                      (policy_app, "policy"), (db_app, "db"), (keys_app, "keys")):
    app.add_typer(sub_app, name=name)

DEFAULT_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
TEXT_MODEL_DIR = PROJECT_ROOT / "classifiers" / "models" / "toxicity-v2"
TEXT_RESULTS_DIR = PROJECT_ROOT / "datasets" / "results"
# Seconds a worker may take to answer uvicorn's supervisor before it is replaced (see `serve`).
WORKER_HEALTHCHECK_S = 60


def _settings():
    from moderation_service.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(f"  MODERATION_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        typer.secho(f"invalid configuration:\n{problems}", fg="red", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    workers: int = typer.Option(1, min=1, help="Worker processes; share one database (PostgreSQL for more than one host)."),
    log_level: str = typer.Option("info", help="Log level."),
    log_format: str = typer.Option("json", help="json (one object a line) or text."),
) -> None:
    """Start the HTTP API (SQLite, the bundled models and the default policy unless configured)."""
    import uvicorn

    from moderation_service.api.app import create_app
    from moderation_service.db.engine import upgrade_to_head
    from moderation_service.logging_setup import configure_logging
    from moderation_service.policy import PolicyError
    from moderation_service.runtime import load_service_policies

    configure_logging(log_level, json_format=log_format == "json")
    settings = _settings()
    try:
        load_service_policies(settings)
    except PolicyError as exc:
        typer.secho(f"refusing to start: invalid policy: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    from moderation_service.api.slow_clients import server_options

    options = server_options(settings, host, port, log_level)  # header deadline, keep-alive, no access log
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Migrate once here, so N workers do not race to; each worker builds its own app.
    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    os.environ["MODERATION_LOG_LEVEL"], os.environ["MODERATION_LOG_FORMAT"] = log_level, log_format
    # A worker's model load holds the GIL for seconds at a time (lingua builds its preloaded models in
    # one call: about 4 s idle, longer on a loaded host), so it cannot answer the supervisor's ping;
    # at uvicorn's default of 5 s such a worker is killed and replaced, and under load none got ready.
    uvicorn.run("moderation_service.api.worker:create_worker_app", factory=True, workers=workers,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S, **options)


@train_app.command("text")
def train_text(
    seed: int = typer.Option(13, help="Seed for the head's initialisation and the batch order (the split is fixed)."),
    datasets: Path = typer.Option(DEFAULT_DATASETS, help="Folder holding the shared labelled data."),
    out: Path = typer.Option(TEXT_MODEL_DIR, help="Where the fine-tuned layers, head and config are written."),
    reviewed: list[Path] = typer.Option(None, help="Exports of `moderation dataset export` (repeatable): fine-tune "
                                        "a candidate from --base on reviewers' labels instead of a full rebuild."),
    base: Path = typer.Option(TEXT_MODEL_DIR, help="With --reviewed: the model to start from."),
    reason_codes: Path = typer.Option(None, help="With --reviewed: reason code -> category map "
                                      "(default datasets/reason_codes.yaml)."),
    reviewed_weight: float = typer.Option(3.0, help="With --reviewed: weight of one reviewed item (a group counts once)."),
    replay: int = typer.Option(2000, help="With --reviewed: rows of the shared training data mixed in, when present."),
    epochs: int = typer.Option(4, help="With --reviewed: passes over the reviewed rows."),
    raw_prompts: bool = typer.Option(False, help="With --reviewed: train on raw prompts where the export carries "
                                     "them (`dataset export --raw-prompts`); the redacted text otherwise."),
    recalibrate: bool = typer.Option(False, help="Refit only the calibration and operating thresholds of --out's "
                                     "model from its weights and the validation split (1-3 minutes; seed and recipe "
                                     "from its config.json)."),
    top_layers: int | None = typer.Option(
        None, min=1, max=6,  # all-MiniLM-L6-v2 has six layers
        help="Encoder layers fine-tuned, from the top (the rest stay frozen, their states cached); default: the "
             "shipped recipe's (3)."),
) -> None:
    """Fine-tune the text safety model (MiniLM top layers + head) on every train-use set; 15 to 40 minutes on the
    shared 2-core machine, by its load. With --reviewed, a candidate from reviewers' labels instead (seconds to minutes)."""
    from classifiers.text_model_training import TrainingConfig, train_text_model
    from classifiers.text_training_data import DatasetMissingError

    if recalibrate and (reviewed or top_layers):
        typer.secho("--recalibrate refits an existing model's calibration: it takes neither --reviewed nor --top-layers "
                    "(the seed and recipe come from the model's config.json)", fg="red", err=True)
        raise typer.Exit(2)
    if reviewed:
        if out == TEXT_MODEL_DIR:
            typer.secho("--reviewed writes a candidate: give --out a new folder (the committed model stays)",
                        fg="red", err=True)
            raise typer.Exit(2)
        _train_from_reviewed(reviewed, base, out, datasets, reason_codes, reviewed_weight, replay, epochs, seed,
                             raw_prompts)
        return
    try:
        if recalibrate:
            from classifiers.text_model_training import recalibrate_text_model

            try:
                result = recalibrate_text_model(datasets, out, log=lambda line: typer.echo(line, err=True))
            except FileNotFoundError as exc:
                typer.secho(f"--recalibrate: no text safety model in --out {out} ({exc})", fg="red", err=True)
                raise typer.Exit(2) from None
            typer.echo(_as_json(result))
            return
        metrics = train_text_model(shared_datasets=datasets, out_dir=out, seed=seed,
                                   config=TrainingConfig(**({"top_layers": top_layers} if top_layers else {})),
                                   log=lambda line: typer.echo(line, err=True))
    except DatasetMissingError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(_as_json(metrics))


def _train_from_reviewed(exports: list[Path], base: Path, out: Path, datasets: Path, reason_codes: Path | None,
                         reviewed_weight: float, replay: int, epochs: int, seed: int, raw_prompts: bool) -> None:
    import random

    from classifiers.text_model_finetune import finetune_text_model, reviewed_rows
    from classifiers.text_training_data import CATEGORIES, DatasetMissingError, load_all
    from moderation_service.reviewed_labels import DEFAULT_REASON_CODES, ReasonCodeMapError, load_reason_codes
    from moderation_service.reviewed_training import load_reviewed, write_candidate_card

    try:
        codes = load_reason_codes(reason_codes or DEFAULT_REASON_CODES)
        examples, summary = load_reviewed(exports, codes, CATEGORIES, reviewed_weight, use_raw=raw_prompts)
    except (FileNotFoundError, ReasonCodeMapError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    replayed = []
    if replay:
        try:
            pool = load_all(datasets)
            replayed = random.Random(seed).sample(pool, min(replay, len(pool)))
        except DatasetMissingError:
            typer.echo(f"no shared data at {datasets}: training on the reviewed items alone", err=True)
    rows, weights = reviewed_rows(examples)
    summary["replay_rows"] = len(replayed)
    try:
        metrics = finetune_text_model(rows, weights, out, base_dir=base, replay=replayed, epochs=epochs, seed=seed,
                                      provenance=summary, log=lambda line: typer.echo(line, err=True))
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    write_candidate_card(out, summary, {**metrics, "base": str(base)})
    typer.echo(_as_json({**metrics, "reviewed": summary}))


# The first command's name, kept so scripts that call it still work.
train_app.command("toxicity", hidden=True, help="Alias of `train text`.")(train_text)


@train_app.command("text-multilingual")
def train_text_multilingual(
    seed: int = typer.Option(13, help="Seed for the head's initialisation and the batch order (the split is fixed)."),
    datasets: Path = typer.Option(DEFAULT_DATASETS, help="Folder holding the shared labelled data."),
    out: Path = typer.Option(PROJECT_ROOT / "classifiers" / "models" / "toxicity-multilingual",
                             help="Where the head (fp16 safetensors) and its config are written."),
    cache: Path = typer.Option(None, help="USE embedding cache (default $MODERATION_CACHE_DIR or ~/.cache/moderation)."),
) -> None:
    """Train the multilingual head (frozen USE multilingual v3 + MLP) on every train-use set, in every language;
    see classifiers/models/toxicity-multilingual/MODEL_CARD.md for the time it takes."""
    from classifiers.multilingual_text_training import train_multilingual_head
    from classifiers.text_training_data import DatasetMissingError

    try:
        metrics = train_multilingual_head(datasets, out_dir=out, seed=seed, cache_dir=cache,
                                          log=lambda line: typer.echo(line, err=True))
    except DatasetMissingError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(_as_json(metrics))


@evaluate_app.command("text")
def evaluate_text(
    datasets: Path = typer.Option(DEFAULT_DATASETS, help="Folder holding the shared labelled data."),
    out: Path = typer.Option(TEXT_RESULTS_DIR, help="Where text_evaluation.json and text_pr_curves.png are written."),
    limit: int = typer.Option(None, help="Sample at most this many rows of OLID and of each Multilingual HateCheck language."),
) -> None:
    """Per category precision, recall, F1 and AUPRC of the text model, today's head and alt-profanity-check, side by side."""
    from classifiers.text_evaluation import evaluate_text as run_evaluation, format_summary
    from classifiers.text_training_data import DatasetMissingError

    try:
        report = run_evaluation(datasets, out, limit=limit, log=lambda line: typer.echo(line, err=True))
    except DatasetMissingError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_summary(report))
    typer.echo(f"wrote {out / 'text_evaluation.json'} and {out / 'text_pr_curves.png'}")


evaluate_app.command("toxicity", hidden=True, help="Alias of `evaluate text`.")(evaluate_text)


@evaluate_app.command("pii")
def evaluate_pii(
    datasets: Path = typer.Option(DEFAULT_DATASETS, help="Folder holding the shared labelled data."),
    out: Path = typer.Option(None, help="Also write the report here as JSON."),
) -> None:
    """Precision, recall, F2 per entity type, ours against presidio's default analyzer (datasets/pii_evaluation.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "datasets"))
    from pii_evaluation import evaluate_pii as run_evaluation, format_report

    report = run_evaluation(datasets)
    typer.echo(format_report(report))
    if out:
        out.write_text(_as_json(report) + "\n")


@evaluate_app.command("nsfw-drawings")
def evaluate_nsfw_drawings(
    out: Path = typer.Option(None, help="Where the JSON goes; default datasets/results/nsfw_drawings_fpr.json."),
) -> None:
    """False-positive rates of nsfw_drawings and open_nsfw on benign photos and drawings, side by side."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "datasets"))
    from nsfw_drawings_evaluation import RESULTS_PATH, evaluate, format_report, write

    report = evaluate()
    typer.echo(format_report(report))
    typer.echo(f"written: {write(report, out or RESULTS_PATH)}")


@evaluate_app.command("reviewed")
def evaluate_reviewed(
    export: Path = typer.Option(..., help="A folder written by `moderation dataset export`."),
    policy: Path = typer.Option(None, help="Replay this policy on the stored signals instead of the stored decisions."),
) -> None:
    """Precision, recall and F1 per classifier and per decision against reviewers' labels."""
    from moderation_service.policy.policy_set import compile_single_policy
    from moderation_service.reviewed_evaluation import (classifier_report, decision_report, format_reports,
                                                        read_export)

    try:
        records = read_export(export)
    except FileNotFoundError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    candidate = compile_single_policy(policy.read_bytes(), _policy_schemas(), str(policy)) if policy else None
    typer.echo(format_reports(classifier_report(records), decision_report(records, candidate)))


@convert_app.command("nsfw")
def convert_nsfw(out: Path = typer.Option(..., help="Path of the Keras weights file to write.")) -> None:
    """Load the open_nsfw ONNX weights into opennsfw2's Keras model and save them."""
    from classifiers.nsfw_conversion import convert_onnx_to_keras

    typer.echo(str(convert_onnx_to_keras(out)))


@convert_app.command("nsfw-drawings")
def convert_nsfw_drawings(
    out: Path | None = typer.Option(None, help="File to write; default: the bundled graph."),
    tarball: Path | None = typer.Option(None, help="A local nsfwjs-4.4.0.tgz; default: npm pack from the registry."),
) -> None:
    """Rebuild the nsfw_drawings ONNX graph from the nsfwjs@4.4.0 npm package (needs node; npm without --tarball)."""
    from classifiers.nsfw_drawings_conversion import ConversionError, convert

    try:
        typer.echo(str(convert(out, tarball)))
    except ConversionError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None


@convert_app.command("toxicity")
def convert_toxicity(
    out: Path | None = typer.Option(None, help="File to write; default: the cache the service reads."),
) -> None:
    """Build the bundled toxicity model's ONNX graph (the service builds it on first start otherwise)."""
    from classifiers.toxicity_onnx import default_graph_path, export_graph

    typer.echo(str(export_graph(out or default_graph_path())))


def _policy_schemas():
    from classifiers.registry import load_config
    from moderation_service.policy.schema import signal_schemas

    settings = _settings()
    return signal_schemas(load_config(settings.classifiers_config))


@policy_app.command("lint")
def policy_lint(paths: list[Path] = typer.Argument(..., help="Policy folders or files.")) -> None:
    """Check policies; print file:line:column for each problem; exit 1 on any error.

    Besides the policy language, lint knows what the configured classifiers can say
    (category names, entity types, value ranges), the banks in the database and the
    review queues declared in the settings, so a rule that can never fire is an error."""
    from moderation_service.policy import Problem, build_policy_set
    from moderation_service.policy.policy_set import policy_files
    from moderation_service.policy.vocabulary import with_bank_names
    from moderation_service.policy_lint import database_bank_names, mentions_bank_names, queue_problems, review_order
    from moderation_service.review.config import ReviewSettings

    settings = _settings()
    schemas = _policy_schemas()
    declared_queues = ReviewSettings().declared_queues
    errors = 0
    for path in paths:
        files = [(str(file), file.read_bytes()) for file in policy_files(path) if file.exists()]
        if not files:
            typer.secho(f"{path}: no policy files", fg="red", err=True)
            errors += 1
            continue
        extra: list[Problem] = queue_problems(files, declared_queues)
        path_schemas = schemas
        if naming_banks := mentions_bank_names(files):
            names, why = database_bank_names(settings.database_url)
            if names is None:
                extra += [Problem(file, 1, 1, "warning", f"bank names not checked: cannot read the banks ({why})")
                          for file in naming_banks]
            else:
                path_schemas = with_bank_names(schemas, names)
        policy_set, problems = build_policy_set(files, path_schemas, serve_all_surfaces=not path.is_dir())
        problems = problems + extra
        for problem in sorted(problems):
            typer.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
        errors += sum(problem.severity == "error" for problem in problems)
        if policy_set is not None:
            for name, policy in sorted(policy_set.policies.items()):
                typer.echo(f"{path}: {name} ok ({len(policy.rules)} rules, sha256 {policy.sha256[:12]})")
                if order := review_order(policy):
                    typer.echo(f"  {order}")
    raise typer.Exit(1 if errors else 0)


@policy_app.command("check", hidden=True)
def policy_check(paths: list[Path] = typer.Argument(...)) -> None:
    """Alias of lint."""
    policy_lint(paths)


@policy_app.command("test")
def policy_test(
    path: Path = typer.Argument(PROJECT_ROOT / "policies", help="The policy folder; cases are read from its tests/."),
    cases: Path = typer.Option(None, help="Folder of test cases (default: PATH/tests)."),
) -> None:
    """Run the YAML test cases against the policies; print a diff for each failure."""
    from moderation_service.policy import PolicyError, load_policy_set
    from moderation_service.policy.testing import format_results, run_suites, uncovered_rules

    try:
        policy_set = load_policy_set(path, _policy_schemas())
    except PolicyError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    folder = cases or (path if path.is_dir() else path.parent) / "tests"
    results, problems = run_suites(policy_set, folder, classify=_lazy_real_classify())
    typer.echo(format_results(results, problems))
    for policy, rules in uncovered_rules(policy_set, folder).items():
        typer.secho(f"warning: no case fires these rules of {policy!r}: {', '.join(rules)}", fg="yellow", err=True)
    raise typer.Exit(1 if problems or not all(result.passed for result in results) else 0)


def _lazy_real_classify():
    """Loads the real classifiers the first time a case needs them."""
    loaded = {}

    def classify(prompt, image):
        from moderation_service.offline_classify import classify_offline
        from moderation_service.runtime import load_classifiers

        if "classifiers" not in loaded:
            loaded["classifiers"] = load_classifiers(_settings())
        return classify_offline(loaded["classifiers"], prompt, image, _settings().image_limits)

    return classify


def _candidate_or_exit(policy: Path, settings):
    """The candidate compiled beside the live policy folder (``extends`` resolves there)."""
    from moderation_service.policy_candidate import candidate_policy_set

    policy_set, problems, name = candidate_policy_set(policy, settings.policy_path, _policy_schemas())
    errors = [problem for problem in problems if problem.severity == "error"]
    for problem in sorted(problems):
        typer.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
    if errors or policy_set is None or name not in policy_set.policies:
        typer.secho(f"{policy}: not a valid policy beside {settings.policy_path}", fg="red", err=True)
        raise typer.Exit(1)
    return policy_set, policy_set.policies[name]


@policy_app.command("replay")
def policy_replay(
    policy: Path = typer.Option(..., help="The candidate policy file; `extends` resolves against the live policy "
                                          "folder (MODERATION_POLICY_PATH), and it stands in for the live policy "
                                          "of the same name."),
    surface: str = typer.Option(None, help="Only items from this surface."),
    since: datetime = typer.Option(None, help="Only items created at or after this date/time."),
    csv_out: str = typer.Option(None, "--csv", help="Where to write one row per item: a file, or - for stdout. "
                                                    "Default: DATA_DIR/exports/replay-<policy>-<UTC time>.csv."),
) -> None:
    """Re-evaluate stored signals under a candidate policy and report what would change.

    Items that a prompt.text rule could decide are replayed on the raw prompt when it is
    stored (encrypted); otherwise they are counted apart as not replayable without raw text."""
    import sys

    from moderation_service.db.engine import make_engine, make_session_factory
    from moderation_service.policy_replay import format_summary, replay

    from moderation_service.db.engine import upgrade_to_head

    settings = _settings()
    _, candidate = _candidate_or_exit(policy, settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    since = since.replace(tzinfo=timezone.utc) if since and since.tzinfo is None else since
    unseal = None
    if settings.raw_prompt_key is not None:
        from cryptography.fernet import Fernet

        fernet = Fernet(settings.raw_prompt_key.get_secret_value())
        unseal = lambda token: fernet.decrypt(token.encode()).decode()  # noqa: E731
    to_stdout = csv_out == "-"
    out = None if to_stdout else Path(csv_out) if csv_out else (
        settings.data_dir / "exports" / f"replay-{candidate.name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.csv")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    summary = replay(sessions, candidate, surface, since, out, unseal=unseal,
                     csv_stream=sys.stdout if to_stdout else None)
    typer.echo(format_summary(summary), err=to_stdout)
    if out is not None:
        typer.echo(f"wrote {out}", err=to_stdout)


@policy_app.command("promote")
def policy_promote(
    policy: Path = typer.Argument(..., help="The candidate policy file, kept outside the live folder."),
    cases: Path = typer.Option(None, help="Test cases to pass first (default: the live folder's tests/)."),
) -> None:
    """Make a candidate live: lint the live folder with the candidate in place, run the
    policy tests on it, and only then replace the live file of that name atomically (the
    service reloads it within MODERATION_POLICY_WATCH_INTERVAL_S)."""
    from moderation_service.policy.testing import format_results, run_suites
    from moderation_service.policy_candidate import promote

    settings = _settings()
    if not settings.policy_path.is_dir():
        typer.secho(f"MODERATION_POLICY_PATH {settings.policy_path} is one file: copy the candidate over it", err=True)
        raise typer.Exit(2)
    folder = cases or settings.policy_path / "tests"

    def passes_tests(policy_set) -> bool:
        results, problems = run_suites(policy_set, folder, classify=_lazy_real_classify())
        passed = not problems and all(result.passed for result in results)
        typer.echo(format_results(results, problems), err=not passed)
        return passed

    target, problems = promote(policy, settings.policy_path, _policy_schemas(), passes_tests)
    for problem in sorted(problems):
        typer.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
    if target is None:
        typer.secho("not promoted: the live policies are unchanged", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"promoted {policy} to {target}")


@policy_app.command("shadow-report")
def policy_shadow_report(since: datetime = typer.Option(None, help="Only items created at or after this time.")) -> None:
    """Agreement between live and shadow decisions, with a sample of disagreements."""
    from moderation_service.db.engine import make_engine, make_session_factory
    from moderation_service.shadow_report import shadow_report

    from moderation_service.db.engine import upgrade_to_head

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.database_url)
    since = since.replace(tzinfo=timezone.utc) if since and since.tzinfo is None else since
    typer.echo(_as_json(shadow_report(make_session_factory(make_engine(settings.database_url)), since)))


secrets_app = typer.Typer(help="Keys the service itself needs.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("prompt-key")
def secrets_prompt_key() -> None:
    """Print a new key for MODERATION_RAW_PROMPT_KEY (encrypts stored raw prompts)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@app.command()
def purge(older_than_days: int = typer.Option(None, help="Default: MODERATION_RETENTION_DAYS.")) -> None:
    """Delete images and raw data of items older than the retention period; keep hashes and decisions."""
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
    from moderation_service.image_store import ImageStore
    from moderation_service.retention import purge as run_purge

    settings = _settings()
    days = older_than_days if older_than_days is not None else settings.retention_days
    if days <= 0:
        typer.secho("no retention period: pass --older-than-days or set MODERATION_RETENTION_DAYS", fg="red", err=True)
        raise typer.Exit(2)
    upgrade_to_head(settings.database_url)
    report = run_purge(make_session_factory(make_engine(settings.database_url)), ImageStore(settings.image_dir), days)
    typer.echo(f"purged {report.items} items older than {days} days; deleted {report.images_deleted} images")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration to the configured database."""
    from moderation_service.db.engine import upgrade_to_head

    settings = _settings()
    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    typer.echo("database is at the latest revision")


def _key_store():
    from moderation_service.auth import ApiKeyStore
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head

    settings = _settings()
    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    return ApiKeyStore(make_session_factory(make_engine(settings.database_url)))


def _print_issued(issued) -> None:
    typer.echo(f"key id {issued.key_id} for {issued.client} ({','.join(issued.scopes)}):")
    typer.echo(issued.secret)
    typer.secho("store it now: it is not shown again", fg="yellow", err=True)


@keys_app.command("create")
def keys_create(
    client: str = typer.Option(..., help="Name of the client the key belongs to."),
    scopes: str = typer.Option("moderate", help="Comma-separated: moderate, review, admin."),
) -> None:
    """Create a key and print it once."""
    try:
        issued = _key_store().create(client, [s.strip() for s in scopes.split(",") if s.strip()])
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    _print_issued(issued)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, client, scopes, prefix, and whether it is revoked."""
    for key in _key_store().list():
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(f"{key.id}\t{key.client}\t{','.join(key.scopes)}\t{key.display_prefix}...\t{state}")


@keys_app.command("revoke")
def keys_revoke(key_id: int = typer.Argument(..., help="The key's id, from `keys list`.")) -> None:
    """Revoke a key at once."""
    if not _key_store().revoke(key_id):
        typer.secho(f"no active key with id {key_id}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {key_id}")


@keys_app.command("rotate")
def keys_rotate(key_id: int = typer.Argument(..., help="The key's id, from `keys list`.")) -> None:
    """Issue a new key with the same client and scopes, and revoke the old one."""
    try:
        issued = _key_store().rotate(key_id)
    except LookupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    _print_issued(issued)


def _as_json(data) -> str:
    import json

    return json.dumps(data, indent=2, default=str)


users_app = typer.Typer(help="Reviewers, senior reviewers and admins of the review console.", no_args_is_help=True)
dataset_app = typer.Typer(help="Labelled data from human review.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(dataset_app, name="dataset")


def _user_store():
    from moderation_service.users import UserStore

    settings = _settings()
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head

    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    return UserStore(make_session_factory(make_engine(settings.database_url)))


def _password_long_enough(value: str | None) -> str | None:
    # Runs on the first entry, before the confirmation prompt: a short password is not typed twice.
    from moderation_service.users import MIN_PASSWORD

    if value is not None and len(value) < MIN_PASSWORD:
        raise typer.BadParameter(f"the password needs at least {MIN_PASSWORD} characters")
    return value


@users_app.command("create")
def users_create(
    username: str = typer.Option(..., help="Lower-case login name."),
    role: str = typer.Option("reviewer", help="reviewer, senior (may decide appeals) or admin."),
    # click hides a hidden prompt's error message, so the prompt itself states the rule.
    password: str = typer.Option(..., prompt="Password (at least 10 characters)", hide_input=True,
                                 confirmation_prompt=True,
                                 envvar="MODERATION_NEW_USER_PASSWORD", callback=_password_long_enough,
                                 help="At least 10 characters. Asked for (twice) when neither this nor "
                                      "MODERATION_NEW_USER_PASSWORD is given."),
) -> None:
    """Create a console user; the password is stored only as an argon2id hash.

    Scripts pass --password or MODERATION_NEW_USER_PASSWORD (the environment keeps it
    out of the process list); a short password is refused before it is asked again."""
    try:
        _user_store().create(username, password, role)
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {role} {username}")


@users_app.command("list")
def users_list() -> None:
    for user in _user_store().list():
        typer.echo("\t".join([user["username"], user["role"]] + (["disabled"] if user["disabled"] else [])))


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...)) -> None:
    """Disable a user and end their sessions."""
    _user_store().disable(username)
    typer.echo(f"disabled {username}")


@dataset_app.command("export")
def dataset_export(
    out: Path = typer.Option(Path("datasets/exports/reviewed"), help="Folder for items.jsonl and manifest.json."),
    since: datetime = typer.Option(None, help="Only items decided at or after this date/time (UTC)."),
    raw_prompts: bool = typer.Option(False, help="Also write each stored raw prompt, decrypted (needs "
                                     "MODERATION_RAW_PROMPT_KEY); the export then holds personal data."),
) -> None:
    """Write reviewed items as a labelled dataset (redacted prompt, image path, signals, decisions, label)."""
    from moderation_service.api.app import _prompt_unsealer
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
    from moderation_service.image_store import ImageStore
    from moderation_service.review.export import export_dataset

    settings = _settings()
    if raw_prompts and settings.raw_prompt_key is None:
        typer.secho("--raw-prompts needs MODERATION_RAW_PROMPT_KEY (and MODERATION_STORE_RAW_PROMPTS on when the "
                    "items were moderated)", fg="red", err=True)
        raise typer.Exit(2)
    upgrade_to_head(settings.database_url)
    since = since.replace(tzinfo=timezone.utc) if since and since.tzinfo is None else since
    manifest = export_dataset(make_session_factory(make_engine(settings.database_url)),
                              ImageStore(settings.image_dir), out, since,
                              unseal=_prompt_unsealer(settings) if raw_prompts else None)
    typer.echo(f"wrote {manifest['count']} items to {out / 'items.jsonl'} (labels {manifest['labels']})")


@app.command("review-ui")
def review_ui(
    api_url: str = typer.Option("http://127.0.0.1:8000", envvar="MODERATION_API_URL", help="The running API."),
    port: int = typer.Option(8501, help="Port of the console."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on; 0.0.0.0 serves beyond loopback "
                             "(put TLS in front: the login token travels in a cookie)."),
) -> None:
    """Start the Streamlit review console; it talks only to the API at --api-url."""
    import sys

    env = {**os.environ, "MODERATION_API_URL": api_url}
    # toolbarMode viewer: no Deploy button or developer menu for reviewers.
    command = [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "review_ui" / "app.py"),
               "--server.port", str(port), "--server.address", host, "--server.headless", "true",
               "--client.toolbarMode", "viewer", "--browser.gatherUsageStats", "false"]
    # Become the console (exec), so a signal to this process reaches Streamlit: no orphan is left behind.
    os.execve(sys.executable, command, env)


if __name__ == "__main__":
    app()
