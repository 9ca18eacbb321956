"""The reproduction side of the project: data, Keras models, cached training, activation capture,
figure and claim reporting, and the papermill batch runner.

Unlike :mod:`cca` itself, parts of this subpackage need TensorFlow/Keras (install
``cca[experiments]``). Importing ``cca.experiments`` imports nothing heavy: each module imports
TensorFlow only where it needs it.
"""
