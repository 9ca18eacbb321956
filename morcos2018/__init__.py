"""The reproduction of Morcos, Raghu & Bengio (NeurIPS 2018): data, Keras models, cached training,
activation capture, the paper's claims as checks, figure and findings reporting, and the papermill
batch runner (``cca-reproduce``).

A project of its own (the repository's root pyproject.toml), beside the similarity library
:mod:`cca` (distribution ``pwcca``) that it uses; the library never imports this package.
Importing ``morcos2018`` imports nothing heavy: each module imports TensorFlow only where it needs
it.
"""
