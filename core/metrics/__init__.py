"""Metric networks and formulas: EfficientNet-Lite0 features (FD_eff / KID_eff), SSIM, PSNR, L1.

The low layer that `core.train` (live FD_eff), `core.pipelines` (PSNR in the tab) and `core.eval`
(the evaluators) all import. It imports only `core.device` from `core` (tests/test_layering.py).
Import the modules (`core.metrics.features`, `.distribution`, `.paired`, `.pixels`): only the one
you use is loaded (torchmetrics and the EfficientNet weights are not cheap).
"""
