"""Admin tab: launch, watch, stop, resume and promote training runs. Password-protected.

Enabled only when LAB_ADMIN_PASSWORD is set. A correct password creates a server-side sign-in
(`admin_auth.AdminSessions`: a random token whose hash the server keeps); the session's
server-side gr.State holds the token and every admin event looks it up in the table, so direct
API calls without a password are refused, and sign-out revokes the token everywhere. The browser
keeps the same token (gr.BrowserState) so that a page reload stays signed in while the token
lives; its encryption key is public (Gradio sends it to every visitor), so it is not relied on.
Wrong passwords are throttled per client address (`admin_auth.SignInThrottle`).
"""
from __future__ import annotations

import functools
import math
import os
import secrets

import gradio as gr
import pandas as pd

from core.registry import REGISTRY

from .admin_auth import AdminSessions, SignInThrottle, password_matches
from .admin_auth import log as auth_log
from .common import notice, ok, warn
from .inputs import number, refused

PASSWORD_ENV = "LAB_ADMIN_PASSWORD"
SESSIONS = AdminSessions()  # per app process: a restart signs everyone out
THROTTLE = SignInThrottle()
DEFAULT_DATA = "(the model's registry dataset)"
REFUSED = "Refused: sign in as admin first."
# The loop's fields the form offers; each task's own knobs come from its Params class.
LOOP_FIELDS = ("steps", "batch_size", "image_size", "sample_every", "eval_every")


def _client(request: gr.Request | None) -> str:
    """The caller's address (uvicorn takes X-Forwarded-For only from a proxy on this machine)."""
    client = getattr(getattr(request, "client", None), "host", None)
    return str(client or "unknown")[:64]


def _signed_in(token: str, message: str, remember: bool = True):
    # remember=False leaves the browser's copy alone: rewriting it would fire its change event again.
    return (token, token if remember else gr.skip(), ok(message), gr.update(visible=True), gr.Timer(active=True))


def _signed_out(message: str, forget: bool = False):
    # The browser only stores truthy values, so forgetting writes an invalid token over the old one.
    return None, "signed-out" if forget else gr.skip(), message, gr.update(visible=False), gr.Timer(active=False)


def sign_in(password, request: gr.Request):
    client = _client(request)
    wait = THROTTLE.wait_s(client)
    if wait > 0:
        return _signed_out(warn(f"Too many wrong passwords from your address: try again in "
                                f"{math.ceil(wait / 60)} min."))
    if password_matches(password, os.environ.get(PASSWORD_ENV, "")):
        THROTTLE.succeeded(client)
        return _signed_in(SESSIONS.create(), "Signed in.")
    THROTTLE.failed(client)
    return _signed_out(warn("Wrong password."))


def sign_out(token):
    """Revoke this sign-in on the server (every copy of its token dies with it)."""
    SESSIONS.revoke(token)
    return _signed_out(ok("Signed out."), forget=True)


def restore(remembered):
    """On page load: the browser's copy of a live sign-in signs this new session in again."""
    if SESSIONS.check(remembered):
        return _signed_in(remembered, "Signed in (remembered in this browser).", remember=False)
    # Touch nothing: under load this can arrive after the person has already signed in.
    return tuple(gr.skip() for _ in range(5))


def _runs_table(summaries: list[dict]) -> pd.DataFrame:
    rows = [{"run": r["id"], "model": r["model"], "state": r["state"], "step": f"{r['step']}/{r['steps']}",
             **{k: round(v, 3) for k, v in r["metrics"].items()},
             **{k.replace("loss_", ""): round(v, 3) for k, v in r["losses"].items()}}
            for r in summaries]
    return pd.DataFrame(rows or [{"run": "", "model": "", "state": "no runs yet"}])


def _is_adversarial(term: str) -> bool:
    return "gan" in term or term.startswith("loss_D")


