# SPDX-License-Identifier: BSD-3-Clause
"""A network as a C++ function that DiffFrame expressions call.

`declare(network, ddf)` declares to ROOT's interpreter (once per network shape and
parameter block) a function ``diffana_nn_<name>_<block>_<hash>(inputs..., features...)``
that returns the network's output as a ``Dual<double, P>``: the weights are read from
the DiffFrame's parameter block (``diffana::rdf::Params<P>``) at every call, so a new
``set_params`` needs no recompilation, and the tangents w.r.t. every parameter (the
weights and whatever the inputs depend on) come from one forward and one reverse
sweep through the network (``diffana::nn::mlp_call`` / ``deepsets_call`` in
``include/diffana/nn/call.hpp``). `expression(network, fn)` is the C++ expression of
the call on the network's input columns.

The weights must be parameters of the DiffFrame, consecutive and in the order of
`Network.param_names` (a configuration's ``networks:`` key arranges that).

`cpp_spec` is the C++ expression that builds the network's shape
(``diffana::nn::Mlp`` or ``diffana::nn::DeepSets``), for compiled programs too.

For the adjoint method (`diffana.rdf.adjoint`) the weights are instead one
reverse-mode vector parameter of the DiffFrame: `apply_expression(network, weights)`
declares a function around ``diffana::nn::mlp_apply(shape, weights, inputs...)``
(``deepsets_apply``; ``include/diffana/nn/reverse.hpp``) and returns its call, which
reads plain numbers in the first event loop and records one tape node per event in
the adjoint loop.

May import `diffana.nn.spec`, the standard library and, inside `declare`, ROOT
through `diffana.rdf`.
"""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

from .spec import ACTIVATIONS, POOLS, Network

__all__ = ["apply_expression", "cpp_spec", "declare", "expression"]

#: The functions declared so far (cling cannot forget them).
_declared: set[str] = set()
#: Whether diffana/nn/call.hpp is declared.
_header = False


def _mlp(sizes: list[int], hidden: str, output: str) -> str:
    act = "diffana::nn::Activation"
    return (
        f"diffana::nn::Mlp({{{', '.join(map(str, sizes))}}}, "
        f"{act}({ACTIVATIONS[hidden]}), {act}({ACTIVATIONS[output]}))"
    )


def cpp_spec(network: Network) -> str:
    """The C++ expression that builds ``network``'s shape.

    Examples
    --------
    >>> cpp_spec(Network("net", inputs=("a", "b"), layers=(4, 1)))
    'diffana::nn::Mlp({2, 4, 1}, diffana::nn::Activation(1), diffana::nn::Activation(0))'
    """
    rho = _mlp(network.sizes, network.activation, network.output_activation)
    if network.jets is None:
        return rho
    phi = _mlp(network.phi_sizes, network.activation, network.activation)
    pool = f"diffana::nn::Pool({POOLS[network.jets.pool]})"
    return f"diffana::nn::DeepSets({phi}, {rho}, {pool})"


def expression(network: Network, fn: str) -> str:
    """The call of the declared function ``fn`` on the network's columns.

    Examples
    --------
    >>> net = Network("net", inputs=("ht",), layers=(1,))
    >>> expression(net, "f")
    'f(ht)'
    """
    args = [*network.inputs, *(network.jets.features if network.jets else ())]
    return f"{fn}({', '.join(args)})"


def _param_block(ddf: Any) -> tuple[str, int]:
    """The C++ name of a DiffFrame's parameter block and its id
    (`diffana.rdf.DiffFrame.param_block`): the network call reads the weights
    there, as the inlined parameters do."""
    block = ddf.param_block
    return block.cpp_name, block.id


def _include(ROOT: Any) -> None:
    """Declare ``diffana/nn/reverse.hpp`` (and with it ``call.hpp``) to cling
    (once). An installed copy of the headers that predates them (a source checkout
    whose ``pip install`` is older) gets the checkout's include folder as a fallback; the other headers still come
    from the installed copy, which is searched first."""
    global _header
    if _header:
        return
    from .. import get_include

    marker = pathlib.Path("diffana") / "nn" / "reverse.hpp"
    if not (pathlib.Path(get_include()) / marker).exists():
        src = pathlib.Path(__file__).resolve().parents[3] / "include"
        if (src / marker).exists():
            ROOT.gInterpreter.AddIncludePath(str(src))
    if not ROOT.gInterpreter.Declare('#include "diffana/nn/reverse.hpp"'):
        msg = "ROOT's interpreter could not compile diffana/nn/reverse.hpp"
        raise RuntimeError(msg)
    _header = True


def _shape(network: Network, digest: str) -> tuple[str, str]:
    """The name of the function that returns ``network``'s shape (a static
    object: tape nodes point at it) and the C++ that declares it (guarded, so that
    declaring it twice is harmless)."""
    kind = "DeepSets" if network.jets else "Mlp"
    shape = f"diffana_nn_shape_{digest}"
    code = (
        f"#ifndef DIFFANA_NN_SHAPE_{digest}\n#define DIFFANA_NN_SHAPE_{digest}\n"
        f"inline const diffana::nn::{kind}& {shape}() {{\n"
        f"  static const diffana::nn::{kind} net = {cpp_spec(network)};\n"
        "  return net;\n}\n#endif\n"
    )
    return shape, code


