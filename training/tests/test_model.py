"""The network, its losses and its ONNX export, without data."""

import numpy as np
import onnx
import pytest
import torch

from automix_training import export, losses
from automix_training.model import FLAT, AutomixCnn


def test_the_body_flattens_to_the_papers_768_values():
    net = AutomixCnn(9).eval()
    x = torch.rand(3, 2, 128, 64)
    assert torch.flatten(net.body(x), 1).shape == (3, FLAT) == (3, 768)
    assert net(x).shape == (3, 9)
    convs = [m for m in net.body if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (2, 8, (3, 3), (0, 0)),
        (8, 16, (3, 3), (0, 0)),
        (16, 32, (3, 3), (0, 0)),
        (32, 64, (3, 3), (0, 0)),
    ]
    assert net.dropout.p == 0.3


def test_eq_loss_weighs_unchanged_bands_a_tenth():
    target = torch.zeros(1, 9)
    changed = torch.zeros(1, 9, dtype=torch.bool)
    changed[0, :4] = True
    # an error of 1 on every changed band: loss 1; on every unchanged band: 0.1
    only_changed = target.clone()
    only_changed[0, :4] = 1.0
    only_unchanged = target.clone()
    only_unchanged[0, 4:] = 1.0
    w = losses.weights_for("eq", [str(i) for i in range(9)])
    assert float(losses.loss("eq", only_changed, target, changed, w)) == pytest.approx(1.0)
    assert float(losses.loss("eq", only_unchanged, target, changed, w)) == pytest.approx(0.1)


def test_reverb_loss_is_10_dw_5_rt_5_rs_and_the_rest():
    names = [
        "reverb_room_size",
        "reverb_time_s",
        "reverb_fade_in_s",
        "reverb_dry_wet",
        "reverb_low_cutoff_hz",
        "reverb_low_q",
        "reverb_low_gain_db_per_s",
        "reverb_high_cutoff_hz",
        "reverb_high_q",
        "reverb_high_gain_db_per_s",
    ]
    w = losses.weights_for("reverb", names)
    assert w.tolist() == [5, 5, 1, 10, 1, 1, 1, 1, 1, 1]
    err = torch.zeros(1, 10)
    err[0, 3] = 1.0  # dry/wet off by 1
    assert float(losses.loss("reverb", err, torch.zeros(1, 10), None, w)) == pytest.approx(10.0)


@pytest.mark.parametrize("outputs", [1, 9, 10])
def test_onnx_equals_pytorch(tmp_path, outputs):
    torch.manual_seed(outputs)
    net = AutomixCnn(outputs)
    # move BatchNorm's running statistics off their defaults, so the export is checked with them
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(16, 2, 128, 64))
    path = tmp_path / "m.onnx"
    module = export.export(net, path)
    model = onnx.load(str(path))
    assert model.opset_import[0].version == 17
    assert [i.name for i in model.graph.input] == ["features"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    rng = np.random.default_rng(outputs)
    for batch in (1, 7, 64):
        x = rng.random((batch, 2, 128, 64), dtype=np.float32)
        diff = export.max_difference(module, path, x)
        assert diff < 1e-4, f"batch {batch}: ONNX Runtime differs from PyTorch by {diff}"
