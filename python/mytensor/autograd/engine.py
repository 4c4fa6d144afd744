"""``backward()``: an iterative topological walk of the graph that accumulates leaf gradients."""

from __future__ import annotations

from mytensor.autograd import grad_mode
from mytensor.autograd.function import AccumulateGrad
from mytensor.cuda.graph_hooks import current_capture


def _accumulate(tensor, grad) -> None:
    # Out of place: a gradient object may be shared between several inputs of one backward.
    tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def run_backward(roots, root_grads, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Backpropagates ``root_grads`` from ``roots`` through the recorded graph.

    Nodes run in dependency order (Kahn's algorithm, no recursion, so depth is unbounded); each
    node's incoming gradients are summed in a buffer that is dropped once the node has run.
    """
    # Sinks and the nodes to start from. Nodes hash and compare by identity.
    buffers: dict = {}
    start = []
    seen = set()
    for t, g in zip(roots, root_grads):
        node = t.grad_fn
        if node is None:
            node, nr = AccumulateGrad(t), 0
        else:
            nr = t._output_nr
        _add_to_buffer(buffers, node, nr, g)
        if node not in seen:
            seen.add(node)
            start.append(node)

    # Count, for every reachable node, how many edges lead into it.
    deps: dict = {}
    stack = list(start)
    while stack:
        node = stack.pop()
        if type(node) is AccumulateGrad:
            continue
        for edge in node.edges:
            if edge is None:
                continue
            nxt = edge[0]
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)

    ready = [n for n in start if n not in deps]
    with grad_mode.enable_grad() if create_graph else grad_mode.no_grad():
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if type(node) is AccumulateGrad:
                if grads is not None:
                    _accumulate(node.leaf, grads[0])
                continue
            if grads is None:  # no gradient reached this node: release its inputs unvisited
                _release_edges(node, deps, ready)
                continue
            _run_node(node, grads, retain_graph, buffers, deps, ready)


def _release_edges(node, deps, ready) -> None:
    for edge in node.edges:
        if edge is not None:
            deps[edge[0]] -= 1
            if deps[edge[0]] == 0:
                ready.append(edge[0])


def _add_to_buffer(buffers, node, output_nr, grad) -> None:
    slot = buffers.get(node)
    if slot is None:
        n_out = 1 if isinstance(node, AccumulateGrad) else len(node.output_meta)
        slot = buffers[node] = [None] * n_out
    slot[output_nr] = grad if slot[output_nr] is None else slot[output_nr] + grad


def _run_node(node, grads, retain_graph, buffers, deps, ready) -> None:
    if any(g is None for g in grads):  # outputs that received no gradient contribute zeros
        from mytensor.creation import zeros

        grads = [
            g if g is not None else zeros(shape, dtype=dtype, device=device)
            for g, (shape, dtype, device) in zip(grads, node.output_meta)
        ]
    if node.retained:
        for nr, ref in node.retained.items():
            t = ref()
            if t is not None:
                _accumulate(t, grads[nr])
    if node.ctx._freed:
        _ = node.ctx.saved_tensors  # raises the "backward through the graph a second time" error
    result = node.fn.backward(node.ctx, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) < len(node.edges):
        raise RuntimeError(
            f"[{node.name()}] backward returned {len(result)} gradients, expected "
            f"{len(node.edges)} (one per positional input of forward)"
        )
    for i, (edge, g) in enumerate(zip(node.edges, result)):
        if edge is None:
            continue
        if g is not None:
            shape, dtype, device = node.input_meta[i]
            if g.shape != shape or g.dtype is not dtype or g.device != device:
                raise RuntimeError(
                    f"[{node.name()}] returned an invalid gradient for input {i}: got shape "
                    f"{g.shape}, {g.dtype} on {g.device}, expected shape {shape}, {dtype} on "
                    f"{device}"
                )
            _add_to_buffer(buffers, edge[0], edge[1], g)
    _release_edges(node, deps, ready)
    if not retain_graph:
        node.ctx._free()


def zero_grads(params, set_to_none: bool = True) -> None:
    """Resets the ``.grad`` of every tensor in ``params``: to None (default), or to zeros in place
    (Module.zero_grad and Optimizer.zero_grad). Inside a CUDA-graph capture, the dropped
    gradients are reported so that the capture knows they are not read."""
    params = list(params)
    capture = current_capture() if set_to_none else None
    if capture is not None:
        capture.note_dropped_grads(params)
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            with grad_mode.no_grad():
                p.grad.zero_()
