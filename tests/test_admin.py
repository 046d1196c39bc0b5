"""The admin tab's API: refused without signing in, working with it, promote reaches the demo."""
from __future__ import annotations

import shutil
import time

import pytest
from gradio_client import Client, handle_file

from core.pipelines import sketch2photo
from core.registry import CHECKPOINTS
from tests.apprunner import local_client, running_app

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    if not sketch2photo.has_checkpoint():
        pytest.skip("no shipped sketch2photo checkpoint")
    tmp = tmp_path_factory.mktemp("admin")
    from core.data.synthetic import make_paired_folder

    data = make_paired_folder(tmp / "data" / "pairs", n=8, size=64, photo_left=True)
    shutil.copytree(CHECKPOINTS / "sketch2photo", tmp / "checkpoints" / "sketch2photo")
    env = {"LAB_ADMIN_PASSWORD": PASSWORD, "LAB_RUNS_DIR": str(tmp / "runs"), "LAB_DATA_ROOTS": str(tmp / "data"),
           "LAB_CHECKPOINTS": str(tmp / "checkpoints")}
    with running_app(env=env) as url:
        yield url, data


def start_args(client: Client, data, **values) -> list:
    """/admin_start's arguments by label: the form's defaults (the first model's), then `values`
    (every control of that label: each task group has its own lr_G, say)."""
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/admin_start"]["parameters"]
    given = {"Model": "sketch2photo", "Processes (torchrun)": 1, "steps": 2, "batch_size": 1, "image_size": 128,
             "sample_every": 1, "eval_every": 0, **values}
    args = [given.get(p["label"], p.get("parameter_default")) for p in params]
    args[1] = str(data)  # the dataset folder
    return args


@pytest.mark.slow
@pytest.mark.shipped
def test_admin_endpoints_refuse_without_sign_in(admin_app):
    url, data = admin_app
    client = local_client(url)
    for api, args in [("/admin_start", start_args(client, data)), ("/admin_status", [""]),
                      ("/admin_stop", ["x"]), ("/admin_promote", ["x"]), ("/admin_resume", ["x", 3])]:
        with pytest.raises(Exception, match="sign in"):
            client.predict(*args, api_name=api)
    msg = client.predict("wrong", api_name="/admin_sign_in")
    assert "Wrong password" in str(msg)
    with pytest.raises(Exception, match="sign in"):
        client.predict(*start_args(client, data), api_name="/admin_start")


@pytest.mark.slow
@pytest.mark.shipped
def test_signed_in_admin_trains_and_promotes_to_the_demo(admin_app, tmp_path):
    url, data = admin_app
    client = local_client(url)
    client.predict(PASSWORD, api_name="/admin_sign_in")
    sketch = tmp_path / "bag.png"
    sketch2photo.examples(256)["handbag"].save(sketch)
    before = client.predict(handle_file(str(sketch)), True, api_name="/sketch")[0]
    with pytest.raises(Exception, match="outside|not in the list of choices"):  # Gradio or the runner
        client.predict(*start_args(client, "/etc"), api_name="/admin_start")
    run, message = client.predict(*start_args(client, data), api_name="/admin_start")
    run_id = run if isinstance(run, str) else run.get("value")
    assert "Started" in message
    deadline = time.time() + 300
    while time.time() < deadline:
        status = client.predict(run_id, api_name="/admin_status")[1]
        if "finished" in status:
            break
        time.sleep(1)
    assert "finished" in status and "2/2" in status
    assert "Promoted" in client.predict(run_id, api_name="/admin_promote")
    after = client.predict(handle_file(str(sketch)), True, api_name="/sketch")[0]
    from PIL import Image, ImageChops

    diff = ImageChops.difference(Image.open(before).convert("RGB"), Image.open(after).convert("RGB"))
    assert diff.getbbox() is not None, "the demo still serves the old weights"


def test_a_new_tasks_knobs_appear_in_the_admin_form(monkeypatch):
    """The form is built from each task's Params: a task added to TASKS and a model added to the
    registry bring their knobs (bounds, choices, help, the model's values) with no admin change."""
    from dataclasses import dataclass, replace

    import gradio as gr

    import core.registry as registry
    from core.train.config import TaskParams, config_for, knob
    from core.train.tasks import TASKS, Task
    from demos import admin

    @dataclass(frozen=True)
    class TinyParams(TaskParams):
        lambda_tiny: float = knob(3.0, 0.0, 9.0, help="a tiny task's loss weight")
        mode_tiny: str = knob("a", choices=("a", "b"))

    class TinyTask(Task):
        Params = TinyParams

    monkeypatch.setitem(TASKS, "tiny", TinyTask)
    spec = replace(registry.REGISTRY["sketch2photo"], name="tiny_model", task="tiny", task_params={"lambda_tiny": 4.0})
    monkeypatch.setitem(registry.REGISTRY, "tiny_model", spec)
    monkeypatch.setenv(admin.PASSWORD_ENV, "x")
    with gr.Blocks() as demo:
        admin.build(demo)
    by_label = {c["props"].get("label"): c for c in demo.get_config_file()["components"]}
    tiny = by_label["lambda_tiny"]
    assert tiny["type"] == "number" and tiny["props"]["value"] == 4.0 and tiny["props"]["maximum"] == 9.0
    assert "tiny task" in tiny["props"]["info"]
    assert by_label["mode_tiny"]["type"] == "dropdown"
    assert config_for(spec, lambda_tiny="5", steps=3).task == TinyParams(lambda_tiny=5.0)
    with pytest.raises(ValueError, match="lambda_tiny"):  # the refusal lists the valid keys
        config_for(spec, lambda_L1=1)
