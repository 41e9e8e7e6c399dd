"""`CustomDQNModel`: the Q-network, built from a `ModelArchitecture`.

The network is a plain functional Keras model made of stock layers only, so a
saved `.keras` file loads with `keras.models.load_model(path)` and nothing of
this package. The dueling head computes `Q = V + (A - mean(A))` with two frozen
dense layers (one broadcasts V to every action, one centres A), which is the
same arithmetic as a custom layer without needing one to load the file.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import tensorflow as tf  # noqa: E402

from services.training_node.settings import ModelArchitecture  # noqa: E402

FloatArray = npt.NDArray[Any]

_configured = False


def configure_tensorflow(threads: int = 1) -> None:
    """Few threads (the node shares a small machine) and deterministic kernels.

    Thread counts can only be set before TensorFlow starts its runtime; a later
    call keeps whatever was set first.
    """
    global _configured
    if _configured:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already up: its thread pools stay
        pass
    tf.config.experimental.enable_op_determinism()
    _configured = True


class CustomDQNModel:
    """Builds the Q-network `observation -> one value per action`."""

    def __init__(self, architecture: ModelArchitecture) -> None:
        self.architecture = architecture

    def build(
        self, observation_size: int, action_count: int, name: str = "q_network"
    ) -> keras.Model:
        arch = self.architecture
        inputs = keras.Input(shape=(observation_size,), name="observation")
        hidden = inputs
        for index, units in enumerate(arch.hidden_layers):
            hidden = keras.layers.Dense(units, activation=arch.activation, name=f"hidden_{index}")(
                hidden
            )
        if not arch.dueling:
            q_values = keras.layers.Dense(action_count, name="q_values")(hidden)
            return keras.Model(inputs, q_values, name=name)
        value = keras.layers.Dense(1, name="value")(hidden)
        advantage = keras.layers.Dense(action_count, name="advantage")(hidden)
        broadcast = keras.layers.Dense(
            action_count,
            use_bias=False,
            trainable=False,
            kernel_initializer=keras.initializers.Constant(np.ones((1, action_count))),
            name="value_broadcast",
        )(value)
        centring = np.eye(action_count) - 1.0 / action_count
        centred = keras.layers.Dense(
            action_count,
            use_bias=False,
            trainable=False,
            kernel_initializer=keras.initializers.Constant(centring),
            name="advantage_centred",
        )(advantage)
        q_values = keras.layers.Add(name="q_values")([broadcast, centred])
        return keras.Model(inputs, q_values, name=name)


def _relu(x: FloatArray) -> FloatArray:
    out: FloatArray = np.maximum(x, 0.0)
    return out


def _elu(x: FloatArray) -> FloatArray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _selu(x: FloatArray) -> FloatArray:
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _swish(x: FloatArray) -> FloatArray:
    out: FloatArray = x / (1.0 + np.exp(-x))
    return out


NUMPY_ACTIVATIONS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "relu": _relu,
    "tanh": np.tanh,
    "elu": _elu,
    "selu": _selu,
    "swish": _swish,
}
"""Activations with a closed form in NumPy (`gelu` needs erf: it acts through TensorFlow)."""


class NumpyQ:
    """The Q-network's forward pass for one observation in NumPy.

    Acting one observation at a time through TensorFlow costs about a millisecond
    of call overhead; this costs tens of microseconds. It holds a copy of the
    weights: `load` them whenever they change (the trainer's gradient step hands
    back the updated weights, so acting always uses the network as trained).
    """

    def __init__(self, architecture: ModelArchitecture, paths: list[str]) -> None:
        activation = NUMPY_ACTIVATIONS.get(architecture.activation)
        if activation is None:
            raise ValueError(f"no NumPy form for activation {architecture.activation!r}")
        self.activation = activation
        self.paths = paths
        self.hidden = [f"hidden_{i}" for i in range(len(architecture.hidden_layers))]
        self.heads = ["value", "advantage"] if architecture.dueling else ["q_values"]
        self.weights: dict[str, FloatArray] = {}

    def load(self, values: list[FloatArray]) -> None:
        """Weights in the order of `paths` (the model's trainable variables)."""
        self.weights = dict(zip(self.paths, values, strict=True))

    def _dense(self, name: str, x: FloatArray) -> FloatArray:
        out: FloatArray = x @ self.weights[f"{name}/kernel"] + self.weights[f"{name}/bias"]
        return out

    def __call__(self, observation: FloatArray) -> FloatArray:
        x = observation.astype(np.float32, copy=False)
        for name in self.hidden:
            x = self.activation(self._dense(name, x))
        outputs = [self._dense(name, x) for name in self.heads]
        if len(outputs) == 1:
            return outputs[0]
        value, advantage = outputs
        q: FloatArray = value + (advantage - advantage.mean(axis=-1, keepdims=True))
        return q