def apply_expression(network: Network, weights: str) -> str:
    """The C++ expression of ``network``'s output with its weights read from
    ``weights``, a reverse-mode vector parameter of a DiffFrame
    (``DiffFrame(..., reverse={weights: values})``, `Network.n_weights` values in
    `Network.param_names` order): the call of a function declared to cling (once
    per shape) around ``diffana::nn::mlp_apply`` / ``deepsets_apply``, so that no
    C++ name in the expression can be taken for a column.

    Examples
    --------
    >>> net = Network("net", inputs=("a", "b"), layers=(4, 1))
    >>> apply_expression(net, "net__weights")  # doctest: +SKIP
    'diffana_nn_apply_...(net__weights, a, b)'
    """

    if network.n_outputs != 1:
        msg = (
            f"network {network.name!r} has {network.n_outputs} outputs; a network "
            "column is one number per event (make the last layer 1)"
        )
        raise ValueError(msg)
    digest = hashlib.sha256(f"{cpp_spec(network)}|apply".encode()).hexdigest()[:10]
    fn = f"diffana_nn_apply_{digest}"
    if fn not in _declared:
        _declare_wrapper(network, fn, digest, "apply", "w", "std::make_tuple")
    columns = [weights, *network.inputs]
    columns += network.jets.features if network.jets else ()
    return f"{fn}({', '.join(columns)})"


def declare(network: Network, ddf: Any) -> str:
    """Declare ``network`` as a C++ function over ``ddf``'s parameters; returns
    its name. ValueError when the weights are not consecutive parameters of
    ``ddf`` in `Network.param_names` order, or the single output is missing."""

    if network.n_outputs != 1:
        msg = (
            f"network {network.name!r} has {network.n_outputs} outputs; a network "
            "column is one number per event (make the last layer 1)"
        )
        raise ValueError(msg)
    names = list(ddf.param_names)
    wanted = network.param_names()
    try:
        offset = names.index(wanted[0])
    except ValueError:
        msg = (
            f"network {network.name!r}: its weights are not parameters of the DiffFrame"
        )
        raise ValueError(msg) from None
    if names[offset : offset + len(wanted)] != wanted:
        msg = (
            f"network {network.name!r}: its weights must be consecutive parameters "
            "in the order of Network.param_names()"
        )
        raise ValueError(msg)
    block, block_id = _param_block(ddf)
    spec = cpp_spec(network)
    digest = hashlib.sha256(f"{spec}|{offset}".encode()).hexdigest()[:10]
    fn = f"diffana_nn_{network.name}_{block_id}_{digest}"
    if fn not in _declared:
        head = f"{block}, {offset}"
        _declare_wrapper(network, fn, digest, "call", head, "std::forward_as_tuple")
    return fn


def _declare_wrapper(
    network: Network, fn: str, digest: str, kind: str, head: str, event_tuple: str
) -> None:
    """Declare ``fn``, a template over the network's inputs (and jet features) that
    returns ``diffana::nn::mlp_<kind>`` or ``deepsets_<kind>`` of the network's shape,
    ``head`` (the weights: ``w``, a parameter of ``fn``, or a parameter block and
    offset) and the inputs (the event-level ones packed by ``event_tuple``)."""
    from .. import rdf

    n_in = len(network.inputs)
    n_f = len(network.jets.features) if network.jets else 0
    xs = [f"X{i}" for i in range(n_in)] + [f"F{i}" for i in range(n_f)]
    lead = ["W"] if head == "w" else []
    template = ", ".join(f"class {t}" for t in [*lead, *xs])
    params = ", ".join(f"const {t}& {t.lower()}" for t in [*lead, *xs])
    shape, shape_code = _shape(network, digest)
    if network.jets is None:
        args = "".join(f", x{i}" for i in range(n_in))
        body = f"diffana::nn::mlp_{kind}({shape}(), {head}{args})"
    else:
        ev = ", ".join(f"x{i}" for i in range(n_in))
        feats = ", ".join(f"f{i}" for i in range(n_f))
        body = (
            f"diffana::nn::deepsets_{kind}({shape}(), {head}, {event_tuple}({ev}), "
            f"std::forward_as_tuple({feats}))"
        )
    code = (
        f"{shape_code}template <{template}>\ninline auto {fn}({params}) {{\n"
        f"  return {body};\n}}\n"
    )
    ROOT = rdf._import_root()
    _include(ROOT)

    def run() -> Any:
        if not ROOT.gInterpreter.Declare(code):
            raise ValueError("cling refused the declaration")
        return True

    rdf._compiled(f"network {network.name!r}", code, run)
    _declared.add(fn)