def _curves(events: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(adversarial G and D terms, the other terms, the task's live metrics) as long tables for
    gr.LinePlot; the
    adversarial terms are O(1) and would vanish next to lambda-weighted L1 on one axis."""
    from core.train.events import live_figures  # here, not at the top: see build

    adversarial, other = [], []
    for e in events:
        if e["event"] == "step":
            for k, v in e["losses"].items():
                (adversarial if _is_adversarial(k) else other).append(
                    {"step": e["step"], "term": k.replace("loss_", ""), "value": v})
    live = [{"step": e["step"], "term": k, "value": v} for e in events if e["event"] == "eval"
            for k, v in live_figures(e).items()]
    # Built straight from rows: a filtered frame carries a dtype the plot does not draw.
    return tuple(pd.DataFrame(rows, columns=["step", "term", "value"]) for rows in (adversarial, other, live))


def _status_text(s: dict) -> str:
    rate = f"{s['it_per_s']:.2f} steps/s" if s.get("it_per_s") else "–"
    eta = f"{s['eta_s'] / 60:.1f} min left" if s.get("eta_s") is not None and s["state"] == "running" else ""
    figures = "".join(f", {k} {v:.3f}" for k, v in s.get("metrics", {}).items())
    return f"**{s['id']}** · {s['model']} · **{s['state']}** · step {s['step']}/{s['steps']} · {rate} {eta}{figures}"


def _control(f, value):
    """A form control for one hyper-parameter field (a `knob`): a bounded number, a choice or text."""
    help_, bounds, choices = f.metadata["help"] or None, f.metadata["bounds"], f.metadata["choices"]
    if choices:
        return gr.Dropdown(list(choices), value=value, label=f.name, info=help_, min_width=120)
    if bounds is None:
        return gr.Textbox(value, label=f.name, info=help_, max_length=200, min_width=160)
    return number(value, label=f.name, minimum=bounds[0], maximum=bounds[1], info=help_,
                  precision=0 if f.type == "int" else None, min_width=100)


def _task_models() -> dict[str, str]:
    """Each task of the registry -> its first model (whose defaults fill the task's group)."""
    out: dict[str, str] = {}
    for name, spec in REGISTRY.items():
        out.setdefault(spec.task, name)
    return out


def build(demo: gr.Blocks) -> None:
    models = list(REGISTRY)
    if not os.environ.get(PASSWORD_ENV):
        notice("Admin (locked)",
               f"The admin tab is disabled because no admin password is set. Start the app with "
               f"`{PASSWORD_ENV}=...` to enable it.\n\nMeanwhile, training runs from the command line: "
               f"`python -m core.train NAME [--steps N] [--resume]` for any of "
               f"{', '.join(f'`{m}`' for m in models)}; its events, samples and checkpoints go to `runs/NAME/`.")
        return
    # The training code only for an enabled tab: importing it takes over a second (torchvision), which a
    # locked tab (the default) would add to every start of the app (docs/RESULTS.md, cold start).
    from core.train.config import TrainConfig, knobs, model_defaults, params_class
    from core.train.runner import RunnerError, default_runner

    if len(os.environ[PASSWORD_ENV]) < 12:  # the lockout slows guessing down; it cannot save a short password
        auth_log.warning("%s is shorter than 12 characters: use a long passphrase if the app faces a network",
                    PASSWORD_ENV)
    runner = default_runner()
    token = gr.State(None)  # server-side, per session: the sign-in token every admin event looks up
    # The browser's copy of the token, for page reloads. Gradio publishes this key in /config, so
    # the encryption protects nothing: only the server's session table decides.
    remembered = gr.BrowserState(None, storage_key="lab-admin", secret=secrets.token_hex(16))
    gr.Markdown("## Admin: train the lab's models\nJobs run in their own process and survive page reloads; "
                "one job at a time.")
    with gr.Row():
        password = gr.Textbox(label="Admin password", type="password", elem_id="admin-password", scale=3)
        sign = gr.Button("Sign in", elem_id="admin-sign-in", scale=1)
        sign_out_btn = gr.Button("Sign out", elem_id="admin-sign-out", scale=1)
    message = gr.Markdown("", elem_id="admin-message")
    with gr.Column(visible=False, elem_id="admin-panel") as panel:
        defaults = model_defaults(models[0])
        with gr.Row():
            model = gr.Dropdown(models, value=models[0], label="Model")
            data = gr.Dropdown([DEFAULT_DATA] + runner.data_choices(), value=DEFAULT_DATA,
                               label="Dataset folder (under the allowed roots)")
            nproc = number(1, label="Processes (torchrun)", minimum=1, maximum=16, precision=0)
        gr.Markdown("Hyper-parameters (bounded): the training loop's, then the model's own")
        with gr.Row():
            loop_knobs = {f.name: f for f in knobs(TrainConfig)}
            loop_inputs = [_control(loop_knobs[name], defaults[name]) for name in LOOP_FIELDS]
        groups, task_inputs = {}, {}
        for task, first in _task_models().items():  # one group of knobs per task; the model's is shown
            d = model_defaults(first)
            with gr.Row(visible=task == REGISTRY[models[0]].task) as groups[task]:
                task_inputs[task] = [_control(f, d[f.name]) for f in knobs(params_class(REGISTRY[first]))]
        with gr.Row():
            start = gr.Button("Start", variant="primary", elem_id="admin-start")
            stop = gr.Button("Stop", elem_id="admin-stop")
            resume = gr.Button("Resume", elem_id="admin-resume")
            promote = gr.Button("Promote to the demo", elem_id="admin-promote")
        with gr.Row():
            run = gr.Dropdown([], label="Run", elem_id="admin-run", allow_custom_value=True, scale=4)
            refresh_btn = gr.Button("Refresh", elem_id="admin-refresh", scale=1)
        status = gr.Markdown("", elem_id="admin-status")
        with gr.Row():
            adversarial = gr.LinePlot(x="step", y="value", color="term", height=300,
                                      label="Adversarial terms (G fooling D, D on real and fake)")
            other = gr.LinePlot(x="step", y="value", color="term", height=300, label="Other terms (e.g. L1 x lambda)")
            fd = gr.LinePlot(x="step", y="value", color="term", height=300,
                             label="Live metrics on a fixed small set (FD_eff: lower is better)")
        with gr.Row():
            sample = gr.Image(label="Latest samples (input | output | target)", type="filepath", height=320,
                              interactive=False, elem_id="admin-sample")
            log = gr.Textbox(label="Log", lines=14, max_lines=14, elem_id="admin-log", autoscroll=True)
        runs = gr.Dataframe(label="Runs", interactive=False, elem_id="admin-runs")

    def guarded(fn):
        """Look the session's sign-in up in the server's table before `fn(tok, ...)` runs, and
        turn refusals into messages."""

        @functools.wraps(fn)
        def inner(tok, *args):
            if not SESSIONS.check(tok):
                raise refused(REFUSED)
            try:
                return fn(tok, *args)
            except RunnerError as e:
                raise refused(str(e)) from None
        return inner

    def on_model(name):
        """The model's defaults in the loop's fields and its task's group, which alone is shown."""
        if name not in REGISTRY:
            raise refused(f"unknown model {str(name)[:40]!r}")
        d, task = model_defaults(name), REGISTRY[name].task
        own = [gr.update(value=d[f.name]) for f in knobs(params_class(REGISTRY[name]))]
        return ([gr.update(value=d[f]) for f in LOOP_FIELDS] + [gr.update(visible=t == task) for t in groups]
                + [own.pop(0) if t == task else gr.skip() for t, controls in task_inputs.items() for _ in controls])

    @guarded
    def do_start(tok, name, folder, procs, *values):
        """values: the loop's fields, then every task group's knobs in order; the model's own count."""
        if name not in REGISTRY:
            raise refused(f"unknown model {str(name)[:40]!r}")
        params = dict(zip(LOOP_FIELDS, values))
        at = len(LOOP_FIELDS)
        for task, controls in task_inputs.items():
            if task == REGISTRY[name].task:
                own = [f.name for f in knobs(params_class(REGISTRY[name]))]
                params.update(zip(own, values[at:at + len(controls)]))
            at += len(controls)
        run_id = runner.start(name, params, None if folder in (None, "", DEFAULT_DATA) else folder, int(procs or 1))
        return gr.update(choices=[r["id"] for r in runner.runs_list()], value=run_id), ok(f"Started {run_id}.")

    @guarded
    def do_stop(tok, run_id):
        runner.stop(run_id)
        return ok(f"Stopping {run_id}: it finishes its step and saves.")

    @guarded
    def do_resume(tok, run_id, steps):
        runner.resume(run_id, int(steps) if steps else None)
        return ok(f"Resumed {run_id}.")

    @guarded
    def do_promote(tok, run_id):
        target = runner.promote(run_id)
        return ok(f"Promoted {run_id}: the demo now serves it from `{target.name}/`.")

    @guarded
    def status_now(tok, run_id):
        return refresh(run_id)

    def refresh(run_id):
        summaries = runner.runs_list()
        ids = [r["id"] for r in summaries]
        run_id = run_id if run_id in ids else (runner.active() or (ids[0] if ids else None))
        if not run_id:
            return gr.update(choices=ids, value=None), "No runs yet.", *_curves([]), None, "", _runs_table(summaries)
        events = runner.events(run_id)
        samples = [e["path"] for e in events if e["event"] == "sample"]
        summary = next(r for r in summaries if r["id"] == run_id)
        return (gr.update(choices=ids, value=run_id), _status_text(summary), *_curves(events),
                samples[-1] if samples else None, runner.log_tail(run_id), _runs_table(summaries))

    def quiet_refresh(tok, run_id):
        """The live views; never pops errors at anyone. A sign-in that has died meanwhile (signed
        out in another tab, idle too long) closes the panel."""
        if SESSIONS.check(tok):
            return (*refresh(run_id), gr.skip(), gr.skip(), gr.skip())
        if tok:
            return (*[gr.skip()] * len(live), warn("Signed out (signed out elsewhere, or idle too long)."),
                    gr.update(visible=False), gr.Timer(active=False))
        return [gr.skip()] * (len(live) + 3)

    live = [run, status, adversarial, other, fd, sample, log, runs]
    timer = gr.Timer(3.0, active=False)
    signed = [token, remembered, message, panel, timer]
    watched = [*live, message, panel, timer]
    # Sign-in never waits in the models' queue slots: no limit of its own, and it answers at once
    # (a throttled address is refused without sleeping), so a flood delays nobody else.
    auth = dict(concurrency_id="admin-auth", concurrency_limit=None)
    for trigger in (sign.click, password.submit):
        trigger(sign_in, inputs=[password], outputs=signed,
                api_name="admin_sign_in" if trigger == sign.click else False, **auth).then(
            quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")
    # The browser reads its stored token after the page's load events, and then fires "change".
    remembered.change(restore, inputs=[remembered], outputs=signed, api_name=False, **auth).then(
        quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")
    sign_out_btn.click(sign_out, inputs=[token], outputs=signed, api_name=False, **auth)
    all_task_inputs = [c for controls in task_inputs.values() for c in controls]

    model.change(on_model, inputs=[model], outputs=[*loop_inputs, *groups.values(), *all_task_inputs],
                 api_name=False)
    start.click(do_start, inputs=[token, model, data, nproc, *loop_inputs, *all_task_inputs], outputs=[run, message],
                api_name="admin_start")
    stop.click(do_stop, inputs=[token, run], outputs=[message], api_name="admin_stop")
    resume.click(do_resume, inputs=[token, run, loop_inputs[0]], outputs=[message], api_name="admin_resume")
    promote.click(do_promote, inputs=[token, run], outputs=[message], api_name="admin_promote")
    timer.tick(quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")
    refresh_btn.click(status_now, inputs=[token, run], outputs=live, api_name="admin_status")
    run.select(quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")


if __name__ == "__main__":  # python -m demos.admin: this tab alone
    from .server import serve_tab

    serve_tab(build, "Admin")
