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

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from services.training_node.settings import ModelArchitecture  # noqa: E402

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
