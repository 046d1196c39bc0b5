"""The admin tab's API: refused without signing in, working with it, promote reaches the demo."""
from __future__ import annotations

import shutil
import time

import pytest
from gradio_client import Client, handle_file

from core.pipelines import sketch2photo
from core.registry import CHECKPOINTS
from tests.apprunner import running_app

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


def start_args(data):
    # model, dataset, processes, then steps, batch_size, image_size, lr_G, lr_D, lambda_L1, lambda_cycle,
    # lambda_identity, sample_every, eval_every
    return ["sketch2photo", str(data), 1, 2, 1, 128, 2e-4, 2e-4, 100, 10, 0.5, 1, 0]


def test_admin_endpoints_refuse_without_sign_in(admin_app):
    url, data = admin_app
    client = Client(url, verbose=False)
    for api, args in [("/admin_start", start_args(data)), ("/admin_status", [""]),
                      ("/admin_stop", ["x"]), ("/admin_promote", ["x"]), ("/admin_resume", ["x", 3])]:
        with pytest.raises(Exception, match="sign in"):
            client.predict(*args, api_name=api)
    msg = client.predict("wrong", api_name="/admin_sign_in")
    assert "Wrong password" in str(msg)
    with pytest.raises(Exception, match="sign in"):
        client.predict(*start_args(data), api_name="/admin_start")


def test_signed_in_admin_trains_and_promotes_to_the_demo(admin_app, tmp_path):
    url, data = admin_app
    client = Client(url, verbose=False)
    client.predict(PASSWORD, api_name="/admin_sign_in")
    sketch = tmp_path / "bag.png"
    sketch2photo.examples(256)["handbag"].save(sketch)
    before = client.predict({"background": handle_file(str(sketch)), "layers": [], "composite": handle_file(str(sketch))},
                            True, api_name="/sketch")[0]
    with pytest.raises(Exception, match="outside|not in the list of choices"):  # Gradio or the runner
        client.predict(*start_args("/etc"), api_name="/admin_start")
    run, message = client.predict(*start_args(data), api_name="/admin_start")
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
    after = client.predict({"background": handle_file(str(sketch)), "layers": [], "composite": handle_file(str(sketch))},
                           True, api_name="/sketch")[0]
    from PIL import Image, ImageChops

    diff = ImageChops.difference(Image.open(before).convert("RGB"), Image.open(after).convert("RGB"))
    assert diff.getbbox() is not None, "the demo still serves the old weights"
