"""Zennit for the cross-checks. Zennit imports torchvision (for its ResNet
canonizers), which cannot be loaded beside a CPU-only torch: when the real
import fails, a stand-in module with the two names Zennit reads
(``torchvision.models.resnet.Bottleneck`` and ``.BasicBlock``, empty
modules) is put in sys.modules first."""
import sys
import types

from _deps import require


def _install_torchvision_stub(torch):
    for key in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
        del sys.modules[key]
    tv = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    resnet = types.ModuleType("torchvision.models.resnet")
    resnet.Bottleneck = type("Bottleneck", (torch.nn.Module,), {})
    resnet.BasicBlock = type("BasicBlock", (torch.nn.Module,), {})
    models.resnet = resnet
    tv.models = models
    sys.modules.update({"torchvision": tv, "torchvision.models": models,
                        "torchvision.models.resnet": resnet})


def import_zennit():
    """The zennit package (with the torchvision stand-in if needed)."""
    torch = require("torch")
    try:
        import torchvision.models.resnet  # noqa: F401
    except Exception:
        _install_torchvision_stub(torch)
    zennit = require("zennit")
    for sub in ("attribution", "composites", "rules", "types", "core"):
        require(f"zennit.{sub}")
    return zennit
