"""convcost: what a convolutional layer stack costs, before you train it.

The core (shapes, layers, network, compare) is plain records (named tuples; the layer kinds
are frozen dataclasses) and functions; the CLI, the YAML/inline front ends and the
renderers sit around it.
"""

__version__ = "1.0.0"
