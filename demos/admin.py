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

from core.pipelines.training import BOUNDS, REGISTRY, RunnerError, default_runner, model_defaults

from .admin_auth import AdminSessions, SignInThrottle, password_matches
from .common import notice, ok, warn
from .inputs import number, refused

PASSWORD_ENV = "LAB_ADMIN_PASSWORD"
SESSIONS = AdminSessions()  # per app process: a restart signs everyone out
THROTTLE = SignInThrottle()
DEFAULT_DATA = "(the model's registry dataset)"
REFUSED = "Refused: sign in as admin first."
FIELDS = ["steps", "batch_size", "image_size", "lr_G", "lr_D", "lambda_L1", "lambda_cycle", "lambda_identity",
          "sample_every", "eval_every"]


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
             "FD_eff": r["fd_eff"], **{k.replace("loss_", ""): round(v, 3) for k, v in r["losses"].items()}}
            for r in summaries]
    return pd.DataFrame(rows or [{"run": "", "model": "", "state": "no runs yet"}])


def _is_adversarial(term: str) -> bool:
    return "gan" in term or term.startswith("loss_D")


def _curves(events: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(adversarial G and D terms, the other terms, FD_eff) as long tables for gr.LinePlot; the
    adversarial terms are O(1) and would vanish next to lambda-weighted L1 on one axis."""
    adversarial, other = [], []
    for e in events:
        if e["event"] == "step":
            for k, v in e["losses"].items():
                (adversarial if _is_adversarial(k) else other).append(
                    {"step": e["step"], "term": k.replace("loss_", ""), "value": v})
    fd = [{"step": e["step"], "term": "FD_eff", "value": e["fd_eff"]} for e in events
          if e["event"] == "eval" and "fd_eff" in e]
    # Built straight from rows: a filtered frame carries a dtype the plot does not draw.
    return tuple(pd.DataFrame(rows, columns=["step", "term", "value"]) for rows in (adversarial, other, fd))


def _status_text(s: dict) -> str:
    rate = f"{s['it_per_s']:.2f} steps/s" if s.get("it_per_s") else "–"
    eta = f"{s['eta_s'] / 60:.1f} min left" if s.get("eta_s") is not None and s["state"] == "running" else ""
    fd = f", FD_eff {s['fd_eff']:.1f}" if s.get("fd_eff") is not None else ""
    return f"**{s['id']}** · {s['model']} · **{s['state']}** · step {s['step']}/{s['steps']} · {rate} {eta}{fd}"


def build(demo: gr.Blocks) -> None:
    models = list(REGISTRY)
    if not os.environ.get(PASSWORD_ENV):
        notice("Admin (locked)",
               f"The admin tab is disabled because no admin password is set. Start the app with "
               f"`{PASSWORD_ENV}=...` to enable it.\n\nMeanwhile, training runs from the command line: "
               f"`python -m core.train NAME [--steps N] [--resume]` for any of "
               f"{', '.join(f'`{m}`' for m in models)}; its events, samples and checkpoints go to `runs/NAME/`.")
        return
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
        gr.Markdown("Hyper-parameters (bounded; loss weights that a model does not use are ignored)")
        with gr.Row():
            inputs = {name: number(defaults[name], label=name, minimum=BOUNDS[name][0], maximum=BOUNDS[name][1],
                                   precision=0 if isinstance(defaults[name], int) else None, min_width=100)
                      for name in FIELDS}
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
            fd = gr.LinePlot(x="step", y="value", color="term", label="FD_eff on a fixed small set", height=300)
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
        if name not in REGISTRY:
            raise refused(f"unknown model {str(name)[:40]!r}")
        d = model_defaults(name)
        return [gr.update(value=d[f]) for f in FIELDS]

    @guarded
    def do_start(tok, name, folder, procs, steps, batch_size, image_size, lr_G, lr_D, lambda_L1, lambda_cycle,
                 lambda_identity, sample_every, eval_every):
        params = dict(zip(FIELDS, [steps, batch_size, image_size, lr_G, lr_D, lambda_L1, lambda_cycle,
                                   lambda_identity, sample_every, eval_every]))
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
    model.change(on_model, inputs=[model], outputs=list(inputs.values()), api_name=False)
    start.click(do_start, inputs=[token, model, data, nproc, *inputs.values()], outputs=[run, message],
                api_name="admin_start")
    stop.click(do_stop, inputs=[token, run], outputs=[message], api_name="admin_stop")
    resume.click(do_resume, inputs=[token, run, inputs["steps"]], outputs=[message], api_name="admin_resume")
    promote.click(do_promote, inputs=[token, run], outputs=[message], api_name="admin_promote")
    timer.tick(quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")
    refresh_btn.click(status_now, inputs=[token, run], outputs=live, api_name="admin_status")
    run.select(quiet_refresh, inputs=[token, run], outputs=watched, api_name=False, show_progress="hidden")
