"""Plain NumPy twins of xnn's C kernels.

Each function here is written straight from the definition, for reading and
for testing: the tests check these twins against finite differences (and
against PyTorch, Captum and Zennit where they define the same thing), then
check the C kernels against the twins over many shapes and both dtypes.
They favour clarity over speed.

Names mirror the C kernels (``csrc/xnn.h``): ``dense_forward`` is the twin
of ``xnn_dense_forward_f32/_f64``, ``conv2d_backward`` of
``xnn_conv2d_backward_*``, and so on. Activations and losses are given by
name: ``"linear"``, ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softmax"``;
``"cross_entropy"``, ``"binary_cross_entropy"``, ``"ssr"``.

Modules (xnn.reference.<name>): ``dense``, ``activation`` (and dropout), ``loss``, ``optim``,
``conv``, ``pool`` (and flatten), ``network`` (any list of layers),
``explain`` (gradients, LRP, Zennit's presets), ``deeplift``, ``cam``.
Every public name is available from this package directly.
"""
from . import activation as _activation, cam as _cam, conv as _conv, deeplift as _deeplift
from . import dense as _dense, explain as _explain, loss as _loss, network as _network
from . import optim as _optim, pool as _pool

__all__ = [name for mod in (_dense, _activation, _loss, _optim, _conv, _pool, _network, _explain,
                            _deeplift, _cam) for name in mod.__all__]

from .activation import *  # noqa: E402,F401,F403
from .conv import *  # noqa: E402,F401,F403
from .dense import *  # noqa: E402,F401,F403
from .explain import *  # noqa: E402,F401,F403
from .loss import *  # noqa: E402,F401,F403
from .network import *  # noqa: E402,F401,F403
from .optim import *  # noqa: E402,F401,F403
from .pool import *  # noqa: E402,F401,F403
from .deeplift import *  # noqa: E402,F401,F403  (the functions cam and deeplift shadow their modules)
from .cam import *  # noqa: E402,F401,F403
